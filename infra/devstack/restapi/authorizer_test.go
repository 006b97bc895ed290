package restapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
)

// The methodArn prefix of api.yaml's gateway in tests.
const arnPrefix = "arn:aws:execute-api:eu-west-1:111122223333:abcde12345/test/"

func TestAuthorizerDecisions(t *testing.T) {
	tests := []struct {
		name       string
		auth       handlerFunc
		method     string
		path       string
		headers    map[string][]string
		wantStatus int
		wantBody   string
		// wantAuthCalls is how often the authorizer must have run.
		wantAuthCalls int
		wantHandler   bool
	}{
		{name: "missing identity header", auth: policy("u", nil, stmt("Allow", "*")), path: "/v1/users/u1",
			wantStatus: 401, wantBody: `{"message":"Unauthorized"}`, wantAuthCalls: 0},
		{name: "empty identity header", auth: policy("u", nil, stmt("Allow", "*")), path: "/v1/users/u1",
			headers: map[string][]string{"Authorization": {""}}, wantStatus: 401, wantBody: `{"message":"Unauthorized"}`, wantAuthCalls: 0},
		{name: "authorizer says Unauthorized", auth: functionError("Unauthorized", "errorString"), path: "/v1/users/u1", headers: bearer,
			wantStatus: 401, wantBody: `{"message":"Unauthorized"}`, wantAuthCalls: 1},
		{name: "other authorizer error", auth: functionError("unauthorized", "errorString"), path: "/v1/users/u1", headers: bearer,
			wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "authorizer crashed", auth: fail(lambdart.ErrCrashed), path: "/v1/users/u1", headers: bearer,
			wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "authorizer timed out", auth: fail(lambdart.ErrTimeout), path: "/v1/users/u1", headers: bearer,
			wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "authorizer response without policy", auth: raw([]byte(`{"principalId":"u"}`)), path: "/v1/users/u1", headers: bearer,
			wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "authorizer response not JSON", auth: raw([]byte(`allow`)), path: "/v1/users/u1", headers: bearer,
			wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "context holding an object", auth: policy("u", map[string]any{"roles": []string{"a"}}, stmt("Allow", "*")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "explicit deny", auth: policy("u", nil, stmt("Deny", arnPrefix+"GET/v1/users/u1")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource with an explicit deny"}`, wantAuthCalls: 1},
		{name: "deny wins over allow", auth: policy("u", nil, stmt("Allow", "*"), stmt("Deny", arnPrefix+"GET/v1/users/*")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource with an explicit deny"}`, wantAuthCalls: 1},
		{name: "no statement matches", auth: policy("u", nil, stmt("Allow", arnPrefix+"GET/v1/users/other")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource"}`, wantAuthCalls: 1},
		{name: "policy scoped to another method", auth: policy("u", nil, stmt("Allow", arnPrefix+"GET/*")), method: http.MethodPut, path: "/v1/items/i1/tags/t", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource"}`, wantAuthCalls: 1},
		{name: "policy scoped to another stage", auth: policy("u", nil, stmt("Allow", "arn:aws:execute-api:eu-west-1:111122223333:abcde12345/prod/*")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource"}`, wantAuthCalls: 1},
		{name: "policy for another action", auth: policy("u", nil, events.IAMPolicyStatement{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"*"}}), path: "/v1/users/u1", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource"}`, wantAuthCalls: 1},
		{name: "exact resource", auth: policy("u", nil, stmt("Allow", arnPrefix+"GET/v1/users/u1")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 200, wantAuthCalls: 1, wantHandler: true},
		{name: "wildcard resource", auth: policy("u", nil, stmt("Allow", "arn:aws:execute-api:*:*:abcde12345/*/GET/v1/users/*")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 200, wantAuthCalls: 1, wantHandler: true},
		{name: "question mark wildcard", auth: policy("u", nil, stmt("Allow", arnPrefix+"GET/v1/users/u?")), path: "/v1/users/u1", headers: bearer,
			wantStatus: 200, wantAuthCalls: 1, wantHandler: true},
		{name: "question mark matches exactly one", auth: policy("u", nil, stmt("Allow", arnPrefix+"GET/v1/users/u?")), path: "/v1/users/u12", headers: bearer,
			wantStatus: 403, wantBody: `{"message":"User is not authorized to access this resource"}`, wantAuthCalls: 1},
		{name: "action wildcard", auth: policy("u", nil, events.IAMPolicyStatement{Effect: "Allow", Action: []string{"execute-api:*"}, Resource: []string{"*"}}), path: "/v1/users/u1", headers: bearer,
			wantStatus: 200, wantAuthCalls: 1, wantHandler: true},
		{name: "single statement object and string fields", auth: raw([]byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"` + arnPrefix + `GET/v1/users/u1"}}}`)),
			path: "/v1/users/u1", headers: bearer, wantStatus: 200, wantAuthCalls: 1, wantHandler: true},
		{name: "unsupported NotResource is a configuration error", auth: raw([]byte(`{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","NotResource":"x"}]}}`)),
			path: "/v1/users/u1", headers: bearer, wantStatus: 500, wantBody: `{"message":null}`, wantAuthCalls: 1},
		{name: "public route skips the authorizer", auth: policy("u", nil, stmt("Deny", "*")), path: "/v1/health",
			wantStatus: 200, wantAuthCalls: 0, wantHandler: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.set("AuthFunction", tc.auth)
			inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200, Body: "handler"})
			g := newTestGateway(t, "api.yaml", inv, nil)
			rec := do(g, req{method: tc.method, target: tc.path, headers: tc.headers})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("body %s, want %s", rec.Body, tc.wantBody)
			}
			if n := len(inv.callsTo("AuthFunction")); n != tc.wantAuthCalls {
				t.Errorf("authorizer invoked %d times, want %d", n, tc.wantAuthCalls)
			}
			handlerCalls := inv.total() - len(inv.callsTo("AuthFunction"))
			if tc.wantHandler != (handlerCalls == 1) {
				t.Errorf("handler invoked %d times, want handler=%v", handlerCalls, tc.wantHandler)
			}
		})
	}
}

func TestAuthorizerGatewayResponses(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("u", nil, stmt("Deny", "*")))
	g := newTestGateway(t, "api.yaml", inv, nil)

	// UNAUTHORIZED is customized: its headers replace DEFAULT_4XX's.
	rec := do(g, req{target: "/v1/users/u1"})
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "Bearer" || rec.Header().Get("Cache-Control") != "" {
		t.Errorf("401: status %d WWW-Authenticate %q Cache-Control %q", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Header().Get("Cache-Control"))
	}
	if got := header(rec, "x-amzn-ErrorType"); got != "UnauthorizedException" {
		t.Errorf("401 x-amzn-ErrorType %q", got)
	}
	// ACCESS_DENIED is not customized: DEFAULT_4XX applies.
	rec = do(g, req{target: "/v1/users/u1", headers: bearer})
	if rec.Code != 403 || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("403: status %d headers %v", rec.Code, rec.Header())
	}
	// AUTHORIZER_CONFIGURATION_ERROR falls back to DEFAULT_5XX.
	inv.set("AuthFunction", functionError("boom", "errorString"))
	rec = do(g, req{target: "/v1/users/u1", headers: map[string][]string{"Authorization": {"other"}}})
	if rec.Code != 500 || rec.Header().Get("Cache-Control") != "no-store" || header(rec, "x-amzn-ErrorType") != "AuthorizerConfigurationException" {
		t.Errorf("500: status %d headers %v", rec.Code, rec.Header())
	}
}

func TestAuthorizerEventAndContext(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("usr_42", map[string]any{"role": "mentor", "org": "org_1", "n": 7, "admin": false, "gone": nil},
		stmt("Allow", arnPrefix+"PUT/v1/items/*")))
	inv.set("ItemsFunction", nameEcho("ItemsFunction"))
	g := newTestGateway(t, "api.yaml", inv, nil)

	rec := do(g, req{method: http.MethodPut, target: "/v1/items/itm%201/tags/red?x=1&x=2",
		headers: map[string][]string{"Authorization": {"Bearer abc"}, "User-Agent": {"ua"}}, remote: "192.0.2.5:1234"})
	if rec.Code != 200 {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}

	var aev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(inv.callsTo("AuthFunction")[0], &aev); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"type", aev.Type, "REQUEST"},
		{"methodArn", aev.MethodArn, arnPrefix + "PUT/v1/items/itm 1/tags/red"},
		{"resource", aev.Resource, "/v1/items/{itemId}/tags/{tag}"},
		{"path", aev.Path, "/v1/items/itm 1/tags/red"},
		{"httpMethod", aev.HTTPMethod, "PUT"},
		{"header", aev.Headers["Authorization"], "Bearer abc"},
		{"query", aev.QueryStringParameters["x"], "2"},
		{"path parameter", aev.PathParameters["itemId"], "itm 1"},
		{"context path", aev.RequestContext.Path, "/test/v1/items/itm 1/tags/red"},
		{"context stage", aev.RequestContext.Stage, "test"},
		{"context accountId", aev.RequestContext.AccountID, "111122223333"},
		{"context apiId", aev.RequestContext.APIID, "abcde12345"},
		{"context resourcePath", aev.RequestContext.ResourcePath, "/v1/items/{itemId}/tags/{tag}"},
		{"context httpMethod", aev.RequestContext.HTTPMethod, "PUT"},
		{"context sourceIp", aev.RequestContext.Identity.SourceIP, "192.0.2.5"},
		{"context requestId", aev.RequestContext.RequestID, header(rec, "x-amzn-RequestId")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("authorizer event %s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(aev.MultiValueHeaders["Authorization"], []string{"Bearer abc"}) || !slices.Equal(aev.MultiValueQueryStringParameters["x"], []string{"1", "2"}) {
		t.Errorf("authorizer multi-value maps %v %v", aev.MultiValueHeaders, aev.MultiValueQueryStringParameters)
	}

	ev := decodeEvent(t, inv.callsTo("ItemsFunction")[0])
	got := ev.RequestContext.Authorizer
	latency, ok := got["integrationLatency"].(float64)
	if !ok || latency < 0 {
		t.Errorf("integrationLatency = %#v, want a number", got["integrationLatency"])
	}
	delete(got, "integrationLatency")
	// Context values arrive stringified, as API Gateway passes them.
	want := map[string]any{"principalId": "usr_42", "role": "mentor", "org": "org_1", "n": "7", "admin": "false", "gone": nil}
	if !maps.Equal(got, want) {
		t.Errorf("requestContext.authorizer = %#v, want %#v", got, want)
	}
}

func TestAuthorizerCaching(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("u", nil, stmt("Allow", arnPrefix+"GET/v1/users/*"), stmt("Allow", arnPrefix+"GET/v1/uncached")))
	inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200})
	clk := newClock()
	g := newTestGateway(t, "api.yaml", inv, func(c *Config) { c.Now = clk.now })
	tokenA := map[string][]string{"Authorization": {"Bearer A"}}
	tokenB := map[string][]string{"Authorization": {"Bearer B"}}

	steps := []struct {
		name          string
		method        string
		path          string
		headers       map[string][]string
		advance       time.Duration
		wantStatus    int
		wantAuthCalls int // cumulative
	}{
		{name: "first call invokes", path: "/v1/users/u1", headers: tokenA, wantStatus: 200, wantAuthCalls: 1},
		{name: "same token is served from the cache", path: "/v1/users/u2", headers: tokenA, wantStatus: 200, wantAuthCalls: 1},
		{name: "cached policy is evaluated against the new methodArn", method: http.MethodPut, path: "/v1/items/i/tags/t", headers: tokenA, wantStatus: 403, wantAuthCalls: 1},
		{name: "another token invokes", path: "/v1/users/u1", headers: tokenB, wantStatus: 200, wantAuthCalls: 2},
		{name: "still cached just before the TTL", path: "/v1/users/u1", headers: tokenA, advance: 299 * time.Second, wantStatus: 200, wantAuthCalls: 2},
		{name: "after the TTL the authorizer runs again", path: "/v1/users/u1", headers: tokenA, advance: 2 * time.Second, wantStatus: 200, wantAuthCalls: 3},
		{name: "uncached authorizer runs every time (1)", path: "/v1/uncached", headers: tokenA, wantStatus: 200, wantAuthCalls: 4},
		{name: "uncached authorizer runs every time (2)", path: "/v1/uncached", headers: tokenA, wantStatus: 200, wantAuthCalls: 5},
	}
	for _, s := range steps {
		clk.advance(s.advance)
		rec := do(g, req{method: s.method, target: s.path, headers: s.headers})
		if rec.Code != s.wantStatus {
			t.Fatalf("%s: status %d, want %d (body %s)", s.name, rec.Code, s.wantStatus, rec.Body)
		}
		if n := len(inv.callsTo("AuthFunction")); n != s.wantAuthCalls {
			t.Fatalf("%s: authorizer calls %d, want %d", s.name, n, s.wantAuthCalls)
		}
	}
}

func TestAuthorizerCachedContextReachesHandler(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("usr_7", map[string]any{"role": "intern"}, stmt("Allow", "*")))
	inv.set("UsersGetFunction", nameEcho("UsersGetFunction"))
	g := newTestGateway(t, "api.yaml", inv, nil)
	for range 2 {
		if rec := do(g, req{target: "/v1/users/u1", headers: bearer}); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if n := len(inv.callsTo("AuthFunction")); n != 1 {
		t.Fatalf("authorizer calls %d, want 1", n)
	}
	ev := decodeEvent(t, inv.callsTo("UsersGetFunction")[1])
	if ev.RequestContext.Authorizer["principalId"] != "usr_7" || ev.RequestContext.Authorizer["role"] != "intern" {
		t.Errorf("cached authorizer context = %v", ev.RequestContext.Authorizer)
	}
}

func TestAuthorizerFailuresAreNotCached(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", functionError("Unauthorized", "errorString"))
	inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200})
	g := newTestGateway(t, "api.yaml", inv, nil)
	if rec := do(g, req{target: "/v1/users/u1", headers: bearer}); rec.Code != 401 {
		t.Fatalf("status %d", rec.Code)
	}
	inv.set("AuthFunction", policy("u", nil, stmt("Allow", "*")))
	if rec := do(g, req{target: "/v1/users/u1", headers: bearer}); rec.Code != 200 {
		t.Fatalf("after a 401 the next call must invoke again: status %d", rec.Code)
	}
}

func TestTokenAuthorizer(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("u", nil, stmt("Allow", "*")))
	inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200})
	g := newTestGateway(t, "cors-default-auth.yaml", inv, nil)

	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantCalls  int
	}{
		{name: "token fails ValidationExpression", token: "nope", wantStatus: 401, wantCalls: 0},
		{name: "ValidationExpression must match the whole token", token: "tok-abc!", wantStatus: 401, wantCalls: 0},
		{name: "valid token", token: "tok-abc", wantStatus: 200, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(inv.callsTo("AuthFunction"))
			rec := do(g, req{target: "/widgets", headers: map[string][]string{"X-Token": {tc.token}}})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			calls := inv.callsTo("AuthFunction")
			if len(calls)-before != tc.wantCalls {
				t.Fatalf("authorizer calls %d, want %d", len(calls)-before, tc.wantCalls)
			}
			if tc.wantCalls == 0 {
				return
			}
			var ev events.APIGatewayCustomAuthorizerRequest
			if err := json.Unmarshal(calls[len(calls)-1], &ev); err != nil {
				t.Fatal(err)
			}
			want := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tc.token,
				MethodArn: "arn:aws:execute-api:eu-west-1:111122223333:abcde12345/prod/GET/widgets"}
			if ev != want {
				t.Errorf("TOKEN event = %+v, want %+v", ev, want)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "a-b-b-c", true},
		{"arn:*:GET/v1/*", "arn:x:y/GET/v1/users/1", false},
		{"arn:*/GET/v1/*", "arn:x:y/GET/v1/users/1", true},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"ü?", "üß", true},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"~"+tc.s, func(t *testing.T) {
			if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
				t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
			}
		})
	}
}
