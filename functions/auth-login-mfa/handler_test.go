package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

const path = "/v1/auth/login/mfa"

type fixture struct {
	env    *identitytest.Env
	inv    *identitytest.Invoker
	login  *identity.Service
	email  string
	secret string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	env := identitytest.New(t, identitytest.WithKMS())
	h, err := NewHandler(env.Service(t, identity.FlowLoginMFA))
	if err != nil {
		t.Fatal(err)
	}
	admin := env.CreateUser(t, identitytest.UserSpec{Email: "root@example.org", Role: apigw.RoleAdmin})
	return fixture{
		env: env, inv: identitytest.NewInvoker(functionName, h.Handle), login: env.Service(t, identity.FlowLogin),
		email: admin.Email, secret: env.EnableTOTP(t, admin.ID),
	}
}

func (f fixture) challenge(t *testing.T) string {
	t.Helper()
	res, err := f.login.Login(t.Context(), identity.Meta{SourceIP: "192.0.2.1"}, identity.LoginRequest{Email: f.email, Password: identitytest.Password})
	if err != nil || res.Challenge == nil {
		t.Fatalf("password step: %v", err)
	}
	return res.Challenge.Challenge
}

func body(challenge, code string) string {
	return `{"challenge":` + strconv.Quote(challenge) + `,"code":` + strconv.Quote(code) + `}`
}

func TestLoginMFA(t *testing.T) {
	f := newFixture(t)
	ch := f.challenge(t)
	code := f.env.TOTPCode(t, f.secret)
	resp := f.inv.Invoke(t, identitytest.Request(path, body(ch, code), "192.0.2.1"))
	apigwtest.AssertSecurityHeaders(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	tok := identitytest.DecodeJSON[identity.Tokens](t, resp.Body)
	if p := f.env.Principal(t, tok.AccessToken); p.Role != apigw.RoleAdmin || tok.ExpiresIn != 900 {
		t.Errorf("principal %+v, tokens %v", p, tok)
	}
	identitytest.AssertNoLeak(t, "logs", f.inv.Logs.String(), ch, code, f.secret, tok.AccessToken, tok.RefreshToken)

	// The same challenge and code again: spent.
	again := f.inv.Invoke(t, identitytest.Request(path, body(ch, code), "192.0.2.1"))
	if again.StatusCode != 401 || apigwtest.DecodeError(t, again).Code != "invalid_credentials" {
		t.Errorf("replay: %d %s", again.StatusCode, again.Body)
	}
}

func TestLoginMFARefusals(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		body   func() string
		status int
		code   string
		field  string
	}{
		{"wrong code", func() string { return body(f.challenge(t), wrongCode(f.env.TOTPCode(t, f.secret))) }, 401, "invalid_credentials", ""},
		{"unknown challenge", func() string { return body("mfa_"+strings.Repeat("A", 43), "123456") }, 401, "invalid_credentials", ""},
		{"refresh token as challenge", func() string { return body("rt_"+strings.Repeat("A", 43), "123456") }, 401, "invalid_credentials", ""},
		{"code not six digits", func() string { return body(f.challenge(t), "12345") }, 400, "validation_failed", "code"},
		{"code as number", func() string { return `{"challenge":"mfa_x","code":123456}` }, 400, "invalid_body", "code"},
		{"missing challenge", func() string { return `{"code":"123456"}` }, 400, "validation_failed", "challenge"},
		{"overlong challenge", func() string { return body("mfa_"+strings.Repeat("A", 200), "123456") }, 400, "validation_failed", "challenge"},
		{"extra member", func() string {
			return `{"challenge":"mfa_x","code":"123456","userId":"usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`
		}, 400, "invalid_body", "userId"},
	}
	var unauthorized string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.inv.Invoke(t, identitytest.Request(path, tc.body(), "192.0.2.2"))
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			e := apigwtest.DecodeError(t, resp)
			if e.Code != tc.code || (tc.field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != tc.field)) {
				t.Errorf("error %+v", e)
			}
			if tc.status == 401 {
				if unauthorized == "" {
					unauthorized = resp.Body
				} else if resp.Body != unauthorized {
					t.Errorf("401 bodies differ: %s vs %s", resp.Body, unauthorized)
				}
			}
		})
	}
	if n := len(f.env.Audit.Find("auth.mfa.failed")); n != 3 {
		t.Errorf("%d MFA failures audited, want 3", n)
	}
}

// wrongCode changes every digit of code, so it is certainly not valid.
func wrongCode(code string) string {
	b := []byte(code)
	for i := range b {
		b[i] = '0' + (b[i]-'0'+5)%10
	}
	return string(b)
}

func TestNewHandlerRefusesNil(t *testing.T) {
	if _, err := NewHandler(nil); err == nil {
		t.Fatal("NewHandler(nil) succeeded")
	}
}

func TestSampleEvents(t *testing.T) {
	f := newFixture(t)
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/"+functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			resp := f.inv.Invoke(t, ev.Request)
			if resp.StatusCode >= 500 || resp.StatusCode < 200 {
				t.Fatalf("%s: %d %s", ev.Path, resp.StatusCode, resp.Body)
			}
			apigwtest.AssertSecurityHeaders(t, resp)
		})
	}
}
