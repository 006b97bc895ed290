package lambdart

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// binDir holds the testdata functions, built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	// Built the way the Makefile builds functions (CGO off, lambda.norpc).
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", dir+string(filepath.Separator),
		"./testdata/echo", "./testdata/actor", "./testdata/rawruntime")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata functions: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// bin is the path of a testdata function built by TestMain.
func bin(name string) string { return filepath.Join(binDir, name) }

// newManager returns a Manager closed at the end of the test, with its
// function output collected.
func newManager(t testing.TB, opts Options) (*Manager, *safeBuffer) {
	t.Helper()
	out := &safeBuffer{}
	if opts.FunctionOutput == nil {
		opts.FunctionOutput = out
	}
	m := NewManager(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, out
}

func register(t testing.TB, m *Manager, spec FunctionSpec) {
	t.Helper()
	if err := m.Register(spec); err != nil {
		t.Fatalf("register %s: %v", spec.Name, err)
	}
}

// actorReply is what testdata/actor answers.
type actorReply struct {
	PID        int               `json:"pid"`
	Env        map[string]string `json:"env"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMS int64             `json:"deadlineMs"`
	TraceID    string            `json:"traceId"`
	Blob       string            `json:"blob"`
}

// act invokes an actor function with one action and decodes a successful
// reply; the error is Invoke's.
func act(t testing.TB, ctx context.Context, m *Manager, name, event string) (*Result, actorReply, error) {
	t.Helper()
	res, err := m.Invoke(ctx, name, []byte(event))
	var reply actorReply
	if err == nil && res.FunctionError == nil {
		if jerr := json.Unmarshal(res.Payload, &reply); jerr != nil {
			t.Fatalf("decode actor reply %q: %v", res.Payload, jerr)
		}
	}
	return res, reply, err
}

// mustAct is act for calls that must succeed without a function error.
func mustAct(t testing.TB, m *Manager, name, event string) (*Result, actorReply) {
	t.Helper()
	res, reply, err := act(t, context.Background(), m, name, event)
	if err != nil {
		t.Fatalf("invoke %s %s: %v", name, event, err)
	}
	if res.FunctionError != nil {
		t.Fatalf("invoke %s %s: function error %+v", name, event, res.FunctionError)
	}
	return res, reply
}

// safeBuffer collects function output written from the processes' pipes.
type safeBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// eventually polls cond for up to 10s; process exits and pipe copies are
// asynchronous.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
