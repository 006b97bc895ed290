package identitytest

import (
	"bytes"
	"context"
	"encoding/json/v2"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/obs"
)

// Request is an apigwtest.NewRequest POST to path with body (JSON, unless
// empty) from sourceIP.
func Request(path, body, sourceIP string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest("POST", path, body)
	req.RequestContext.Identity.SourceIP = sourceIP
	req.Headers["User-Agent"] = "identitytest-client/1.0"
	return req
}

// Logs collects what a wrapped handler logs.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Invoker runs a handler behind apigw.Wrap, exactly as its Lambda does,
// logging at debug level into Logs.
type Invoker struct {
	Logs    *Logs
	handler apigw.LambdaHandler
}

// NewInvoker wraps h under the function name.
func NewInvoker(name string, h apigw.Handler) *Invoker {
	logs := &Logs{}
	return &Invoker{Logs: logs, handler: apigw.Wrap(name, obs.New(logs, name, slog.LevelDebug), h)}
}

// Invoke sends req and returns the proxy response, failing the test if the
// wrapped handler returns an error (it never should).
func (i *Invoker) Invoke(t testing.TB, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := i.handler(c, req)
	if err != nil {
		t.Fatalf("wrapped handler returned an error: %v", err)
	}
	return resp
}

// DecodeJSON decodes body strictly into a T: a member T does not declare
// fails the test, so a response carrying more than its schema is caught.
func DecodeJSON[T any](t testing.TB, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return v
}

// AssertNoLeak fails the test if s contains any of secrets, a password hash,
// an SDK error or a Go stack trace.
func AssertNoLeak(t testing.TB, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains a secret (%.6s…)", what, sec)
		}
	}
	for _, marker := range []string{"$argon2id$", "operation error", "ResourceNotFound", "arn:aws", "goroutine ", ".go:"} {
		if strings.Contains(s, marker) {
			t.Errorf("%s contains %q", what, marker)
		}
	}
}
