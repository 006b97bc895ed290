package main

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newMFA(t *testing.T, env *accounttest.Env) *account.MFA {
	t.Helper()
	m, err := account.NewMFA(env.Store, env.Envelope(), env.Audit, env.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	h, err := NewHandler(newMFA(t, env))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// enrolled starts an enrolment for u the way POST /v1/auth/mfa/totp does
// and returns the secret the user was shown.
func enrolled(t *testing.T, env *accounttest.Env, u store.User) string {
	t.Helper()
	return env.PendingTOTP(t, u.ID)
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := otptotp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func confirm(p apigw.Principal, body string) events.APIGatewayProxyRequest {
	return accounttest.Request(http.MethodPost, "/v1/auth/mfa/totp/confirm", body, p)
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name string
		// body builds the request body from the pending secret ("" when
		// the user has no enrolment).
		body        func(t *testing.T, env *accounttest.Env, secret string) string
		setup       func(t *testing.T, env *accounttest.Env, u store.User) (secret string)
		noAuth      bool
		wantStatus  int
		wantCode    string
		wantField   string
		wantEnabled bool
		wantAudit   string // the one audited action, "" for none
	}{
		{name: "current code", setup: enrolled,
			body: func(t *testing.T, env *accounttest.Env, s string) string {
				return `{"code":"` + code(t, s, env.Clock.Now()) + `"}`
			}, wantStatus: 204, wantEnabled: true, wantAudit: account.ActionMFAEnrolled},
		{name: "code of the previous step (clock skew)", setup: enrolled,
			body: func(t *testing.T, env *accounttest.Env, s string) string {
				return `{"code":"` + code(t, s, env.Clock.Now().Add(-totp.Period*time.Second)) + `"}`
			}, wantStatus: 204, wantEnabled: true, wantAudit: account.ActionMFAEnrolled},
		{name: "wrong code", setup: enrolled,
			body: func(t *testing.T, env *accounttest.Env, s string) string {
				return `{"code":"` + wrong(code(t, s, env.Clock.Now())) + `"}`
			}, wantStatus: 400, wantCode: "validation_failed", wantField: "code", wantAudit: account.ActionMFAFailed},
		{name: "expired code", setup: enrolled,
			body: func(t *testing.T, env *accounttest.Env, s string) string {
				return `{"code":"` + code(t, s, env.Clock.Now().Add(-5*time.Minute)) + `"}`
			}, wantStatus: 400, wantCode: "validation_failed", wantField: "code", wantAudit: account.ActionMFAFailed},
		{name: "code of a step already used", setup: func(t *testing.T, env *accounttest.Env, u store.User) string {
			s := enrolled(t, env, u)
			// An earlier code of this very step was accepted (e.g. a
			// concurrent confirmation): the same step must not pass again.
			if err := env.Store.UseMFAStep(accounttest.Ctx(t), u.ID, totp.Step(env.Clock.Now())); err != nil {
				t.Fatal(err)
			}
			return s
		}, body: func(t *testing.T, env *accounttest.Env, s string) string {
			return `{"code":"` + code(t, s, env.Clock.Now()) + `"}`
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "code", wantAudit: account.ActionMFAFailed},
		{name: "five digits", setup: enrolled, body: fixed(`{"code":"12345"}`), wantStatus: 400, wantCode: "validation_failed", wantField: "code"},
		{name: "seven digits", setup: enrolled, body: fixed(`{"code":"1234567"}`), wantStatus: 400, wantCode: "validation_failed", wantField: "code"},
		{name: "letters", setup: enrolled, body: fixed(`{"code":"12a456"}`), wantStatus: 400, wantCode: "validation_failed", wantField: "code"},
		{name: "empty", setup: enrolled, body: fixed(`{"code":""}`), wantStatus: 400, wantCode: "validation_failed", wantField: "code"},
		{name: "number not string", setup: enrolled, body: fixed(`{"code":123456}`), wantStatus: 400, wantCode: "invalid_body", wantField: "code"},
		{name: "unknown member", setup: enrolled, body: fixed(`{"code":"123456","enabled":true}`), wantStatus: 400, wantCode: "invalid_body", wantField: "enabled"},
		{name: "no body", setup: enrolled, body: fixed(``), wantStatus: 400, wantCode: "bad_request"},
		{name: "no enrolment", body: fixed(`{"code":"123456"}`), wantStatus: 409, wantCode: "conflict"},
		{name: "already enabled", setup: func(t *testing.T, env *accounttest.Env, u store.User) string {
			return env.EnableMFA(t, u.ID)
		}, body: func(t *testing.T, env *accounttest.Env, s string) string {
			return `{"code":"` + code(t, s, env.Clock.Now()) + `"}`
		}, wantStatus: 409, wantCode: "conflict", wantEnabled: true},
		{name: "pending secret moved from another user", setup: func(t *testing.T, env *accounttest.Env, u store.User) string {
			victim := env.User(t)
			s := enrolled(t, env, victim)
			v, _ := env.Store.GetUser(accounttest.Ctx(t), victim.ID)
			cur, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
			if _, err := env.Store.SetMFA(accounttest.Ctx(t), u.ID, store.MFA{PendingCiphertext: v.MFA.PendingCiphertext}, cur.Version); err != nil {
				t.Fatal(err)
			}
			return s
		}, body: func(t *testing.T, env *accounttest.Env, s string) string {
			return `{"code":"` + code(t, s, env.Clock.Now()) + `"}`
		}, wantStatus: 500, wantCode: "internal_error"},
		{name: "no principal", setup: enrolled, noAuth: true, body: fixed(`{"code":"123456"}`), wantStatus: 401, wantCode: "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			h := newHandler(t, env)
			u := env.User(t)
			var secret string
			if tt.setup != nil {
				secret = tt.setup(t, env, u)
			}
			before, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
			req := confirm(accounttest.Principal(u, ids.New(ids.Session)), tt.body(t, env, secret))
			if tt.noAuth {
				req.RequestContext.Authorizer = nil
			}
			resp := env.Serve(t, functionName, h.Handle, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				eb := apigwtest.DecodeError(t, resp)
				if eb.Code != tt.wantCode {
					t.Fatalf("code = %q, want %q", eb.Code, tt.wantCode)
				}
				if tt.wantField != "" && (len(eb.Fields) != 1 || eb.Fields[0].Field != tt.wantField) {
					t.Fatalf("fields = %+v, want %s", eb.Fields, tt.wantField)
				}
			}
			after, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
			if after.MFA.Enabled != tt.wantEnabled {
				t.Fatalf("enabled = %v, want %v", after.MFA.Enabled, tt.wantEnabled)
			}
			if tt.wantStatus == 204 {
				if !bytes.Equal(after.MFA.SecretCiphertext, before.MFA.PendingCiphertext) || len(after.MFA.PendingCiphertext) != 0 {
					t.Fatalf("after confirmation MFA = %+v; want the pending secret enabled and the pending slot cleared", after.MFA)
				}
				if after.MFA.LastStep <= before.MFA.LastStep {
					t.Fatal("the accepted code's step was not recorded")
				}
			} else if !tt.wantEnabled && !bytes.Equal(after.MFA.PendingCiphertext, before.MFA.PendingCiphertext) {
				t.Fatal("a refused confirmation changed the pending secret")
			}
			actions := env.Audit.Actions()
			if (tt.wantAudit == "") != (len(actions) == 0) || (tt.wantAudit != "" && (len(actions) != 1 || actions[0] != tt.wantAudit)) {
				t.Fatalf("audited %v, want %q", actions, tt.wantAudit)
			}
			if tt.wantAudit != "" {
				e := env.Audit.Entries()[0]
				if e.Actor != u.ID || e.Target != u.ID || e.RequestID != apigwtest.RequestID {
					t.Fatalf("audit entry = %+v", e)
				}
			}
			if secret != "" && (strings.Contains(env.Logs.String(), secret) || strings.Contains(resp.Body, secret)) {
				t.Fatal("the secret was logged or answered")
			}
		})
	}
}

func fixed(body string) func(*testing.T, *accounttest.Env, string) string {
	return func(*testing.T, *accounttest.Env, string) string { return body }
}

// wrong returns another six-digit code.
func wrong(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestConfirmReplayedCodeRefused(t *testing.T) {
	// The same valid code sent five times at once: the step is claimed
	// atomically, so exactly one confirmation succeeds.
	env := accounttest.New(t)
	h := newHandler(t, env)
	u := env.User(t)
	c := code(t, enrolled(t, env, u), env.Clock.Now())
	p := accounttest.Principal(u, ids.New(ids.Session))
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = env.Serve(t, functionName, h.Handle, confirm(p, `{"code":"`+c+`"}`)).StatusCode
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 204:
			ok++
		case 400, 409:
		default:
			t.Fatalf("statuses = %v", statuses)
		}
	}
	if ok != 1 {
		t.Fatalf("statuses = %v, want exactly one 204", statuses)
	}
	// And once more afterwards, now that MFA is on.
	if s := env.Serve(t, functionName, h.Handle, confirm(p, `{"code":"`+c+`"}`)).StatusCode; s != 409 {
		t.Fatalf("replay after enabling: status %d", s)
	}
	if n := len(env.Audit.Find(account.ActionMFAEnrolled)); n != 1 {
		t.Fatalf("%d enrolments audited", n)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/auth-mfa-totp-confirm") {
		t.Run(ev.Name, func(t *testing.T) {
			env := accounttest.New(t)
			p, err := apigw.PrincipalFrom(ev.Request)
			if err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			u := env.User(t, accounttest.WithID(p.UserID))
			enrolled(t, env, u)
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, ev.Request)
			// The sample's fixed code matches a fresh random secret with
			// negligible probability; either answer is a sane one.
			if resp.StatusCode != 400 && resp.StatusCode != 204 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
