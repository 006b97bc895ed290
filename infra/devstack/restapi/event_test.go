package restapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var uuidLike = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestProxyEventShape(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("EchoFunction", nameEcho("EchoFunction"))
	clk := newClock()
	g := newTestGateway(t, "api.yaml", inv, func(c *Config) { c.Now = clk.now })

	rec := do(g, req{
		method: http.MethodPost,
		target: "/v1/echo/id%201?a=1&a=2&b=x%20y&empty=",
		headers: map[string][]string{
			"Content-Type":    {"application/json"},
			"User-Agent":      {"test-agent/1.0"},
			"X-Multi":         {"one", "two"},
			"X-Forwarded-For": {"198.51.100.99"},
		},
		body:   strings.NewReader(`{"hello":"world"}`),
		remote: "203.0.113.7:54321",
	})
	if rec.Code != 200 {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
	calls := inv.callsTo("EchoFunction")
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	// The raw JSON must carry the keys AWS sends, including explicit nulls.
	var rawEvent map[string]any
	if err := json.Unmarshal(calls[0], &rawEvent); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
		"multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body"} {
		if _, ok := rawEvent[k]; !ok {
			t.Errorf("event lacks key %q", k)
		}
	}
	if rawEvent["stageVariables"] != nil {
		t.Errorf("stageVariables = %v, want null", rawEvent["stageVariables"])
	}

	ev := decodeEvent(t, calls[0])
	checks := []struct {
		name      string
		got, want any
	}{
		{"resource", ev.Resource, "/v1/echo/{id}"},
		{"path", ev.Path, "/v1/echo/id 1"},
		{"httpMethod", ev.HTTPMethod, "POST"},
		{"body", ev.Body, `{"hello":"world"}`},
		{"isBase64Encoded", ev.IsBase64Encoded, false},
		{"header last value", ev.Headers["X-Multi"], "two"},
		{"header user agent", ev.Headers["User-Agent"], "test-agent/1.0"},
		{"header host", ev.Headers["Host"], "example.com"},
		{"header x-forwarded-for appends source", ev.Headers["X-Forwarded-For"], "198.51.100.99, 203.0.113.7"},
		{"header x-forwarded-proto", ev.Headers["X-Forwarded-Proto"], "http"},
		{"query last value", ev.QueryStringParameters["a"], "2"},
		{"query decoded", ev.QueryStringParameters["b"], "x y"},
		{"query empty value", ev.QueryStringParameters["empty"], ""},
		{"path parameter decoded", ev.PathParameters["id"], "id 1"},
		{"stageVariables", ev.StageVariables == nil, true},
		{"accountId", ev.RequestContext.AccountID, "111122223333"},
		{"apiId", ev.RequestContext.APIID, "abcde12345"},
		{"stage", ev.RequestContext.Stage, "test"},
		{"resourcePath", ev.RequestContext.ResourcePath, "/v1/echo/{id}"},
		{"context httpMethod", ev.RequestContext.HTTPMethod, "POST"},
		{"context path has the stage", ev.RequestContext.Path, "/test/v1/echo/id 1"},
		{"protocol", ev.RequestContext.Protocol, "HTTP/1.1"},
		{"sourceIp ignores X-Forwarded-For", ev.RequestContext.Identity.SourceIP, "203.0.113.7"},
		{"userAgent", ev.RequestContext.Identity.UserAgent, "test-agent/1.0"},
		{"requestTime", ev.RequestContext.RequestTime, "04/Mar/2026:05:06:07 +0000"},
		{"requestTimeEpoch", ev.RequestContext.RequestTimeEpoch, clk.now().UnixMilli()},
		{"domainName", ev.RequestContext.DomainName, "example.com"},
		{"authorizer on public route", ev.RequestContext.Authorizer == nil, true},
		{"resourceId is 6 chars", len(ev.RequestContext.ResourceID), 6},
		{"requestId matches header", ev.RequestContext.RequestID, header(rec, "x-amzn-RequestId")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(ev.MultiValueHeaders["X-Multi"], []string{"one", "two"}) {
		t.Errorf("multiValueHeaders X-Multi = %v", ev.MultiValueHeaders["X-Multi"])
	}
	wantMVQ := map[string][]string{"a": {"1", "2"}, "b": {"x y"}, "empty": {""}}
	if !maps.EqualFunc(ev.MultiValueQueryStringParameters, wantMVQ, slices.Equal) {
		t.Errorf("multiValueQueryStringParameters = %v, want %v", ev.MultiValueQueryStringParameters, wantMVQ)
	}
	if !uuidLike.MatchString(ev.RequestContext.RequestID) {
		t.Errorf("requestId %q is not a UUID", ev.RequestContext.RequestID)
	}

	// A second request gets a fresh request ID and the same resource ID.
	do(g, req{target: "/v1/echo/2"})
	ev2 := decodeEvent(t, inv.callsTo("EchoFunction")[1])
	if ev2.RequestContext.RequestID == ev.RequestContext.RequestID {
		t.Error("request ID reused across requests")
	}
	if ev2.RequestContext.ResourceID != ev.RequestContext.ResourceID {
		t.Error("resource ID differs between requests to one resource")
	}
}

func TestProxyEventQueryAndBody(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}
	tests := []struct {
		name        string
		target      string
		contentType string
		body        []byte
		wantQuery   map[string]string
		wantMVQuery map[string][]string
		wantBody    string
		wantBase64  bool
	}{
		{name: "no query is null, no body is empty", target: "/v1/echo/1"},
		{name: "single query value", target: "/v1/echo/1?q=1", wantQuery: map[string]string{"q": "1"}, wantMVQuery: map[string][]string{"q": {"1"}}},
		{name: "repeated query keeps all values", target: "/v1/echo/1?q=1&q=2&q=3", wantQuery: map[string]string{"q": "3"}, wantMVQuery: map[string][]string{"q": {"1", "2", "3"}}},
		{name: "binary media type is base64", target: "/v1/echo/1", contentType: "image/png", body: png,
			wantBody: base64.StdEncoding.EncodeToString(png), wantBase64: true},
		{name: "binary media type with parameters", target: "/v1/echo/1", contentType: "Application/Octet-Stream; x=y", body: png,
			wantBody: base64.StdEncoding.EncodeToString(png), wantBase64: true},
		{name: "text type is passed as a string", target: "/v1/echo/1", contentType: "text/plain", body: []byte("plain text"), wantBody: "plain text"},
		{name: "no content type is text", target: "/v1/echo/1", body: []byte("abc"), wantBody: "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.set("EchoFunction", nameEcho("EchoFunction"))
			g := newTestGateway(t, "api.yaml", inv, nil)
			h := map[string][]string{}
			if tc.contentType != "" {
				h["Content-Type"] = []string{tc.contentType}
			}
			rec := do(g, req{method: http.MethodPost, target: tc.target, headers: h, body: bytes.NewReader(tc.body)})
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			ev := decodeEvent(t, inv.callsTo("EchoFunction")[0])
			if !maps.Equal(ev.QueryStringParameters, tc.wantQuery) || (tc.wantQuery == nil) != (ev.QueryStringParameters == nil) {
				t.Errorf("queryStringParameters = %#v, want %#v", ev.QueryStringParameters, tc.wantQuery)
			}
			if !maps.EqualFunc(ev.MultiValueQueryStringParameters, tc.wantMVQuery, slices.Equal) || (tc.wantMVQuery == nil) != (ev.MultiValueQueryStringParameters == nil) {
				t.Errorf("multiValueQueryStringParameters = %#v, want %#v", ev.MultiValueQueryStringParameters, tc.wantMVQuery)
			}
			if ev.Body != tc.wantBody || ev.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("body = %q base64 = %v, want %q %v", ev.Body, ev.IsBase64Encoded, tc.wantBody, tc.wantBase64)
			}
		})
	}
}

// hideLength hides a reader's size so the request is sent without a
// Content-Length, as a chunked upload is.
type hideLength struct{ r io.Reader }

func (h hideLength) Read(p []byte) (int, error) { return h.r.Read(p) }

func TestRequestBodyLimit(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		hideLength bool
		wantStatus int
	}{
		{name: "at the limit", size: MaxBodyBytes, wantStatus: 200},
		{name: "over the limit by Content-Length", size: MaxBodyBytes + 1, wantStatus: 413},
		{name: "over the limit without Content-Length", size: MaxBodyBytes + 1, hideLength: true, wantStatus: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.set("EchoFunction", nameEcho("EchoFunction"))
			g := newTestGateway(t, "api.yaml", inv, nil)
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("a"), tc.size))
			if tc.hideLength {
				body = hideLength{body}
			}
			rec := do(g, req{method: http.MethodPost, target: "/v1/echo/1", body: body})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if tc.wantStatus != 413 {
				return
			}
			if got := rec.Body.String(); got != `{"message":"Request Too Long"}` {
				t.Errorf("body %s", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("DEFAULT_4XX header Cache-Control = %q", got)
			}
			if inv.total() != 0 {
				t.Error("function invoked for an oversized body")
			}
		})
	}
}

func TestDerivedIDs(t *testing.T) {
	if a, b := derivedID("x", 10), derivedID("x", 10); a != b || len(a) != 10 {
		t.Errorf("derivedID not stable: %q %q", a, b)
	}
	if derivedID("x", 10) == derivedID("y", 10) {
		t.Error("derivedID collides for different seeds")
	}
	g := newTestGateway(t, "api.yaml", newFakeInvoker(), func(c *Config) { c.APIID = "" })
	if !regexp.MustCompile(`^[0-9a-z]{10}$`).MatchString(g.apiID) {
		t.Errorf("derived apiId %q", g.apiID)
	}
}
