package main

import (
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

const path = "/v1/auth/logout"

func newInvoker(t *testing.T, env *identitytest.Env) *identitytest.Invoker {
	t.Helper()
	h, err := NewHandler(env.Service(t, identity.FlowLogout))
	if err != nil {
		t.Fatal(err)
	}
	return identitytest.NewInvoker(functionName, h.Handle)
}

func TestLogout(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	refresher := env.Service(t, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "leaving@example.org"})
	here := env.Login(t, u.Email, identitytest.Password, "192.0.2.1")
	there := env.Login(t, u.Email, identitytest.Password, "192.0.2.2")
	p := env.Principal(t, here.AccessToken)

	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		code   string
	}{
		{"no principal", identitytest.Request(path, "", "192.0.2.1"), 401, "unauthorized"},
		{"malformed principal", apigwtest.WithPrincipal(identitytest.Request(path, "", "192.0.2.1"), apigw.Principal{UserID: "usr_x", Role: "intern", SessionID: p.SessionID}), 401, "unauthorized"},
		{"wrong method", func() events.APIGatewayProxyRequest {
			r := apigwtest.WithPrincipal(identitytest.Request(path, "", "192.0.2.1"), p)
			r.HTTPMethod = http.MethodDelete
			return r
		}(), 405, "method_not_allowed"},
		{"logout", apigwtest.WithPrincipal(identitytest.Request(path, "", "192.0.2.1"), p), 204, ""},
		{"again: idempotent", apigwtest.WithPrincipal(identitytest.Request(path, "", "192.0.2.1"), p), 204, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := inv.Invoke(t, tc.req)
			apigwtest.AssertSecurityHeaders(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.status == 204 {
				if resp.Body != "" {
					t.Errorf("204 with body %q", resp.Body)
				}
				return
			}
			if e := apigwtest.DecodeError(t, resp); e.Code != tc.code {
				t.Errorf("code %s", e.Code)
			}
		})
	}
	if env.SessionLive(t, u.ID, p.SessionID) {
		t.Error("session live after logout")
	}
	if _, err := refresher.Refresh(t.Context(), identity.Meta{}, identity.RefreshRequest{RefreshToken: here.RefreshToken}); err == nil {
		t.Error("the logged-out session's refresh token still works")
	}
	if !env.SessionLive(t, u.ID, env.Principal(t, there.AccessToken).SessionID) {
		t.Error("logout revoked another session")
	}
	if n := len(env.Audit.Find("auth.logout")); n != 2 {
		t.Errorf("%d logouts audited, want 2", n)
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
