package main

import (
	"testing"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

const path = "/v1/auth/logout-all"

func newInvoker(t *testing.T, env *identitytest.Env) *identitytest.Invoker {
	t.Helper()
	h, err := NewHandler(env.Service(t, identity.FlowLogout))
	if err != nil {
		t.Fatal(err)
	}
	return identitytest.NewInvoker(functionName, h.Handle)
}

func TestLogoutAll(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	refresher := env.Service(t, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "everywhere@example.org"})
	other := env.CreateUser(t, identitytest.UserSpec{Email: "unrelated@example.org"})
	var toks []identity.Tokens
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		toks = append(toks, env.Login(t, u.Email, identitytest.Password, ip))
	}
	otherTok := env.Login(t, other.Email, identitytest.Password, "192.0.2.4")
	p := env.Principal(t, toks[1].AccessToken)

	if resp := inv.Invoke(t, identitytest.Request(path, "", "192.0.2.2")); resp.StatusCode != 401 {
		t.Fatalf("without principal: %d", resp.StatusCode)
	}
	resp := inv.Invoke(t, apigwtest.WithPrincipal(identitytest.Request(path, "", "192.0.2.2"), p))
	apigwtest.AssertSecurityHeaders(t, resp)
	if resp.StatusCode != 204 || resp.Body != "" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Body)
	}
	for i, tok := range toks {
		if env.SessionLive(t, u.ID, env.Principal(t, tok.AccessToken).SessionID) {
			t.Errorf("session %d live", i)
		}
		if _, err := refresher.Refresh(t.Context(), identity.Meta{}, identity.RefreshRequest{RefreshToken: tok.RefreshToken}); err == nil {
			t.Errorf("refresh token %d still works", i)
		}
	}
	if !env.SessionLive(t, other.ID, env.Principal(t, otherTok.AccessToken).SessionID) {
		t.Error("another user's session was revoked")
	}
	es := env.Audit.Find("auth.logout_all")
	if len(es) != 1 || es[0].Details["revoked"] != "3" || es[0].Actor != u.ID {
		t.Errorf("audit %+v", es)
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
