package restapi

import (
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vip-platform/backend/infra/template"
)

func TestRouting(t *testing.T) {
	inv := newFakeInvoker()
	allowAll(inv)
	for _, fn := range []string{"HealthFunction", "UsersGetFunction", "UsersMeFunction", "ItemsFunction", "ItemsStatsFunction", "FilesFunction", "EchoFunction"} {
		inv.set(fn, nameEcho(fn))
	}
	g := newTestGateway(t, "api.yaml", inv, nil)

	tests := []struct {
		name         string
		method       string
		path         string
		wantStatus   int
		wantFunction string
		wantResource string
		wantParams   map[string]string
	}{
		{name: "literal route", path: "/v1/health", wantStatus: 200, wantFunction: "HealthFunction", wantResource: "/v1/health"},
		{name: "trailing slash is ignored", path: "/v1/health/", wantStatus: 200, wantFunction: "HealthFunction", wantResource: "/v1/health"},
		{name: "literal beats parameter", path: "/v1/users/me", wantStatus: 200, wantFunction: "UsersMeFunction", wantResource: "/v1/users/me"},
		{name: "parameter", path: "/v1/users/usr_123", wantStatus: 200, wantFunction: "UsersGetFunction",
			wantResource: "/v1/users/{userId}", wantParams: map[string]string{"userId": "usr_123"}},
		{name: "parameter is URL-decoded", path: "/v1/users/a%2Fb%20c", wantStatus: 200, wantFunction: "UsersGetFunction",
			wantResource: "/v1/users/{userId}", wantParams: map[string]string{"userId": "a/b c"}},
		{name: "literal is case-sensitive", path: "/v1/users/ME", wantStatus: 200, wantFunction: "UsersGetFunction",
			wantResource: "/v1/users/{userId}", wantParams: map[string]string{"userId": "ME"}},
		{name: "two parameters", method: http.MethodPut, path: "/v1/items/itm_1/tags/red", wantStatus: 200, wantFunction: "ItemsFunction",
			wantResource: "/v1/items/{itemId}/tags/{tag}", wantParams: map[string]string{"itemId": "itm_1", "tag": "red"}},
		{name: "literal branch that cannot finish falls back to parameter", method: http.MethodPut, path: "/v1/items/archive/tags/red",
			wantStatus: 200, wantFunction: "ItemsFunction", wantResource: "/v1/items/{itemId}/tags/{tag}",
			wantParams: map[string]string{"itemId": "archive", "tag": "red"}},
		{name: "literal sibling of parameter", path: "/v1/items/archive/stats", wantStatus: 200, wantFunction: "ItemsStatsFunction", wantResource: "/v1/items/archive/stats"},
		{name: "greedy proxy takes the rest", path: "/v1/files/a/b/c.txt", wantStatus: 200, wantFunction: "FilesFunction",
			wantResource: "/v1/files/{proxy+}", wantParams: map[string]string{"proxy": "a/b/c.txt"}},
		{name: "greedy proxy single segment", method: http.MethodDelete, path: "/v1/files/x", wantStatus: 200, wantFunction: "FilesFunction",
			wantResource: "/v1/files/{proxy+}", wantParams: map[string]string{"proxy": "x"}},
		{name: "ANY matches any method", method: http.MethodPatch, path: "/v1/echo/1", wantStatus: 200, wantFunction: "EchoFunction",
			wantResource: "/v1/echo/{id}", wantParams: map[string]string{"id": "1"}},
		{name: "method lower-cased in template", method: http.MethodPost, path: "/v1/items", wantStatus: 200, wantFunction: "ItemsFunction", wantResource: "/v1/items"},
		{name: "greedy proxy needs a segment", path: "/v1/files", wantStatus: 403},
		{name: "unknown path", path: "/v1/nope", wantStatus: 403},
		{name: "root", path: "/", wantStatus: 403},
		{name: "intermediate resource has no methods", path: "/v1", wantStatus: 403},
		{name: "too deep for a parameter", path: "/v1/users/a/b", wantStatus: 403},
		{name: "stage prefix is not part of the URL", path: "/test/v1/health", wantStatus: 403},
		{name: "empty segment", path: "/v1//health", wantStatus: 403},
		{name: "method not declared", method: http.MethodDelete, path: "/v1/health", wantStatus: 403},
		{name: "HEAD is not GET", method: http.MethodHead, path: "/v1/health", wantStatus: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(inv.callsTo(tc.wantFunction))
			rec := do(g, req{method: tc.method, target: tc.path, headers: bearer})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantStatus == 403 {
				if got := rec.Body.String(); got != `{"message":"Missing Authentication Token"}` {
					t.Errorf("body = %s", got)
				}
				if got := header(rec, "x-amzn-ErrorType"); got != "MissingAuthenticationTokenException" {
					t.Errorf("x-amzn-ErrorType = %q", got)
				}
				return
			}
			if got := rec.Body.String(); got != tc.wantFunction {
				t.Fatalf("reached %q, want %q", got, tc.wantFunction)
			}
			calls := inv.callsTo(tc.wantFunction)
			if len(calls) != before+1 {
				t.Fatalf("%s invoked %d times, want 1", tc.wantFunction, len(calls)-before)
			}
			ev := decodeEvent(t, calls[len(calls)-1])
			if ev.Resource != tc.wantResource || ev.RequestContext.ResourcePath != tc.wantResource {
				t.Errorf("resource = %q / %q, want %q", ev.Resource, ev.RequestContext.ResourcePath, tc.wantResource)
			}
			if !maps.Equal(ev.PathParameters, tc.wantParams) || (tc.wantParams == nil) != (ev.PathParameters == nil) {
				t.Errorf("pathParameters = %v, want %v", ev.PathParameters, tc.wantParams)
			}
		})
	}
}

func TestUnknownRouteDoesNotInvoke(t *testing.T) {
	inv := newFakeInvoker()
	allowAll(inv)
	g := newTestGateway(t, "api.yaml", inv, nil)
	for _, p := range []string{"/v1/nope", "/v1/health/extra"} {
		do(g, req{target: p, headers: bearer})
	}
	do(g, req{method: http.MethodPost, target: "/v1/health", headers: bearer})
	if n := inv.total(); n != 0 {
		t.Fatalf("%d invocations for unknown routes, want 0", n)
	}
}

func TestNewRejectsBadTemplates(t *testing.T) {
	const head = "Globals:\n  Function:\n    CodeUri: .\nResources:\n"
	fn := func(id, path, method, auth string) string {
		s := "  " + id + ":\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: Api\n          Properties:\n" +
			"            RestApiId: !Ref Api\n            Path: " + path + "\n            Method: " + method + "\n"
		if auth != "" {
			s += "            Auth:\n              Authorizer: " + auth + "\n"
		}
		return s
	}
	api := func(extra string) string {
		return "  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: dev\n" + extra
	}
	authz := "      Auth:\n        Authorizers:\n          Mine:\n            FunctionArn: !GetAtt AuthFunction.Arn\n            FunctionPayloadType: REQUEST\n            Identity:\n              Headers: [Authorization]\n"
	authFn := "  AuthFunction:\n    Type: AWS::Serverless::Function\n"

	tests := []struct {
		name    string
		yaml    string
		cfgAPI  string
		wantErr string
	}{
		{name: "unknown route authorizer", yaml: head + api(authz) + authFn + fn("AFunction", "/a", "GET", "Other"), wantErr: `authorizer "Other"`},
		{name: "unknown default authorizer", yaml: head + api(authz+"        DefaultAuthorizer: Nope\n") + authFn + fn("AFunction", "/a", "GET", ""), wantErr: `DefaultAuthorizer "Nope"`},
		{name: "authorizer function missing", yaml: head + api(authz) + fn("AFunction", "/a", "GET", "Mine"), wantErr: `no function "AuthFunction"`},
		{name: "AWS_IAM unsupported", yaml: head + api("") + fn("AFunction", "/a", "GET", "AWS_IAM"), wantErr: "AWS_IAM"},
		{name: "conflicting parameter names", yaml: head + api("") + fn("AFunction", "/a/{x}", "GET", "") + fn("BFunction", "/a/{y}/b", "GET", ""), wantErr: "conflicts with sibling"},
		{name: "parameter and greedy siblings", yaml: head + api("") + fn("AFunction", "/a/{x}", "GET", "") + fn("BFunction", "/a/{x+}", "POST", ""), wantErr: "conflicts with sibling"},
		{name: "greedy not last", yaml: head + api("") + fn("AFunction", "/a/{p+}/b", "GET", ""), wantErr: "must be the last segment"},
		{name: "bad parameter name", yaml: head + api("") + fn("AFunction", "/a/{x y}", "GET", ""), wantErr: "bad parameter"},
		{name: "mixed segment", yaml: head + api("") + fn("AFunction", "/a/x{y}", "GET", ""), wantErr: "mixes text"},
		{name: "repeated parameter", yaml: head + api("") + fn("AFunction", "/a/{x}/b/{x}", "GET", ""), wantErr: "appears twice"},
		{name: "no leading slash", yaml: head + api("") + fn("AFunction", "a", "GET", ""), wantErr: "must start with /"},
		{name: "empty segment", yaml: head + api("") + fn("AFunction", "/a//b", "GET", ""), wantErr: "empty segment"},
		{name: "duplicate route", yaml: head + api("") + fn("AFunction", "/a", "GET", "") + fn("BFunction", "/a", "get", ""), wantErr: "already declared"},
		{name: "bad method", yaml: head + api("") + fn("AFunction", "/a", "FETCH", ""), wantErr: "unsupported method"},
		{name: "unquoted cors value", yaml: head + api("      Cors:\n        AllowOrigin: https://x.example\n") + fn("AFunction", "/a", "GET", ""), wantErr: "must be quoted"},
		{name: "cors wildcard with credentials", yaml: head + api("      Cors:\n        AllowOrigin: \"'*'\"\n        AllowCredentials: true\n") + fn("AFunction", "/a", "GET", ""), wantErr: "cannot be combined"},
		{name: "unknown gateway response type", yaml: head + api("      GatewayResponses:\n        DEFAULT_6XX: {}\n") + fn("AFunction", "/a", "GET", ""), wantErr: "unknown gateway response type"},
		{name: "unquoted gateway response header", yaml: head + api("      GatewayResponses:\n        DEFAULT_4XX:\n          ResponseParameters:\n            Headers:\n              Cache-Control: no-store\n") + fn("AFunction", "/a", "GET", ""), wantErr: "neither a 'quoted' literal"},
		{name: "several APIs", yaml: head + api("") + "  Other:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: x\n" + fn("AFunction", "/a", "GET", ""), wantErr: "set Config.API"},
		{name: "unknown Config.API", yaml: head + api("") + fn("AFunction", "/a", "GET", ""), cfgAPI: "Missing", wantErr: `no AWS::Serverless::Api "Missing"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := template.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, err = New(Config{Template: tpl, Invoker: newFakeInvoker(), API: tc.cfgAPI})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewAcceptsImplicitAPI(t *testing.T) {
	yaml := "Globals:\n  Function:\n    CodeUri: .\nResources:\n  AFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: Api\n          Properties:\n            Path: /a\n            Method: GET\n"
	tpl, err := template.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	inv := newFakeInvoker()
	inv.set("AFunction", nameEcho("AFunction"))
	g, err := New(Config{Template: tpl, Invoker: inv})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := do(g, req{target: "/a"})
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	ev := decodeEvent(t, inv.callsTo("AFunction")[0])
	if ev.RequestContext.Stage != "Prod" || ev.RequestContext.Path != "/Prod/a" {
		t.Errorf("stage = %q path = %q, want SAM's implicit Prod stage", ev.RequestContext.Stage, ev.RequestContext.Path)
	}
}

// TestRepoTemplate serves the repository's own template.yaml: every route
// it declares must be reachable, so a template change the devstack cannot
// serve fails here rather than at `make dev`.
func TestRepoTemplate(t *testing.T) {
	tpl, err := template.Load("../../../template.yaml")
	if err != nil {
		t.Fatalf("load template.yaml: %v", err)
	}
	inv := newFakeInvoker()
	for _, api := range tpl.APIs() {
		azs, err := api.Authorizers()
		if err != nil {
			t.Fatal(err)
		}
		for _, az := range azs {
			inv.set(az.Function, policy("u", nil, stmt("Allow", "*")))
		}
	}
	g, err := New(Config{Template: tpl, Invoker: inv, API: "RestApi"})
	if err != nil {
		t.Fatalf("New with template.yaml: %v", err)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, r := range routes {
		if r.API != "RestApi" {
			continue
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			inv.set(r.Function, nameEcho(r.Function))
			method := r.Method
			if method == "ANY" {
				method = http.MethodGet
			}
			h := map[string][]string{}
			for _, api := range tpl.APIs() {
				azs, _ := api.Authorizers()
				for _, az := range azs {
					for _, name := range az.IdentityHeaders {
						h[name] = []string{"test-identity"}
					}
				}
			}
			rec := do(g, req{method: method, target: param.ReplaceAllString(r.Path, "x"), headers: h})
			if rec.Code != 200 || rec.Body.String() != r.Function {
				t.Fatalf("status %d body %q, want %s to answer", rec.Code, rec.Body, r.Function)
			}
		})
	}
	rec := do(g, req{target: "/no/such/route"})
	if rec.Code != 403 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("unknown route: status %d Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
}
