package restapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
)

func TestResponseMapping(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0, 0xff}
	b64 := base64.StdEncoding.EncodeToString(png)
	tests := []struct {
		name        string
		resp        events.APIGatewayProxyResponse
		accept      string
		wantStatus  int
		wantBody    string
		wantHeaders map[string][]string
	}{
		{
			name:        "status, body and headers",
			resp:        events.APIGatewayProxyResponse{StatusCode: 201, Body: `{"id":"x"}`, Headers: map[string]string{"Content-Type": "application/json", "Location": "/v1/x"}},
			wantStatus:  201,
			wantBody:    `{"id":"x"}`,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}, "Location": {"/v1/x"}},
		},
		{
			name:        "content type defaults to application/json",
			resp:        events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"},
			wantStatus:  200,
			wantBody:    "{}",
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name: "multiValueHeaders carry several values",
			resp: events.APIGatewayProxyResponse{StatusCode: 200, MultiValueHeaders: map[string][]string{
				"Set-Cookie": {"a=1; Secure", "b=2; Secure"}}},
			wantStatus:  200,
			wantHeaders: map[string][]string{"Set-Cookie": {"a=1; Secure", "b=2; Secure"}},
		},
		{
			name: "multiValueHeaders win over headers for the same name in any case",
			resp: events.APIGatewayProxyResponse{StatusCode: 200,
				Headers:           map[string]string{"x-a": "single", "X-B": "only-single"},
				MultiValueHeaders: map[string][]string{"X-A": {"m1", "m2"}}},
			wantStatus:  200,
			wantHeaders: map[string][]string{"X-A": {"m1", "m2"}, "X-B": {"only-single"}},
		},
		{
			name:        "base64 body decoded for a binary Accept",
			resp:        events.APIGatewayProxyResponse{StatusCode: 200, Body: b64, IsBase64Encoded: true, Headers: map[string]string{"Content-Type": "image/png"}},
			accept:      "image/png",
			wantStatus:  200,
			wantBody:    string(png),
			wantHeaders: map[string][]string{"Content-Type": {"image/png"}},
		},
		{
			name:       "base64 body kept as text when the first Accept is not binary",
			resp:       events.APIGatewayProxyResponse{StatusCode: 200, Body: b64, IsBase64Encoded: true, Headers: map[string]string{"Content-Type": "image/png"}},
			accept:     "text/html, image/png",
			wantStatus: 200,
			wantBody:   b64,
		},
		{
			name:       "base64 body kept as text without Accept",
			resp:       events.APIGatewayProxyResponse{StatusCode: 200, Body: b64, IsBase64Encoded: true},
			wantStatus: 200,
			wantBody:   b64,
		},
		{
			name:       "invalid base64 for a binary Accept is a 502",
			resp:       events.APIGatewayProxyResponse{StatusCode: 200, Body: "not base64!", IsBase64Encoded: true},
			accept:     "image/png",
			wantStatus: 502,
			wantBody:   `{"message": "Internal server error"}`,
		},
		{
			name:        "function cannot set the gateway request id",
			resp:        events.APIGatewayProxyResponse{StatusCode: 204, Headers: map[string]string{"x-amzn-RequestId": "forged"}},
			wantStatus:  204,
			wantHeaders: map[string][]string{"X-Amzn-Requestid": nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.set("HealthFunction", respond(tc.resp))
			g := newTestGateway(t, "api.yaml", inv, nil)
			h := map[string][]string{}
			if tc.accept != "" {
				h["Accept"] = []string{tc.accept}
			}
			rec := do(g, req{target: "/v1/health", headers: h})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := rec.Body.String(); got != tc.wantBody {
				t.Errorf("body %q, want %q", got, tc.wantBody)
			}
			for k, want := range tc.wantHeaders {
				if got := rec.Header().Values(k); !slices.Equal(got, want) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if id := header(rec, "x-amzn-RequestId"); !uuidLike.MatchString(id) {
				t.Errorf("x-amzn-RequestId = %q", id)
			}
		})
	}
}

func TestLambdaFailuresAre502(t *testing.T) {
	tests := []struct {
		name    string
		handler handlerFunc
	}{
		{name: "function error", handler: functionError("boom", "errorString")},
		{name: "timeout", handler: fail(fmt.Errorf("invoke HealthFunction: %w", lambdart.ErrTimeout))},
		{name: "crash", handler: fail(lambdart.ErrCrashed)},
		{name: "init failed", handler: fail(lambdart.ErrInitFailed)},
		{name: "unknown function", handler: fail(lambdart.ErrUnknownFunction)},
		{name: "other error", handler: fail(errors.New("pipe closed"))},
		{name: "payload not JSON", handler: raw([]byte("hello"))},
		{name: "payload null", handler: raw([]byte("null"))},
		{name: "payload a string", handler: raw([]byte(`"ok"`))},
		{name: "no statusCode", handler: raw([]byte(`{"body":"x"}`))},
		{name: "statusCode zero", handler: raw([]byte(`{"statusCode":0}`))},
		{name: "statusCode out of range", handler: raw([]byte(`{"statusCode":700}`))},
		{name: "statusCode as string", handler: raw([]byte(`{"statusCode":"200"}`))},
		{name: "unknown member", handler: raw([]byte(`{"statusCode":200,"cookies":["a=b"]}`))},
		{name: "member with wrong case", handler: raw([]byte(`{"StatusCode":200}`))},
		{name: "body not a string", handler: raw([]byte(`{"statusCode":200,"body":{"a":1}}`))},
		{name: "header value not a string", handler: raw([]byte(`{"statusCode":200,"headers":{"X-A":1}}`))},
		{name: "trailing data", handler: raw([]byte(`{"statusCode":200}{}`))},
		{name: "duplicate member", handler: raw([]byte(`{"statusCode":200,"statusCode":201}`))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.set("HealthFunction", tc.handler)
			g := newTestGateway(t, "api.yaml", inv, nil)
			rec := do(g, req{target: "/v1/health"})
			if rec.Code != http.StatusBadGateway {
				t.Fatalf("status %d, want 502 (body %s)", rec.Code, rec.Body)
			}
			if got := rec.Body.String(); got != `{"message": "Internal server error"}` {
				t.Errorf("body %s", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("DEFAULT_5XX header Cache-Control = %q", got)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("DEFAULT_5XX header X-Content-Type-Options = %q", got)
			}
			if header(rec, "x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
		})
	}
}

func TestValidMinimalProxyResponse(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("HealthFunction", raw([]byte(`{"statusCode":200}`)))
	g := newTestGateway(t, "api.yaml", inv, nil)
	if rec := do(g, req{target: "/v1/health"}); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("status %d body %q, want 200 and no body", rec.Code, rec.Body)
	}
}

func TestIntegrationTimeout(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("HealthFunction", func(ctx context.Context, _ []byte) (*lambdart.Result, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
			return nil, errors.New("integration timeout did not cut the invocation off")
		}
	})
	g := newTestGateway(t, "api.yaml", inv, func(c *Config) { c.IntegrationTimeout = 50 * time.Millisecond })
	rec := do(g, req{target: "/v1/health"})
	if rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504 (body %s)", rec.Code, rec.Body)
	}
	if got := rec.Body.String(); got != `{"message": "Endpoint request timed out"}` {
		t.Errorf("body %s", got)
	}
}
