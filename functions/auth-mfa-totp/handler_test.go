package main

import (
	"bytes"
	"encoding/base32"
	"encoding/json/v2"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/store"
)

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	m, err := account.NewMFA(env.Store, env.Envelope(), env.Audit, env.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(m)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func enrol(t *testing.T, env *accounttest.Env, h *Handler, u store.User) (account.TOTPEnrollment, int, string) {
	t.Helper()
	resp := env.Serve(t, functionName, h.Handle, accounttest.Request(http.MethodPost, "/v1/auth/mfa/totp", "", accounttest.Principal(u, ids.New(ids.Session))))
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
	u := env.User(t)
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
		if strings.Contains(where, enr.Secret) {
			t.Fatal("the secret was logged or audited")
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
	env := accounttest.New(t)
	h := newHandler(t, env)
	admin := env.Admin(t)
	intern := env.User(t)
	sid := ids.New(ids.Session)
	ghost := apigw.Principal{UserID: ids.New(ids.User), Role: apigw.RoleIntern, SessionID: sid}
	tests := []struct {
		name       string
		method     string
		principal  *apigw.Principal
		body       string
		query      map[string]string
		wantStatus int
		wantCode   string
	}{
		{name: "already enabled", principal: ptr(accounttest.Principal(admin, sid)), wantStatus: 409, wantCode: "conflict"},
		{name: "no principal", wantStatus: 401, wantCode: "unauthorized"},
		{name: "user gone", principal: &ghost, wantStatus: 401, wantCode: "unauthorized"},
		{name: "body refused", principal: ptr(accounttest.Principal(intern, sid)), body: `{"secret":"JBSWY3DPEHPK3PXP"}`, wantStatus: 400, wantCode: "bad_request"},
		{name: "query refused", principal: ptr(accounttest.Principal(intern, sid)), query: map[string]string{"secret": "x"}, wantStatus: 400, wantCode: "validation_failed"},
		{name: "wrong method", method: http.MethodGet, principal: ptr(accounttest.Principal(intern, sid)), wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := apigwtest.NewRequest(method, "/v1/auth/mfa/totp", tt.body)
			if tt.principal != nil {
				req = apigwtest.WithPrincipal(req, *tt.principal)
			}
			req.QueryStringParameters = tt.query
			resp := env.Serve(t, functionName, h.Handle, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if got := apigwtest.DecodeError(t, resp).Code; got != tt.wantCode {
				t.Fatalf("code = %q, want %q", got, tt.wantCode)
			}
		})
	}
	// The admin's confirmed secret is untouched by the refused enrolment.
	got, _ := env.Store.GetUser(accounttest.Ctx(t), admin.ID)
	if !got.MFA.Enabled || !bytes.Equal(got.MFA.SecretCiphertext, admin.MFA.SecretCiphertext) || len(got.MFA.PendingCiphertext) != 0 {
		t.Fatalf("admin MFA changed: %+v", got.MFA)
	}
	if n := len(env.Audit.Entries()); n != 0 {
		t.Fatalf("refusals audited as enrolments: %+v", env.Audit.Entries())
	}
}

func ptr[T any](v T) *T { return &v }

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
				env.User(t, accounttest.WithID(p.UserID))
			}
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
