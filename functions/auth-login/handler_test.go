package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/store"
)

const path = "/v1/auth/login"

func newInvoker(t *testing.T, env *identitytest.Env) *identitytest.Invoker {
	t.Helper()
	h, err := NewHandler(env.Service(t, identity.FlowLogin))
	if err != nil {
		t.Fatal(err)
	}
	return identitytest.NewInvoker(functionName, h.Handle)
}

func body(email, pw string) string {
	return `{"email":` + strconv.Quote(email) + `,"password":` + strconv.Quote(pw) + `}`
}

func TestLogin(t *testing.T) {
	env := identitytest.New(t, identitytest.WithKMS())
	inv := newInvoker(t, env)
	intern := env.CreateUser(t, identitytest.UserSpec{Email: "intern@example.org"})
	env.CreateUser(t, identitytest.UserSpec{Email: "admin@example.org", Role: apigw.RoleAdmin})
	mfa := env.CreateUser(t, identitytest.UserSpec{Email: "mfa@example.org", Role: apigw.RoleAdmin})
	env.EnableTOTP(t, mfa.ID)
	env.CreateUser(t, identitytest.UserSpec{Email: "suspended@example.org", Status: store.UserSuspended})

	tests := []struct {
		name      string
		body      string
		mutate    func(*events.APIGatewayProxyRequest)
		status    int
		code      string
		wantField string
	}{
		{name: "tokens", body: body("Intern@Example.org", identitytest.Password), status: 200},
		{name: "mfa challenge", body: body("mfa@example.org", identitytest.Password), status: 200},
		{name: "wrong password", body: body("intern@example.org", "wrong-password-1"), status: 401, code: "invalid_credentials"},
		{name: "unknown email", body: body("nobody@example.org", "wrong-password-1"), status: 401, code: "invalid_credentials"},
		{name: "suspended", body: body("suspended@example.org", identitytest.Password), status: 401, code: "invalid_credentials"},
		{name: "admin without mfa", body: body("admin@example.org", identitytest.Password), status: 403, code: "mfa_required"},
		{name: "missing password", body: `{"email":"intern@example.org"}`, status: 400, code: "validation_failed", wantField: "password"},
		{name: "mass assignment", body: `{"email":"intern@example.org","password":"x","role":"admin"}`, status: 400, code: "invalid_body", wantField: "role"},
		{name: "case-mismatched member", body: `{"Email":"intern@example.org","password":"x"}`, status: 400, code: "invalid_body", wantField: "Email"},
		{name: "duplicate member", body: `{"email":"a@example.org","email":"intern@example.org","password":"x"}`, status: 400, code: "invalid_body", wantField: "email"},
		{name: "number for a string", body: `{"email":"intern@example.org","password":12345678901234}`, status: 400, code: "invalid_body", wantField: "password"},
		{name: "array body", body: `[]`, status: 400, code: "invalid_body"},
		{name: "trailing data", body: body("intern@example.org", "x") + `{}`, status: 400, code: "invalid_body"},
		{name: "form content type", body: body("intern@example.org", "x"), mutate: func(r *events.APIGatewayProxyRequest) {
			r.Headers["Content-Type"] = "application/x-www-form-urlencoded"
		}, status: 415, code: "unsupported_media_type"},
		{name: "wrong method", body: "", mutate: func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = http.MethodGet }, status: 405, code: "method_not_allowed"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := identitytest.Request(path, tc.body, "198.51.100."+strconv.Itoa(i+1))
			if tc.mutate != nil {
				tc.mutate(&req)
			}
			resp := inv.Invoke(t, req)
			apigwtest.AssertSecurityHeaders(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d body %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			identitytest.AssertNoLeak(t, "body", resp.Body, identitytest.Password, "wrong-password-1")
			if tc.status == 200 {
				return
			}
			e := apigwtest.DecodeError(t, resp)
			if e.Code != tc.code || e.RequestID != apigwtest.RequestID {
				t.Errorf("error %+v, want code %s", e, tc.code)
			}
			if tc.wantField != "" && (len(e.Fields) == 0 || e.Fields[0].Field != tc.wantField) {
				t.Errorf("fields %+v, want %s", e.Fields, tc.wantField)
			}
		})
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), identitytest.Password, "wrong-password-1")
	if n := len(env.Audit.Find("auth.login.succeeded")); n != 1 {
		t.Errorf("%d successful logins audited, want 1 (%s)", n, intern.ID)
	}
}

func TestLoginResponseShapes(t *testing.T) {
	env := identitytest.New(t, identitytest.WithKMS())
	inv := newInvoker(t, env)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "shape@example.org"})
	mfa := env.CreateUser(t, identitytest.UserSpec{Email: "shape-mfa@example.org"})
	env.EnableTOTP(t, mfa.ID)

	resp := inv.Invoke(t, identitytest.Request(path, body(u.Email, identitytest.Password), "198.51.100.50"))
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Headers)
	}
	tok := identitytest.DecodeJSON[identity.Tokens](t, resp.Body)
	if tok.TokenType != "Bearer" || tok.ExpiresIn < 600 || tok.ExpiresIn > 900 || tok.RefreshExpiresIn < 1 {
		t.Errorf("tokens %v", tok)
	}
	for _, member := range []string{`"accessToken"`, `"tokenType"`, `"expiresIn"`, `"refreshToken"`, `"refreshExpiresIn"`} {
		if !strings.Contains(resp.Body, member) {
			t.Errorf("body lacks %s", member)
		}
	}
	if p := env.Principal(t, tok.AccessToken); p.UserID != u.ID {
		t.Errorf("token for %s", p.UserID)
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), tok.AccessToken, tok.RefreshToken)

	resp = inv.Invoke(t, identitytest.Request(path, body(mfa.Email, identitytest.Password), "198.51.100.51"))
	ch := identitytest.DecodeJSON[identity.MFAChallenge](t, resp.Body)
	if resp.StatusCode != 200 || !ch.MFARequired || ch.ExpiresIn != 300 || !strings.HasPrefix(ch.Challenge, "mfa_") {
		t.Errorf("challenge %d %s", resp.StatusCode, resp.Body)
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), ch.Challenge)
}

func TestLoginSameAnswerForUnknownAndWrong(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	env.CreateUser(t, identitytest.UserSpec{Email: "exists@example.org"})

	wrong := inv.Invoke(t, identitytest.Request(path, body("exists@example.org", "wrong-password-1"), "198.51.100.60"))
	before := env.Hasher.Counts().DummyVerify
	unknown := inv.Invoke(t, identitytest.Request(path, body("missing@example.org", "wrong-password-1"), "198.51.100.61"))
	if env.Hasher.Counts().DummyVerify != before+1 {
		t.Error("unknown email did not run DummyVerify")
	}
	if wrong.StatusCode != 401 || wrong.StatusCode != unknown.StatusCode || wrong.Body != unknown.Body {
		t.Fatalf("answers differ:\n%d %s\n%d %s", wrong.StatusCode, wrong.Body, unknown.StatusCode, unknown.Body)
	}
	for k, v := range wrong.Headers {
		if unknown.Headers[k] != v {
			t.Errorf("header %s: %q vs %q", k, v, unknown.Headers[k])
		}
	}
	if len(wrong.Headers) != len(unknown.Headers) {
		t.Errorf("headers differ: %v vs %v", wrong.Headers, unknown.Headers)
	}
}

func TestLoginThrottled(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	env.CreateUser(t, identitytest.UserSpec{Email: "hammered@example.org"})
	limit := identity.RateLimitPolicies()[identity.ScopeLoginAccountIP].Limit
	for range limit {
		if resp := inv.Invoke(t, identitytest.Request(path, body("hammered@example.org", "guess-guess-1"), "203.0.113.9")); resp.StatusCode != 401 {
			t.Fatalf("guess: %d", resp.StatusCode)
		}
	}
	resp := inv.Invoke(t, identitytest.Request(path, body("hammered@example.org", "guess-guess-1"), "203.0.113.9"))
	if resp.StatusCode != 429 || apigwtest.DecodeError(t, resp).Code != "rate_limited" {
		t.Fatalf("%d %s, want 429", resp.StatusCode, resp.Body)
	}
	if s, err := strconv.Atoi(resp.Headers["Retry-After"]); err != nil || s < 1 {
		t.Errorf("Retry-After %q", resp.Headers["Retry-After"])
	}
	// The owner elsewhere is unaffected.
	if resp := inv.Invoke(t, identitytest.Request(path, body("hammered@example.org", identitytest.Password), "198.51.100.99")); resp.StatusCode != 200 {
		t.Errorf("owner: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestLoginInternalErrorSaysNothing(t *testing.T) {
	env := identitytest.New(t)
	broken, err := store.New(env.DB, "no-such-table")
	if err != nil {
		t.Fatal(err)
	}
	deps := env.Deps()
	deps.Store = broken
	svc, err := identity.New(deps, identity.FlowLogin)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(svc)
	if err != nil {
		t.Fatal(err)
	}
	inv := identitytest.NewInvoker(functionName, h.Handle)
	resp := inv.Invoke(t, identitytest.Request(path, body("a@example.org", identitytest.Password), "198.51.100.70"))
	if resp.StatusCode != 500 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	if e := apigwtest.DecodeError(t, resp); e.Code != "internal_error" || len(e.Fields) != 0 {
		t.Errorf("error %+v", e)
	}
	identitytest.AssertNoLeak(t, "body", resp.Body, identitytest.Password)
	if !strings.Contains(inv.Logs.String(), "ResourceNotFoundException") {
		t.Error("the cause was not logged")
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
	env.CreateUser(t, identitytest.UserSpec{Email: "ada.lovelace@example.org"})
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
