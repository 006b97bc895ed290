package main

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

const path = "/v1/auth/register"

func newInvoker(t *testing.T, env *identitytest.Env) *identitytest.Invoker {
	t.Helper()
	h, err := NewHandler(env.Service(t, identity.FlowRegister))
	if err != nil {
		t.Fatal(err)
	}
	return identitytest.NewInvoker(functionName, h.Handle)
}

func body(email, pw, name string) string {
	return `{"email":` + strconv.Quote(email) + `,"password":` + strconv.Quote(pw) + `,"displayName":` + strconv.Quote(name) + `}`
}

func TestRegister(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	env.CreateUser(t, identitytest.UserSpec{Email: "taken@example.org"})

	tests := []struct {
		name   string
		body   string
		mutate func(*events.APIGatewayProxyRequest)
		status int
		code   string
		fields map[string]string
	}{
		{name: "created", body: body("new@example.org", identitytest.Password, "New Intern"), status: 202},
		{name: "taken", body: body("taken@example.org", identitytest.Password, "Someone"), status: 202},
		{name: "weak password", body: body("weak@example.org", "password1234", "Weak"), status: 400, code: "validation_failed",
			fields: map[string]string{"password": "is too common"}},
		{name: "password from name", body: body("ann@example.org", "alexandra!2024xyz", "Alexandra Smith"), status: 400, code: "validation_failed",
			fields: map[string]string{"password": "must not contain your email or name"}},
		{name: "every field wrong", body: body("nope", "short", ""), status: 400, code: "validation_failed",
			fields: map[string]string{"email": "must be a valid email address, like name@example.com", "password": "must be at least 12 characters", "displayName": "is required"}},
		{name: "missing members", body: `{}`, status: 400, code: "validation_failed",
			fields: map[string]string{"email": "is required", "password": "must be at least 12 characters", "displayName": "is required"}},
		{name: "mass assignment: role", body: `{"email":"x@example.org","password":"quartz-lantern-Oasis-plum-47","displayName":"X","role":"admin"}`, status: 400, code: "invalid_body",
			fields: map[string]string{"role": "is not an accepted field"}},
		{name: "mass assignment: orgId", body: `{"email":"x@example.org","password":"quartz-lantern-Oasis-plum-47","displayName":"X","orgId":"org_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`, status: 400, code: "invalid_body",
			fields: map[string]string{"orgId": "is not an accepted field"}},
		{name: "null member", body: `{"email":null,"password":"quartz-lantern-Oasis-plum-47","displayName":"X"}`, status: 400, code: "invalid_body",
			fields: map[string]string{"email": "must not be null"}},
		{name: "no body", body: "", status: 400, code: "bad_request"},
		{name: "text/plain", body: body("x@example.org", identitytest.Password, "X"), mutate: func(r *events.APIGatewayProxyRequest) { r.Headers["Content-Type"] = "text/plain" }, status: 415, code: "unsupported_media_type"},
		{name: "GET", body: "", mutate: func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = http.MethodGet }, status: 405, code: "method_not_allowed"},
	}
	var accepted string
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := identitytest.Request(path, tc.body, "198.51.100."+strconv.Itoa(i+1))
			if tc.mutate != nil {
				tc.mutate(&req)
			}
			resp := inv.Invoke(t, req)
			apigwtest.AssertSecurityHeaders(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.status == 202 {
				got := identitytest.DecodeJSON[identity.Accepted](t, resp.Body)
				if got.Status != "accepted" || got.Message == "" {
					t.Errorf("body %s", resp.Body)
				}
				if accepted == "" {
					accepted = resp.Body
				} else if resp.Body != accepted {
					t.Errorf("a taken email answers %s, a new one %s", resp.Body, accepted)
				}
				return
			}
			e := apigwtest.DecodeError(t, resp)
			if e.Code != tc.code {
				t.Errorf("code %s, want %s", e.Code, tc.code)
			}
			got := map[string]string{}
			for _, f := range e.Fields {
				got[f.Field] = f.Reason
			}
			if len(got) != len(tc.fields) {
				t.Errorf("fields %v, want %v", got, tc.fields)
			}
			for f, reason := range tc.fields {
				if got[f] != reason {
					t.Errorf("%s: %q, want %q", f, got[f], reason)
				}
			}
			identitytest.AssertNoLeak(t, "body", resp.Body, identitytest.Password, "password1234", "alexandra!2024xyz")
		})
	}
	if _, err := env.Store.GetUserByEmail(t.Context(), "new@example.org"); err != nil {
		t.Errorf("created user missing: %v", err)
	}
	if n := len(env.Audit.Find("auth.register.duplicate")); n != 1 {
		t.Errorf("%d duplicate registrations audited, want 1", n)
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), identitytest.Password, "password1234", "alexandra!2024xyz")
}

func TestRegisterThrottled(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	limit := identity.RateLimitPolicies()[identity.ScopeRegisterIP].Limit
	for i := range limit {
		resp := inv.Invoke(t, identitytest.Request(path, body("u"+strconv.Itoa(i)+"@example.org", identitytest.Password, "U"), "203.0.113.20"))
		if resp.StatusCode != 202 {
			t.Fatalf("registration %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	resp := inv.Invoke(t, identitytest.Request(path, body("last@example.org", identitytest.Password, "U"), "203.0.113.20"))
	if resp.StatusCode != 429 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("%d %v %s, want 429 with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
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
