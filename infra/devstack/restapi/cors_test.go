package restapi

import (
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/template"
)

func TestCORSPreflight(t *testing.T) {
	preflightHeaders := map[string][]string{"Origin": {"http://localhost:5173"}, "Access-Control-Request-Method": {"POST"}}
	tests := []struct {
		name        string
		file        string
		env         template.Env
		path        string
		headers     map[string][]string
		wantStatus  int
		wantHeaders map[string]string
		wantCalls   int
	}{
		{
			name: "declared path answers without function or authorizer", file: "api.yaml", path: "/v1/users/u1", headers: preflightHeaders,
			wantStatus: 200, wantHeaders: map[string]string{
				"Access-Control-Allow-Origin":  "http://localhost:5173",
				"Access-Control-Allow-Methods": "GET,POST,PUT,OPTIONS",
				"Access-Control-Allow-Headers": "Authorization,Content-Type",
				"Access-Control-Max-Age":       "600",
			},
		},
		{
			name: "AllowOrigin !Sub resolves through Env", file: "api.yaml", env: template.Env{Params: map[string]string{"AllowedOrigins": "https://app.example"}},
			path: "/v1/health", wantStatus: 200, wantHeaders: map[string]string{"Access-Control-Allow-Origin": "https://app.example"},
		},
		{
			name: "answered even without preflight request headers", file: "api.yaml", path: "/v1/files/a/b",
			wantStatus: 200, wantHeaders: map[string]string{"Access-Control-Allow-Origin": "http://localhost:5173"},
		},
		{name: "undeclared path", file: "api.yaml", path: "/v1/nope", headers: preflightHeaders, wantStatus: 403},
		{name: "intermediate resource", file: "api.yaml", path: "/v1/users", headers: preflightHeaders, wantStatus: 403},
		{
			name: "default authorizer guards the preflight unless disabled", file: "cors-default-auth.yaml", path: "/widgets", headers: preflightHeaders,
			wantStatus: 401,
		},
		{
			name: "guarded preflight with a valid token, computed AllowMethods", file: "cors-default-auth.yaml", path: "/widgets",
			headers: map[string][]string{"X-Token": {"tok-ok"}}, wantStatus: 200, wantCalls: 1,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET,OPTIONS,POST",
				"Access-Control-Allow-Headers": "", "Access-Control-Max-Age": ""},
		},
		{
			name: "ANY expands to every method", file: "cors-default-auth.yaml", path: "/things/1",
			headers: map[string][]string{"X-Token": {"tok-ok"}}, wantStatus: 200, wantCalls: 1,
			wantHeaders: map[string]string{"Access-Control-Allow-Methods": "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.set("AuthFunction", policy("u", nil, stmt("Allow", "*")))
			inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 500})
			g := newTestGateway(t, tc.file, inv, func(c *Config) { c.Env = tc.env })
			rec := do(g, req{method: http.MethodOptions, target: tc.path, headers: tc.headers})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
			}
			for k, want := range tc.wantHeaders {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if n := inv.total(); n != tc.wantCalls {
				t.Errorf("%d invocations, want %d", n, tc.wantCalls)
			}
			if header(rec, "x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
		})
	}
}

func TestCORSDoesNotTouchOtherResponses(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("HealthFunction", respond(events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Access-Control-Allow-Origin": "https://fn.example"}}))
	g := newTestGateway(t, "api.yaml", inv, nil)
	rec := do(g, req{target: "/v1/health", headers: map[string][]string{"Origin": {"http://localhost:5173"}}})
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://fn.example" {
		t.Errorf("non-preflight Access-Control-Allow-Origin = %q, want the function's own", got)
	}
	rec = do(g, req{target: "/v1/nope", headers: map[string][]string{"Origin": {"http://localhost:5173"}}})
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("gateway error carries Access-Control-Allow-Origin %q; API Gateway adds none unless GatewayResponses say so", got)
	}
}
