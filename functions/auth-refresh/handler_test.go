package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

const path = "/v1/auth/refresh"

func newInvoker(t *testing.T, env *identitytest.Env) *identitytest.Invoker {
	t.Helper()
	h, err := NewHandler(env.Service(t, identity.FlowRefresh))
	if err != nil {
		t.Fatal(err)
	}
	return identitytest.NewInvoker(functionName, h.Handle)
}

func body(rt string) string { return `{"refreshToken":` + strconv.Quote(rt) + `}` }

func TestRefreshRotationAndReuse(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "rotate@example.org"})
	first := env.Login(t, u.Email, identitytest.Password, "192.0.2.1")

	resp := inv.Invoke(t, identitytest.Request(path, body(first.RefreshToken), "192.0.2.1"))
	apigwtest.AssertSecurityHeaders(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	second := identitytest.DecodeJSON[identity.Tokens](t, resp.Body)
	if second.RefreshToken == first.RefreshToken || second.TokenType != "Bearer" || second.ExpiresIn != 900 {
		t.Errorf("tokens %v", second)
	}
	sid := env.Principal(t, second.AccessToken).SessionID

	// Reuse of the spent token: 401, and the family is revoked.
	reuse := inv.Invoke(t, identitytest.Request(path, body(first.RefreshToken), "203.0.113.5"))
	if reuse.StatusCode != 401 || apigwtest.DecodeError(t, reuse).Code != "invalid_credentials" {
		t.Fatalf("reuse: %d %s", reuse.StatusCode, reuse.Body)
	}
	if env.SessionLive(t, u.ID, sid) {
		t.Error("session live after reuse")
	}
	if n := len(env.Audit.Find("auth.refresh.reuse")); n != 1 {
		t.Errorf("%d reuses audited", n)
	}
	dead := inv.Invoke(t, identitytest.Request(path, body(second.RefreshToken), "192.0.2.1"))
	if dead.StatusCode != 401 || dead.Body != reuse.Body {
		t.Errorf("the family's newer token: %d %s", dead.StatusCode, dead.Body)
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), first.RefreshToken, second.RefreshToken, second.AccessToken)
	identitytest.AssertNoLeak(t, "bodies", reuse.Body+dead.Body, first.RefreshToken, second.RefreshToken)
}

func TestRefreshRefusals(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown token", body("rt_" + strings.Repeat("A", 43)), 401, "invalid_credentials"},
		{"malformed token", body("rt_short"), 401, "invalid_credentials"},
		{"access token instead", body("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"), 401, "invalid_credentials"},
		{"empty token", body(""), 400, "validation_failed"},
		{"overlong token", body(strings.Repeat("r", 129)), 400, "validation_failed"},
		{"extra member", `{"refreshToken":"rt_x","sessionId":"ses_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`, 400, "invalid_body"},
		{"wrong type", `{"refreshToken":true}`, 400, "invalid_body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := inv.Invoke(t, identitytest.Request(path, tc.body, "192.0.2.9"))
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if e := apigwtest.DecodeError(t, resp); e.Code != tc.code {
				t.Errorf("code %s, want %s", e.Code, tc.code)
			}
		})
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
