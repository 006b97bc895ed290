package main

import (
	"bytes"
	"encoding/base32"
	"encoding/json/v2"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/store"
)

// userPassword is the seeded users' password; samplePassword the one in the
// sample event (events/auth-mfa-totp/enrol.json).
const (
	userPassword   = "correct horse battery staple"
	samplePassword = "correct horse battery staple 2026"
)

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	e, err := account.NewTOTPEnroller(env.Store, env.Envelope(), accounttest.Hasher(t), env.Limiter(t), env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(e)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func passwordBody(pw string) string {
	b, err := json.Marshal(map[string]string{"currentPassword": pw})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func enrol(t *testing.T, env *accounttest.Env, h *Handler, u store.User) (account.TOTPEnrollment, int, string) {
	t.Helper()
	req := accounttest.Request(http.MethodPost, "/v1/auth/mfa/totp", passwordBody(userPassword), accounttest.Principal(u, ids.New(ids.Session)))
	resp := env.Serve(t, functionName, h.Handle, req)
	var enr account.TOTPEnrollment
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(resp.Body), &enr, json.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("enrolment body %q: %v", resp.Body, err)
		}
	}
	return enr, resp.StatusCode, resp.Body
}

func TestEnrol(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	u := env.User(t, accounttest.WithPassword(t, userPassword))
	other := env.User(t)

	enr, status, body := enrol(t, env, h, u)
	if status != 200 {
		t.Fatalf("status = %d: %s", status, body)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(enr.Secret)
	if err != nil || len(raw) < 20 {
		t.Fatalf("secret %q is not 160-bit base32: %v", enr.Secret, err)
	}
	link, err := url.Parse(enr.OTPAuthURL)
	if err != nil || link.Scheme != "otpauth" || link.Host != "totp" || link.Query().Get("secret") != enr.Secret {
		t.Fatalf("otpauth URL %q does not carry the secret", enr.OTPAuthURL)
	}
	if !strings.Contains(link.Path, u.Email) {
		t.Fatalf("otpauth URL %q does not name the account", enr.OTPAuthURL)
	}

	stored, err := env.Store.GetUser(accounttest.Ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	pending := stored.MFA.PendingCiphertext
	switch {
	case stored.MFA.Enabled || len(stored.MFA.SecretCiphertext) != 0:
		t.Fatalf("enrolment enabled MFA before confirmation: %+v", stored.MFA)
	case len(pending) == 0:
		t.Fatal("no pending ciphertext stored")
	case bytes.Contains(pending, []byte(enr.Secret)), bytes.Contains(pending, raw):
		t.Fatal("the stored ciphertext contains the secret")
	}
	t.Run("opens only under its owner's context", func(t *testing.T) {
		tests := []struct {
			name    string
			encCtx  map[string]string
			wantErr error
		}{
			{"owner", account.TOTPEncryptionContext(u.ID), nil},
			{"another user", account.TOTPEncryptionContext(other.ID), keys.ErrInvalidCiphertext},
			{"another purpose", map[string]string{"userId": u.ID, "purpose": "cursor"}, keys.ErrInvalidCiphertext},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := env.Envelope().Open(accounttest.Ctx(t), pending, tt.encCtx)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == nil && string(got) != enr.Secret {
					t.Fatal("the ciphertext does not hold the returned secret")
				}
			})
		}
	})

	entries := env.Audit.Find(account.ActionMFAEnrolmentStarted)
	if len(entries) != 1 || entries[0].Actor != u.ID || entries[0].RequestID != apigwtest.RequestID {
		t.Fatalf("audit = %+v", env.Audit.Entries())
	}
	for _, where := range []string{env.Logs.String(), auditText(env)} {
		if strings.Contains(where, enr.Secret) || strings.Contains(where, userPassword) {
			t.Fatal("the secret or the password was logged or audited")
		}
	}

	t.Run("enrolling again replaces the pending secret", func(t *testing.T) {
		again, status, body := enrol(t, env, h, u)
		if status != 200 || again.Secret == enr.Secret {
			t.Fatalf("status = %d (%s), same secret: %v", status, body, again.Secret == enr.Secret)
		}
		now, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
		if bytes.Equal(now.MFA.PendingCiphertext, pending) {
			t.Fatal("pending ciphertext not replaced")
		}
	})
}

func auditText(env *accounttest.Env) string {
	b, _ := json.Marshal(env.Audit.Entries())
	return string(b)
}

func TestEnrolRefused(t *testing.T) {
	intern := func(t *testing.T, env *accounttest.Env) store.User {
		return env.User(t, accounttest.WithPassword(t, userPassword))
	}
	tests := []struct {
		name string
		// setup seeds the caller (nil: no principal at all).
		setup        func(t *testing.T, env *accounttest.Env) store.User
		method       string
		body         string
		contentType  string
		query        map[string]string
		wantStatus   int
		wantCode     string
		wantField    string
		wantAudit    []string
		wantFailures int
	}{
		{name: "wrong password", setup: intern, body: passwordBody("correct horse battery stapler"),
			wantStatus: 403, wantCode: "invalid_credentials", wantAudit: []string{account.ActionMFAFailed}, wantFailures: 1},
		{name: "already enabled", body: passwordBody(userPassword),
			setup: func(t *testing.T, env *accounttest.Env) store.User {
				u := intern(t, env)
				env.EnableMFA(t, u.ID)
				return u
			},
			wantStatus: 409, wantCode: "conflict"},
		{name: "already enabled, wrong password", body: passwordBody("guess"),
			setup: func(t *testing.T, env *accounttest.Env) store.User {
				u := intern(t, env)
				env.EnableMFA(t, u.ID)
				return u
			},
			wantStatus: 403, wantCode: "invalid_credentials", wantAudit: []string{account.ActionMFAFailed}, wantFailures: 1},
		{name: "throttled", body: passwordBody(userPassword),
			setup: func(t *testing.T, env *accounttest.Env) store.User {
				u := intern(t, env)
				for range 5 {
					if _, err := env.Limiter(t).Fail(accounttest.Ctx(t), identity.ScopePasswordChange, u.ID); err != nil {
						t.Fatal(err)
					}
				}
				return u
			},
			wantStatus: 429, wantCode: "rate_limited", wantAudit: []string{"auth.throttled"}, wantFailures: 5},
		{name: "missing currentPassword", setup: intern, body: `{}`, wantStatus: 400, wantCode: "validation_failed", wantField: "currentPassword"},
		{name: "empty currentPassword", setup: intern, body: `{"currentPassword":""}`, wantStatus: 400, wantCode: "validation_failed", wantField: "currentPassword"},
		{name: "currentPassword over 1024 characters", setup: intern, body: passwordBody(strings.Repeat("p", 1025)),
			wantStatus: 400, wantCode: "validation_failed", wantField: "currentPassword"},
		{name: "extra member", setup: intern, body: `{"currentPassword":"` + userPassword + `","secret":"JBSWY3DPEHPK3PXP"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "member in another case", setup: intern, body: `{"CurrentPassword":"` + userPassword + `"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "duplicate member", setup: intern, body: `{"currentPassword":"x","currentPassword":"` + userPassword + `"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "wrong type", setup: intern, body: `{"currentPassword":12345}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "null", setup: intern, body: `{"currentPassword":null}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "no body", setup: intern, wantStatus: 400, wantCode: "bad_request"},
		{name: "not JSON content", setup: intern, body: "currentPassword=" + userPassword, contentType: "application/x-www-form-urlencoded", wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "body too large", setup: intern, body: passwordBody(strings.Repeat("p", 70_000)), wantStatus: 413, wantCode: "payload_too_large"},
		{name: "query refused", setup: intern, body: passwordBody(userPassword), query: map[string]string{"secret": "x"}, wantStatus: 400, wantCode: "validation_failed"},
		{name: "wrong method", setup: intern, method: http.MethodGet, wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "no principal", body: passwordBody(userPassword), wantStatus: 401, wantCode: "unauthorized"},
		{name: "user gone", body: passwordBody(userPassword),
			setup: func(*testing.T, *accounttest.Env) store.User {
				return store.User{ID: ids.New(ids.User), Role: apigw.RoleIntern}
			},
			wantStatus: 401, wantCode: "unauthorized"},
		{name: "suspended", body: passwordBody(userPassword),
			setup: func(t *testing.T, env *accounttest.Env) store.User {
				return env.User(t, accounttest.WithPassword(t, userPassword), accounttest.Status(store.UserSuspended))
			},
			wantStatus: 401, wantCode: "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			h := newHandler(t, env)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := apigwtest.NewRequest(method, "/v1/auth/mfa/totp", tt.body)
			var u store.User
			if tt.setup != nil {
				u = tt.setup(t, env)
				req = apigwtest.WithPrincipal(req, accounttest.Principal(u, ids.New(ids.Session)))
			}
			if tt.contentType != "" {
				req.Headers["Content-Type"] = tt.contentType
			}
			req.QueryStringParameters = tt.query
			before, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)

			resp := env.Serve(t, functionName, h.Handle, req)

			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			eb := apigwtest.DecodeError(t, resp)
			if eb.Code != tt.wantCode {
				t.Fatalf("code = %q, want %q", eb.Code, tt.wantCode)
			}
			if tt.wantField != "" && (len(eb.Fields) != 1 || eb.Fields[0].Field != tt.wantField) {
				t.Fatalf("fields = %+v, want %s", eb.Fields, tt.wantField)
			}
			if ra := resp.Headers["Retry-After"]; (tt.wantStatus == 429) != (ra != "") {
				t.Fatalf("Retry-After = %q on a %d", ra, resp.StatusCode)
			}
			if strings.Contains(resp.Body, userPassword) || strings.Contains(env.Logs.String(), userPassword) || strings.Contains(auditText(env), userPassword) {
				t.Fatal("the password was echoed, logged or audited")
			}
			if got := env.Audit.Actions(); !slices.Equal(got, tt.wantAudit) {
				t.Fatalf("audit = %v, want %v", got, tt.wantAudit)
			}
			for _, e := range env.Audit.Entries() {
				if e.Actor != u.ID || e.RequestID != apigwtest.RequestID {
					t.Fatalf("audit entry = %+v", e)
				}
				if e.Action == account.ActionMFAFailed && e.Details["stage"] != "reauth" {
					t.Fatalf("failure entry = %+v", e)
				}
			}
			if u.ID != "" {
				d, err := env.Limiter(t).Check(accounttest.Ctx(t), identity.ScopePasswordChange, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Count != tt.wantFailures {
					t.Fatalf("counted failures = %d, want %d", d.Count, tt.wantFailures)
				}
			}
			// A refusal leaves the account as it was (an enabled secret
			// untouched, no pending one planted).
			after, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
			if after.Version != before.Version || !bytes.Equal(after.MFA.PendingCiphertext, before.MFA.PendingCiphertext) ||
				!bytes.Equal(after.MFA.SecretCiphertext, before.MFA.SecretCiphertext) || after.MFA.Enabled != before.MFA.Enabled {
				t.Fatalf("account changed: %+v -> %+v", before.MFA, after.MFA)
			}
		})
	}
}

// TestSampleEvents runs every sample event through the handler, its caller
// seeded with the event's password.
func TestSampleEvents(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/auth-mfa-totp") {
		t.Run(ev.Name, func(t *testing.T) {
			p, err := apigw.PrincipalFrom(ev.Request)
			if err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			if _, err := env.Store.GetUser(accounttest.Ctx(t), p.UserID); err != nil {
				env.User(t, accounttest.WithID(p.UserID), accounttest.WithPassword(t, samplePassword))
			}
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
