package main

import (
	"strconv"
	"testing"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

const (
	path        = "/v1/auth/password"
	newPassword = "mauve-tractor-quietly-hums-9"
)

func newInvoker(t *testing.T, env *identitytest.Env) *identitytest.Invoker {
	t.Helper()
	h, err := NewHandler(env.Service(t, identity.FlowPassword))
	if err != nil {
		t.Fatal(err)
	}
	return identitytest.NewInvoker(functionName, h.Handle)
}

func body(current, next string) string {
	return `{"currentPassword":` + strconv.Quote(current) + `,"newPassword":` + strconv.Quote(next) + `}`
}

func TestChangePassword(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "jane.doe@example.com", DisplayName: "Jane Doe"})
	current := env.Login(t, u.Email, identitytest.Password, "192.0.2.1")
	other := env.Login(t, u.Email, identitytest.Password, "192.0.2.2")
	p := env.Principal(t, current.AccessToken)

	tests := []struct {
		name, body string
		principal  bool
		status     int
		code       string
		field      string
	}{
		{"no principal", body(identitytest.Password, newPassword), false, 401, "unauthorized", ""},
		{"wrong current password", body("not-the-password", newPassword), true, 403, "invalid_credentials", ""},
		{"weak new password", body(identitytest.Password, "password1234"), true, 400, "validation_failed", "newPassword"},
		{"new password from the email", body(identitytest.Password, "xx-jane.doe-xx-91!"), true, 400, "validation_failed", "newPassword"},
		{"missing current password", `{"newPassword":"` + newPassword + `"}`, true, 400, "validation_failed", "currentPassword"},
		{"mass assignment", `{"currentPassword":"a","newPassword":"b","passwordHash":"$argon2id$..."}`, true, 400, "invalid_body", "passwordHash"},
		{"changed", body(identitytest.Password, newPassword), true, 204, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := identitytest.Request(path, tc.body, "192.0.2.1")
			if tc.principal {
				req = apigwtest.WithPrincipal(req, p)
			}
			resp := inv.Invoke(t, req)
			apigwtest.AssertSecurityHeaders(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.status == 204 {
				return
			}
			e := apigwtest.DecodeError(t, resp)
			if e.Code != tc.code || (tc.field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != tc.field)) {
				t.Errorf("error %+v", e)
			}
			identitytest.AssertNoLeak(t, "body", resp.Body, identitytest.Password, newPassword, "password1234")
		})
	}
	if !env.SessionLive(t, u.ID, p.SessionID) {
		t.Error("the calling session was revoked")
	}
	if env.SessionLive(t, u.ID, env.Principal(t, other.AccessToken).SessionID) {
		t.Error("another session survived the change")
	}
	env.Login(t, u.Email, newPassword, "192.0.2.3")
	if n := len(env.Audit.Find("auth.password.changed")); n != 1 {
		t.Errorf("%d changes audited", n)
	}
	if n := len(env.Audit.Find("auth.password.failed")); n != 1 {
		t.Errorf("%d failures audited", n)
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), identitytest.Password, newPassword, "password1234")
}

func TestChangePasswordThrottled(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "stolen-token@example.org"})
	p := env.Principal(t, env.Login(t, u.Email, identitytest.Password, "192.0.2.1").AccessToken)
	limit := identity.RateLimitPolicies()[identity.ScopePasswordChange].Limit
	for i := range limit {
		resp := inv.Invoke(t, apigwtest.WithPrincipal(identitytest.Request(path, body("guess-"+strconv.Itoa(i), newPassword), "203.0.113.1"), p))
		if resp.StatusCode != 403 {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	resp := inv.Invoke(t, apigwtest.WithPrincipal(identitytest.Request(path, body(identitytest.Password, newPassword), "203.0.113.1"), p))
	if resp.StatusCode != 429 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("%d %v, want 429 with Retry-After", resp.StatusCode, resp.Headers)
	}
}

func TestNewHandlerRefusesNil(t *testing.T) {
	if _, err := NewHandler(nil); err == nil {
		t.Fatal("NewHandler(nil) succeeded")
	}
}

func TestSampleEvents(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/"+functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			resp := inv.Invoke(t, ev.Request)
			if resp.StatusCode >= 500 || resp.StatusCode < 200 {
				t.Fatalf("%s: %d %s", ev.Path, resp.StatusCode, resp.Body)
			}
			apigwtest.AssertSecurityHeaders(t, resp)
		})
	}
}
