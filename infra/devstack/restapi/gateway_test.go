package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
)

func TestGatewayResponseCustomization(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("PingFunction", functionError("boom", "errorString"))
	g := newTestGateway(t, "gateway-responses.yaml", inv, nil)

	rec := do(g, req{target: "/nope", headers: map[string][]string{"X-Trace": {"trace-9"}}})
	if rec.Code != 404 {
		t.Fatalf("StatusCode override: status %d, want 404", rec.Code)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("template body %q: %v", rec.Body, err)
	}
	want := map[string]string{"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN", "requestId": header(rec, "x-amzn-RequestId")}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("template %s = %q, want %q", k, body[k], v)
		}
	}
	if got := rec.Header().Get("X-Echo-Trace"); got != "trace-9" {
		t.Errorf("mapped header X-Echo-Trace = %q", got)
	}

	rec = do(g, req{target: "/ping"})
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), `"error":"internal_error"`) {
		t.Errorf("DEFAULT_5XX template: status %d body %s", rec.Code, rec.Body)
	}
}

func TestThrottling(t *testing.T) {
	tests := []struct {
		name    string
		disable bool
		path    string
		// want is the status of each request in a burst; nextAfter the
		// status of one more request a second later.
		want      []int
		nextAfter int
	}{
		{name: "stage default burst then refill", path: "/v1/fast", want: []int{200, 200, 200, 429}, nextAfter: 200},
		{name: "method override tightens burst", path: "/v1/slow", want: []int{200, 429}, nextAfter: 200},
		{name: "disabled", disable: true, path: "/v1/slow", want: []int{200, 200, 200, 200}, nextAfter: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := newFakeInvoker()
			inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200})
			clk := newClock()
			g := newTestGateway(t, "throttle.yaml", inv, func(c *Config) { c.Now = clk.now; c.DisableThrottling = tc.disable })
			for i, want := range tc.want {
				rec := do(g, req{target: tc.path})
				if rec.Code != want {
					t.Fatalf("request %d: status %d, want %d", i, rec.Code, want)
				}
				if want == 429 && rec.Body.String() != `{"message":"Too Many Requests"}` {
					t.Errorf("429 body %s", rec.Body)
				}
			}
			clk.advance(time.Second)
			if rec := do(g, req{target: tc.path}); rec.Code != tc.nextAfter {
				t.Fatalf("after refill: status %d, want %d", rec.Code, tc.nextAfter)
			}
		})
	}
}

// syncBuffer lets the race detector see log writes from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLog(t *testing.T) {
	const secret = "s3cr3t-token-value"
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("u", nil, stmt("Allow", "*")))
	inv.set("ItemsFunction", func(ctx context.Context, p []byte) (*lambdart.Result, error) {
		r, err := respond(events.APIGatewayProxyResponse{StatusCode: 201, Body: secret})(ctx, p)
		if r != nil {
			r.Cold = true
		}
		return r, err
	})
	var buf syncBuffer
	g := newTestGateway(t, "api.yaml", inv, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })

	rec := do(g, req{method: http.MethodPost, target: "/v1/items?ticket=" + secret,
		headers: map[string][]string{"Authorization": {"Bearer " + secret}, "Cookie": {"sid=" + secret}},
		body:    strings.NewReader(`{"password":"` + secret + `"}`)})
	if rec.Code != 201 {
		t.Fatalf("status %d", rec.Code)
	}
	do(g, req{target: "/v1/nope"})

	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("log leaks a header, query or body value:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines for 2 requests:\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"method": "POST", "path": "/v1/items", "status": float64(201), "function": "ItemsFunction",
		"start": "cold", "requestId": header(rec, "x-amzn-RequestId"), "authorizer": "Cached", "resource": "/v1/items"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("log %s = %#v, want %#v", k, first[k], v)
		}
	}
	if _, ok := first["duration"].(float64); !ok {
		t.Errorf("log has no duration: %v", first)
	}
	var second map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if second["status"] != float64(403) || second["reason"] != "no resource" {
		t.Errorf("unknown route log line = %v", second)
	}
}

func TestConcurrentRequests(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("AuthFunction", policy("u", map[string]any{"k": "v"}, stmt("Allow", "*")))
	inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200, Body: "ok"})
	var buf syncBuffer
	g := newTestGateway(t, "api.yaml", inv, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })

	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				token := fmt.Sprintf("Bearer %d", (w+i)%5)
				rec := do(g, req{target: fmt.Sprintf("/v1/users/u%d", i), headers: map[string][]string{"Authorization": {token}}})
				if rec.Code != 200 {
					errs <- fmt.Errorf("worker %d request %d: status %d", w, i, rec.Code)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Five distinct tokens: concurrent first uses may each invoke, but the
	// cache must absorb most of the 200 requests.
	if n := len(inv.callsTo("AuthFunction")); n < 5 || n > workers*5 {
		t.Errorf("authorizer invoked %d times for 5 tokens", n)
	}
}
