package restapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
	"github.com/vip-platform/backend/infra/template"
)

// handlerFunc is what the fake invoker runs for one function.
type handlerFunc func(ctx context.Context, payload []byte) (*lambdart.Result, error)

type fakeCall struct {
	function string
	payload  []byte
}

// fakeInvoker stands in for *lambdart.Manager: it records every call and
// runs the handler registered for the function.
type fakeInvoker struct {
	mu       sync.Mutex
	calls    []fakeCall
	handlers map[string]handlerFunc
	// fallback answers functions without their own handler.
	fallback handlerFunc
}

var _ Invoker = (*fakeInvoker)(nil)

func newFakeInvoker() *fakeInvoker {
	return &fakeInvoker{handlers: map[string]handlerFunc{}}
}

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) (*lambdart.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{function: function, payload: append([]byte(nil), payload...)})
	h, ok := f.handlers[function]
	if !ok {
		h = f.fallback
	}
	f.mu.Unlock()
	if h == nil {
		return nil, lambdart.ErrUnknownFunction
	}
	return h(ctx, payload)
}

func (f *fakeInvoker) set(function string, h handlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[function] = h
}

// callsTo returns the payloads function received, in order.
func (f *fakeInvoker) callsTo(function string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]byte
	for _, c := range f.calls {
		if c.function == function {
			out = append(out, c.payload)
		}
	}
	return out
}

func (f *fakeInvoker) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// respond returns a handler answering with a fixed proxy response.
func respond(resp events.APIGatewayProxyResponse) handlerFunc { return respondJSON(resp) }

// respondJSON returns a handler answering with v as JSON. A value that
// cannot be marshaled makes the handler fail, which the test then sees.
func respondJSON(v any) handlerFunc {
	payload, err := json.Marshal(v)
	if err != nil {
		return fail(err)
	}
	return raw(payload)
}

// raw returns a handler answering with a fixed payload.
func raw(payload []byte) handlerFunc {
	return func(context.Context, []byte) (*lambdart.Result, error) {
		return &lambdart.Result{RequestID: "lambda-req", Payload: payload}, nil
	}
}

// fail returns a handler failing with err.
func fail(err error) handlerFunc {
	return func(context.Context, []byte) (*lambdart.Result, error) { return nil, err }
}

// functionError returns a handler whose function returned an error.
func functionError(message, typ string) handlerFunc {
	return func(context.Context, []byte) (*lambdart.Result, error) {
		return &lambdart.Result{RequestID: "lambda-req", FunctionError: &lambdart.FunctionError{ErrorMessage: message, ErrorType: typ}}, nil
	}
}

// nameEcho answers 200 with the invoked function's name as the body; the
// routing tests use it to see which function a request reached.
func nameEcho(function string) handlerFunc {
	return respond(events.APIGatewayProxyResponse{StatusCode: 200, Body: function})
}

// policy builds an authorizer response.
func policy(principal string, ctx map[string]any, stmts ...events.IAMPolicyStatement) handlerFunc {
	return respondJSON(events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: stmts},
		Context:        ctx,
	})
}

func stmt(effect string, resources ...string) events.IAMPolicyStatement {
	return events.IAMPolicyStatement{Effect: effect, Action: []string{"execute-api:Invoke"}, Resource: resources}
}

// clock is a settable time source for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func loadTemplate(t testing.TB, name string) *template.Template {
	t.Helper()
	tpl, err := template.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return tpl
}

func newTestGateway(t testing.TB, file string, inv Invoker, mod func(*Config)) *Gateway {
	t.Helper()
	cfg := Config{
		Template:  loadTemplate(t, file),
		Invoker:   inv,
		Region:    "eu-west-1",
		AccountID: "111122223333",
		APIID:     "abcde12345",
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

type req struct {
	method  string
	target  string
	headers map[string][]string
	body    io.Reader
	remote  string
}

func do(g http.Handler, r req) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.target, r.body)
	for k, vs := range r.headers {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, hr)
	return rec
}

// header reads a response header case-insensitively (the gateway writes
// x-amzn-RequestId in AWS's spelling, not Go's canonical one).
func header(rec *httptest.ResponseRecorder, name string) string {
	for k, vs := range rec.Header() {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

func decodeEvent(t *testing.T, payload []byte) events.APIGatewayProxyRequest {
	t.Helper()
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("decode proxy event: %v", err)
	}
	return ev
}

func allowAll(inv *fakeInvoker) {
	inv.set("AuthFunction", policy("user-1", nil, stmt("Allow", "*")))
}

var bearer = map[string][]string{"Authorization": {"Bearer token-1"}}
