package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// startStack starts a devstack on free ports for one test template.
func startStack(t *testing.T, templatePath string, mutate ...func(*Options)) *Stack {
	t.Helper()
	opts := Options{
		TemplatePath:   templatePath,
		WorkDir:        t.TempDir(),
		FunctionOutput: testWriter{t},
	}
	for _, m := range mutate {
		m(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start devstack: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close devstack: %v", err)
		}
	})
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, method, url string, body []byte, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func repoTemplate(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRepositoryStack starts the real template.yaml and calls the health
// route over HTTP and the health function through the Lambda invoke API.
func TestRepositoryStack(t *testing.T) {
	s := startStack(t, repoTemplate(t))

	r := call(t, http.MethodGet, s.APIURL+"/v1/health", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/health = %d %s", r.status, r.body)
	}
	var health struct{ Status, Version string }
	if err := json.Unmarshal(r.body, &health); err != nil || health.Status != "ok" || health.Version == "" {
		t.Fatalf("health body %s (%v)", r.body, err)
	}
	for _, h := range []string{"Cache-Control", "X-Content-Type-Options", "Strict-Transport-Security", "Content-Security-Policy", "X-Amzn-Requestid"} {
		if r.header.Get(h) == "" {
			t.Errorf("health response lacks %s", h)
		}
	}

	event, err := os.ReadFile("../../../events/health/get.json")
	if err != nil {
		t.Fatal(err)
	}
	inv := call(t, http.MethodPost, s.LambdaURL+"/2015-03-31/functions/HealthFunction/invocations", event, nil)
	var proxy events.APIGatewayProxyResponse
	if err := json.Unmarshal(inv.body, &proxy); err != nil || inv.status != 200 || proxy.StatusCode != 200 {
		t.Fatalf("invoke HealthFunction = %d %s (%v)", inv.status, inv.body, err)
	}
	if r := call(t, http.MethodPost, s.LambdaURL+"/2015-03-31/functions/NoSuchFunction/invocations", []byte(`{}`), nil); r.status != http.StatusNotFound {
		t.Errorf("invoke unknown function = %d, want 404", r.status)
	}
}

var (
	e2eOnce  sync.Once
	e2eStack *Stack
	e2eErr   error
)

// e2e starts the testdata stack once for all the end-to-end cases.
func e2e(t *testing.T) *Stack {
	t.Helper()
	e2eOnce.Do(func() {
		// A variable of the test process that must not reach any function.
		os.Setenv("DEVSTACK_TEST_LEAK", "leaked")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "devstack-e2e-")
		if err != nil {
			e2eErr = err
			return
		}
		e2eStack, e2eErr = Start(ctx, Options{TemplatePath: "testdata/template.yaml", WorkDir: dir})
	})
	if e2eErr != nil {
		t.Fatalf("start e2e devstack: %v", e2eErr)
	}
	return e2eStack
}

func TestMain(m *testing.M) {
	code := m.Run()
	if e2eStack != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = e2eStack.Close(ctx)
		cancel()
	}
	os.Exit(code)
}

type echoed struct {
	Event events.APIGatewayProxyRequest `json:"event"`
	Env   map[string]string             `json:"env"`
}

func TestProxyEventAndEnvironment(t *testing.T) {
	s := e2e(t)
	r := call(t, http.MethodGet, s.APIURL+"/public/item%201?tag=a&tag=b&one=1", nil, map[string]string{"X-Custom": "v"})
	if r.status != 200 {
		t.Fatalf("GET /public = %d %s", r.status, r.body)
	}
	var got echoed
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	ev := got.Event
	checks := []struct {
		name      string
		got, want any
	}{
		{"resource", ev.Resource, "/public/{item}"},
		{"path parameter decoded", ev.PathParameters["item"], "item 1"},
		{"single query value", ev.QueryStringParameters["one"], "1"},
		{"multi query values", strings.Join(ev.MultiValueQueryStringParameters["tag"], ","), "a,b"},
		{"header", ev.Headers["X-Custom"], "v"},
		{"stage", ev.RequestContext.Stage, "test"},
		{"source ip", ev.RequestContext.Identity.SourceIP, "127.0.0.1"},
		{"request id set", ev.RequestContext.RequestID != "", true},
		{"request id echoed", r.header.Get("X-Amzn-Requestid"), ev.RequestContext.RequestID},
		{"env from template !Ref", got.Env["TABLE_NAME"], "e2e-test"},
		{"env from template !Sub", got.Env["GREETING"], "hello-test"},
		{"function name", got.Env["AWS_LAMBDA_FUNCTION_NAME"] != "", true},
		{"dynamodb endpoint injected", strings.HasPrefix(got.Env["AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:"), true},
		{"host CA bundle not inherited", got.Env["AWS_CA_BUNDLE"], ""},
		{"host variable not inherited", got.Env["DEVSTACK_TEST_LEAK"], ""},
		{"multi-value response header", strings.Join(r.header.Values("X-Multi"), ","), "a,b"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestAuthorizer(t *testing.T) {
	s := e2e(t)
	cases := []struct {
		name       string
		auth       string
		wantStatus int
		wantSub    string
	}{
		{"no identity header", "", http.StatusUnauthorized, ""},
		{"unauthorized token", "Bearer nope", http.StatusUnauthorized, ""},
		{"explicit deny", "Bearer deny", http.StatusForbidden, ""},
		{"authorizer failure", "Bearer broken", http.StatusInternalServerError, ""},
		{"allow passes context", "Bearer allow-usr_abc", http.StatusOK, "usr_abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			r := call(t, http.MethodGet, s.APIURL+"/private", nil, h)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			if tc.wantSub == "" {
				return
			}
			var got echoed
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if sub := got.Event.RequestContext.Authorizer["sub"]; sub != tc.wantSub {
				t.Errorf("authorizer context sub = %v, want %s", sub, tc.wantSub)
			}
			if p := got.Event.RequestContext.Authorizer["principalId"]; p != tc.wantSub {
				t.Errorf("principalId = %v, want %s", p, tc.wantSub)
			}
		})
	}
}

func TestCrashIsBadGatewayAndRecovers(t *testing.T) {
	s := e2e(t)
	for _, mode := range []string{"exit", "panic"} {
		t.Run(mode, func(t *testing.T) {
			r := call(t, http.MethodGet, s.APIURL+"/crash?mode="+mode, nil, nil)
			if r.status != http.StatusBadGateway {
				t.Fatalf("crash mode=%s: status %d, want 502 (%s)", mode, r.status, r.body)
			}
			if !strings.Contains(string(r.body), "Internal server error") {
				t.Errorf("crash body %s, want API Gateway's message", r.body)
			}
			if r := call(t, http.MethodGet, s.APIURL+"/crash?mode=ok", nil, nil); r.status != http.StatusOK {
				t.Fatalf("after crash: status %d, want 200 (process replaced)", r.status)
			}
		})
	}
}

func TestTimeoutIsEnforced(t *testing.T) {
	s := e2e(t)
	start := time.Now()
	r := call(t, http.MethodGet, s.APIURL+"/sleep", nil, nil)
	if r.status != http.StatusBadGateway {
		t.Fatalf("sleep past timeout: status %d, want 502", r.status)
	}
	// The function sleeps 10 s; its template timeout is 1 s. An answer before
	// the sleep could end proves the runtime cut it off (functional, not a
	// performance bound).
	if elapsed := time.Since(start); elapsed >= 10*time.Second {
		t.Fatalf("timeout not enforced: answered after %v", elapsed)
	}
	if r := call(t, http.MethodGet, s.APIURL+"/sleep?ms=1", nil, nil); r.status != http.StatusOK {
		t.Fatalf("after timeout: status %d, want 200", r.status)
	}
}

func TestConcurrentCallsStartMoreProcesses(t *testing.T) {
	s := e2e(t)
	const n = 4
	var wg sync.WaitGroup
	pids := make([]float64, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := call(t, http.MethodGet, s.APIURL+"/sleep?ms=400", nil, nil)
			statuses[i] = r.status
			var body struct{ PID float64 }
			_ = json.Unmarshal(r.body, &body)
			pids[i] = body.PID
		}()
	}
	wg.Wait()
	distinct := map[float64]bool{}
	for i := range n {
		if statuses[i] != http.StatusOK {
			t.Fatalf("call %d: status %d", i, statuses[i])
		}
		distinct[pids[i]] = true
	}
	if len(distinct) < 2 {
		t.Errorf("overlapping calls were served by %d process(es), want more than one", len(distinct))
	}
}

func TestGatewayAnswers(t *testing.T) {
	s := e2e(t)
	t.Run("unknown path", func(t *testing.T) {
		if r := call(t, http.MethodGet, s.APIURL+"/nope", nil, nil); r.status != http.StatusForbidden {
			t.Errorf("status %d, want 403 (Missing Authentication Token)", r.status)
		}
	})
	t.Run("CORS preflight", func(t *testing.T) {
		r := call(t, http.MethodOptions, s.APIURL+"/private", nil, map[string]string{
			"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET",
		})
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
			t.Errorf("preflight = %d, allow-origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	})
}

func TestBadBodiesGetTheErrorEnvelope(t *testing.T) {
	s := e2e(t)
	cases := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
	}{
		{"valid body", "application/json", `{"name":"a","count":1}`, http.StatusOK, ""},
		{"unknown member", "application/json", `{"name":"a","count":1,"role":"admin"}`, http.StatusBadRequest, "invalid_body"},
		{"string for int", "application/json", `{"name":"a","count":"1"}`, http.StatusBadRequest, "invalid_body"},
		{"duplicate member", "application/json", `{"name":"a","name":"b"}`, http.StatusBadRequest, "invalid_body"},
		{"trailing data", "application/json", `{"name":"a"} {}`, http.StatusBadRequest, "invalid_body"},
		{"not JSON content type", "text/plain", `{"name":"a"}`, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"oversize", "application/json", `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, "payload_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodPost, s.APIURL+"/strict", []byte(tc.body), map[string]string{"Content-Type": tc.contentType})
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantCode == "" {
				return
			}
			var env struct {
				Error struct{ Code, Message, RequestID string } `json:"error"`
			}
			if err := json.Unmarshal(r.body, &env); err != nil {
				t.Fatalf("not an error envelope: %s", r.body)
			}
			if env.Error.Code != tc.wantCode || env.Error.RequestID == "" || env.Error.Message == "" {
				t.Errorf("envelope %+v, want code %s with message and requestId", env.Error, tc.wantCode)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("security headers missing on %d", r.status)
			}
		})
	}
}

func TestPortTakenIsClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{
		TemplatePath: "testdata/template.yaml", WorkDir: t.TempDir(), Ports: Ports{API: port},
	})
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "-api-port") {
		t.Fatalf("Start on a taken port: %v, want a clear 'already in use' error naming the flag", err)
	}
}
