// Package apigwtest helps handler tests: it loads the sample events of
// events/<function>/ (the same files `sam local invoke -e` and the devstack
// use), builds requests, and checks responses against the apigw contract.
package apigwtest

import (
	"encoding/json/v2"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
)

// ProxyEvent is one sample event file.
type ProxyEvent struct {
	// Name is the file name without .json ("get", "get-with-query").
	Name string
	// Path is the file's path, for error messages.
	Path    string
	Request events.APIGatewayProxyRequest
}

// LoadProxyEvents decodes every *.json file of dir as an API Gateway REST
// proxy event, in file name order, failing the test if dir has none or a
// file does not decode. Decoding is strict (unknown or misspelled members
// fail), so a sample that would silently lose a field is caught here.
func LoadProxyEvents(t testing.TB, dir string) []ProxyEvent {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatalf("list events in %s: %v", dir, err)
	}
	if len(paths) == 0 {
		t.Fatalf("no *.json events in %s", dir)
	}
	slices.Sort(paths)
	out := make([]ProxyEvent, 0, len(paths))
	for _, p := range paths {
		out = append(out, ProxyEvent{
			Name:    strings.TrimSuffix(filepath.Base(p), ".json"),
			Path:    p,
			Request: LoadProxyEvent(t, p),
		})
	}
	return out
}

// LoadProxyEvent decodes one event file strictly.
func LoadProxyEvent(t testing.TB, path string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &req, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("decode event %s: %v", path, err)
	}
	return req
}

// NewRequest builds a REST proxy request: resource and path both set to
// path, a fixed request ID, and Content-Type application/json when body is
// not empty.
func NewRequest(method, path, body string) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{
		Resource:   path,
		Path:       path,
		HTTPMethod: method,
		Headers:    map[string]string{},
		Body:       body,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:    RequestID,
			Stage:        "dev",
			HTTPMethod:   method,
			ResourcePath: path,
			Path:         path,
			Identity:     events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "apigwtest"},
		},
	}
	if body != "" {
		req.Headers["Content-Type"] = "application/json"
	}
	return req
}

// RequestID is the request ID NewRequest sets.
const RequestID = "apigwtest-request-id"

// WithPrincipal returns a copy of req with the authorizer context the REST
// authorizer would set for p.
func WithPrincipal(req events.APIGatewayProxyRequest, p apigw.Principal) events.APIGatewayProxyRequest {
	auth := map[string]any{
		"principalId":             p.UserID,
		apigw.AuthorizerUserID:    p.UserID,
		apigw.AuthorizerRole:      p.Role,
		apigw.AuthorizerSessionID: p.SessionID,
	}
	if p.OrgID != "" {
		auth[apigw.AuthorizerOrgID] = p.OrgID
	}
	req.RequestContext.Authorizer = auth
	return req
}

// NewPrincipal returns a valid principal with fresh IDs; org is set for
// roles that belong to an organization.
func NewPrincipal(role string) apigw.Principal {
	p := apigw.Principal{UserID: ids.New(ids.User), Role: role, SessionID: ids.New(ids.Session)}
	if role == apigw.RoleMentor || role == apigw.RoleOrgAdmin {
		p.OrgID = ids.New(ids.Org)
	}
	return p
}

// AssertSecurityHeaders fails the test unless resp carries every header
// apigw.Wrap guarantees, with its exact value.
func AssertSecurityHeaders(t testing.TB, resp events.APIGatewayProxyResponse) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(apigw.SecurityHeaders())) {
		want := apigw.SecurityHeaders()[k]
		if got := resp.Headers[k]; got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

// DecodeError decodes resp's error envelope strictly, failing the test when
// the body is not exactly one.
func DecodeError(t testing.TB, resp events.APIGatewayProxyResponse) apigw.ErrorBody {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("error Content-Type = %q", ct)
	}
	var env apigw.ErrorEnvelope
	if err := json.Unmarshal([]byte(resp.Body), &env, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("body %q is not an error envelope: %v", resp.Body, err)
	}
	return env.Error
}
