// Package e2e drives the real template.yaml through the devstack over HTTP:
// every function built with the make targets sam build uses, the REST
// gateway with the real authorizer, embedded DynamoDB, KMS and Secrets
// Manager. Every response is checked against api-docs/openapi.yaml.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vip-platform/backend/infra/contract"
	"github.com/vip-platform/backend/infra/devstack/stack"
	"github.com/vip-platform/backend/infra/template"
)

var (
	devstack *stack.Stack
	// functionLogs receives every function's own log output for the whole
	// run, so TestLogsCarryNoSecrets can search it.
	functionLogs = &syncBuffer{}
	checker      *contract.Transport
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	work, err := os.MkdirTemp("", "vip-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	c, err := contract.Load("../../api-docs/openapi.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	checker = &contract.Transport{Contract: c}
	devstack, err = stack.Start(ctx, stack.Options{
		TemplatePath:      "../../template.yaml",
		WorkDir:           work,
		FunctionOutput:    functionLogs,
		DisableThrottling: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start devstack:", err)
		return 1
	}
	code := m.Run()
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer closeCancel()
	if err := devstack.Close(closeCtx); err != nil {
		fmt.Fprintln(os.Stderr, "close devstack:", err)
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "function logs of the failed run:\n"+lastLines(functionLogs.String(), 80))
	}
	return code
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// client is an HTTP client whose connections come from a chosen loopback
// source address, so rate limits per source IP can be exercised locally
// (the gateway takes sourceIp from the connection, never from headers).
type client struct {
	t    *testing.T
	http *http.Client
	// token is sent as a bearer token when set.
	token string
}

func newClient(t *testing.T, sourceIP string) *client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(sourceIP)}, Timeout: 5 * time.Second}
	base := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4}
	return &client{t: t, http: &http.Client{Transport: &contract.Transport{Base: base, Contract: checker.Contract}, Timeout: 60 * time.Second}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (c *client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, devstack.APIURL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	tr := c.http.Transport.(*contract.Transport)
	if _, v := tr.Report(); len(v) > 0 {
		c.t.Fatalf("contract violations:%s", contract.Summary(v))
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (c *client) expect(want int, r reply) reply {
	c.t.Helper()
	if r.status != want {
		c.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// invoke calls a function through the devstack's Lambda invoke API, the way
// `aws lambda invoke --endpoint-url` does.
func invoke(t *testing.T, function string, payload any) (body []byte, functionError string) {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(devstack.LambdaURL+"/2015-03-31/functions/"+function+"/invocations", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %s: HTTP %d %s", function, resp.StatusCode, out)
	}
	return out, resp.Header.Get("X-Amz-Function-Error")
}

// resourceName resolves a template resource to its local name (!Ref).
func resourceName(t *testing.T, logicalID string) string {
	t.Helper()
	name, err := devstack.Template.ResolveString(template.Intrinsic{Fn: "Ref", Arg: logicalID}, devstack.Env)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

var registrationIPs atomic.Int64

// registrationIP returns a fresh loopback source address for one new
// user: the platform limits registrations per source IP, as it should, so
// a test world of many users must come from many clients.
func registrationIP() string {
	n := registrationIPs.Add(1)
	return fmt.Sprintf("127.1.%d.%d", n/250, n%250+1)
}

var uniq struct {
	mu sync.Mutex
	n  int
}

// email returns a fresh address for one test.
func email(prefix string) string {
	uniq.mu.Lock()
	defer uniq.mu.Unlock()
	uniq.n++
	return fmt.Sprintf("%s.%d.%d@example.org", prefix, time.Now().UnixNano()%1e9, uniq.n)
}
