package lambdart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// alive reports whether a process with that pid exists (watch reaps ours,
// so a killed one disappears instead of lingering as a zombie).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

func TestInvokeOutcomes(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{Region: "eu-west-1", AccountID: "111122223333"})
	register(t, m, FunctionSpec{Name: "EchoFunction", Bootstrap: bin("echo")})
	register(t, m, FunctionSpec{Name: "ActorFunction", Bootstrap: bin("actor"), Timeout: 5 * time.Second})

	tests := []struct {
		name  string
		fn    string
		event string
		check func(t *testing.T, res *Result, err error, before, after time.Time)
	}{
		{
			name: "echo answers with the event", fn: "EchoFunction", event: `{"hello":"world"}`,
			check: func(t *testing.T, res *Result, err error, _, _ time.Time) {
				if err != nil || res.FunctionError != nil {
					t.Fatalf("got %+v, %v", res, err)
				}
				if string(res.Payload) != `{"hello":"world"}` {
					t.Errorf("payload = %s", res.Payload)
				}
				if res.RequestID == "" || res.Duration <= 0 {
					t.Errorf("request id %q, duration %v", res.RequestID, res.Duration)
				}
			},
		},
		{
			name: "handler error is a function error, not a Go error", fn: "ActorFunction",
			event: `{"action":"fail","message":"no such program"}`,
			check: func(t *testing.T, res *Result, err error, _, _ time.Time) {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				want := FunctionError{ErrorMessage: "no such program", ErrorType: "errorString"}
				if res.FunctionError == nil || res.FunctionError.ErrorMessage != want.ErrorMessage || res.FunctionError.ErrorType != want.ErrorType {
					t.Errorf("function error = %+v, want %+v", res.FunctionError, want)
				}
				if res.Payload != nil {
					t.Errorf("payload = %s, want none", res.Payload)
				}
			},
		},
		{
			name: "response reader failing mid-stream is a function error", fn: "ActorFunction",
			event: `{"action":"readerfail"}`,
			check: func(t *testing.T, res *Result, err error, _, _ time.Time) {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if res.FunctionError == nil || res.FunctionError.ErrorMessage != "reader broke" || res.FunctionError.ErrorType != "errorString" {
					t.Errorf("function error = %+v", res.FunctionError)
				}
			},
		},
		{
			name: "response over 6 MB is Lambda's size error", fn: "ActorFunction",
			event: fmt.Sprintf(`{"action":"big","size":%d}`, maxResponseBytes),
			check: func(t *testing.T, res *Result, err error, _, _ time.Time) {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if res.FunctionError == nil || res.FunctionError.ErrorType != "Function.ResponseSizeTooLarge" {
					t.Errorf("function error = %+v", res.FunctionError)
				}
			},
		},
		{
			name: "response just under 6 MB passes", fn: "ActorFunction",
			event: fmt.Sprintf(`{"action":"big","size":%d}`, maxResponseBytes-100),
			check: func(t *testing.T, res *Result, err error, _, _ time.Time) {
				if err != nil || res.FunctionError != nil {
					t.Fatalf("got %+v, %v", res.FunctionError, err)
				}
				if len(res.Payload) < maxResponseBytes-100 {
					t.Errorf("payload is %d bytes", len(res.Payload))
				}
			},
		},
		{
			name: "event carries request ID, ARN, deadline and trace ID", fn: "ActorFunction",
			event: `{"action":"context"}`,
			check: func(t *testing.T, res *Result, err error, before, after time.Time) {
				if err != nil || res.FunctionError != nil {
					t.Fatalf("got %+v, %v", res, err)
				}
				var r actorReply
				if err := json.Unmarshal(res.Payload, &r); err != nil {
					t.Fatal(err)
				}
				if r.RequestID != res.RequestID {
					t.Errorf("function saw request id %q, result says %q", r.RequestID, res.RequestID)
				}
				if want := "arn:aws:lambda:eu-west-1:111122223333:function:ActorFunction"; r.ARN != want {
					t.Errorf("arn = %q, want %q", r.ARN, want)
				}
				lo, hi := before.Add(5*time.Second).UnixMilli()-1, after.Add(5*time.Second).UnixMilli()
				if r.DeadlineMS < lo || r.DeadlineMS > hi {
					t.Errorf("deadline %d not within [%d, %d]", r.DeadlineMS, lo, hi)
				}
				if !strings.HasPrefix(r.TraceID, "Root=1-") {
					t.Errorf("trace id = %q", r.TraceID)
				}
			},
		},
		{
			name: "unknown function", fn: "NoSuchFunction", event: `{}`,
			check: func(t *testing.T, res *Result, err error, _, _ time.Time) {
				if !errors.Is(err, ErrUnknownFunction) || res != nil {
					t.Errorf("got %+v, %v; want ErrUnknownFunction", res, err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			res, err := m.Invoke(context.Background(), tc.fn, []byte(tc.event))
			tc.check(t, res, err, before, time.Now())
		})
	}
}

func TestWarmReuse(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	register(t, m, FunctionSpec{Name: "ActorFunction", Bootstrap: bin("actor")})

	first, r1 := mustAct(t, m, "ActorFunction", `{"action":"pid"}`)
	if !first.Cold || first.InitDuration <= 0 {
		t.Errorf("first call: cold=%v init=%v, want a cold start with its init duration", first.Cold, first.InitDuration)
	}
	for i := range 3 {
		res, r := mustAct(t, m, "ActorFunction", `{"action":"pid"}`)
		if res.Cold || res.InitDuration != 0 {
			t.Errorf("call %d: cold=%v init=%v, want warm", i+2, res.Cold, res.InitDuration)
		}
		if r.PID != r1.PID {
			t.Errorf("call %d ran in pid %d, first in %d", i+2, r.PID, r1.PID)
		}
	}
	// A handler error does not cost the warm process.
	if res, _, err := act(t, context.Background(), m, "ActorFunction", `{"action":"fail","message":"x"}`); err != nil || res.FunctionError == nil {
		t.Fatalf("fail: %+v, %v", res, err)
	}
	if res, r := mustAct(t, m, "ActorFunction", `{"action":"pid"}`); res.Cold || r.PID != r1.PID {
		t.Errorf("after a handler error: cold=%v pid=%d, want warm pid %d", res.Cold, r.PID, r1.PID)
	}
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		calls    int
		max      int
		minProcs int
		maxProcs int
	}{
		{name: "overlapping calls start more processes", calls: 4, max: 0, minProcs: 2, maxProcs: 4},
		{name: "cap bounds the processes and the rest wait", calls: 6, max: 2, minProcs: 1, maxProcs: 2},
		{name: "cap of one serializes", calls: 3, max: 1, minProcs: 1, maxProcs: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := newManager(t, Options{})
			register(t, m, FunctionSpec{Name: "SleepFunction", Bootstrap: bin("actor"), MaxConcurrency: tc.max, Timeout: 30 * time.Second})

			var wg sync.WaitGroup
			pids := make(chan int, tc.calls)
			for range tc.calls {
				wg.Go(func() {
					_, r, err := act(t, context.Background(), m, "SleepFunction", `{"action":"sleep","ms":400}`)
					if err != nil {
						t.Errorf("invoke: %v", err)
						return
					}
					pids <- r.PID
				})
			}
			wg.Wait()
			close(pids)
			distinct := map[int]bool{}
			n := 0
			for pid := range pids {
				distinct[pid] = true
				n++
			}
			if n != tc.calls {
				t.Fatalf("%d of %d calls succeeded", n, tc.calls)
			}
			if len(distinct) < tc.minProcs || len(distinct) > tc.maxProcs {
				t.Errorf("%d processes served %d calls, want %d..%d", len(distinct), tc.calls, tc.minProcs, tc.maxProcs)
			}
		})
	}
}

func TestFailureRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		spec   FunctionSpec
		warmup bool // an actor: prove the failing process was warm and is replaced
		event  string
		kind   error
		reason string
		check  func(t *testing.T, e *InvokeError)
	}{
		{
			name: "timeout kills the process", warmup: true,
			spec:  FunctionSpec{Bootstrap: bin("actor"), Timeout: time.Second},
			event: `{"action":"sleep","ms":20000}`, kind: ErrTimeout, reason: "Task timed out after 1.00 seconds",
		},
		{
			name: "exit mid-invocation is a crash", warmup: true,
			spec:  FunctionSpec{Bootstrap: bin("actor")},
			event: `{"action":"exit"}`, kind: ErrCrashed, reason: "Runtime exited with error: exit status 3",
		},
		{
			name: "panic is a crash carrying the panic", warmup: true,
			spec:  FunctionSpec{Bootstrap: bin("actor")},
			event: `{"action":"panic","message":"nil map somewhere"}`, kind: ErrCrashed, reason: "exit status 1",
			check: func(t *testing.T, e *InvokeError) {
				if e.Reported == nil || e.Reported.ErrorMessage != "nil map somewhere" || e.Reported.ErrorType != "string" {
					t.Errorf("reported = %+v", e.Reported)
				}
				if len(e.Reported.StackTrace) == 0 || !strings.Contains(strings.Join(e.Reported.StackTrace, "\n"), "main.go") {
					t.Errorf("stack trace = %q", e.Reported.StackTrace)
				}
			},
		},
		{
			name:  "reported Runtime.ExitError is a crash",
			spec:  FunctionSpec{Bootstrap: bin("rawruntime"), Env: []string{"MODE=exit-error"}},
			event: `{}`, kind: ErrCrashed, reason: "Runtime.ExitError",
			check: func(t *testing.T, e *InvokeError) {
				if e.Reported == nil || e.Reported.ErrorMessage != "runtime gave up" {
					t.Errorf("reported = %+v", e.Reported)
				}
			},
		},
		{
			name:  "asking for the next event without answering is a crash",
			spec:  FunctionSpec{Bootstrap: bin("rawruntime"), Env: []string{"MODE=skip"}},
			event: `{}`, kind: ErrCrashed, reason: "without answering",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := newManager(t, Options{})
			spec := tc.spec
			spec.Name = fmt.Sprintf("Failing%dFunction", i)
			register(t, m, spec)

			var warmPID int
			if tc.warmup {
				_, r := mustAct(t, m, spec.Name, `{"action":"pid"}`)
				warmPID = r.PID
			}
			start := time.Now()
			res, err := m.Invoke(context.Background(), spec.Name, []byte(tc.event))
			if !errors.Is(err, tc.kind) || res != nil {
				t.Fatalf("got %+v, %v; want %v", res, err, tc.kind)
			}
			var ie *InvokeError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *InvokeError", err)
			}
			if !strings.Contains(ie.Reason, tc.reason) || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q, want reason %q", err, tc.reason)
			}
			if ie.Function != spec.Name || ie.RequestID == "" {
				t.Errorf("function %q request %q", ie.Function, ie.RequestID)
			}
			if tc.check != nil {
				tc.check(t, ie)
			}
			if time.Since(start) > 15*time.Second {
				t.Errorf("the failing call was not cut off: took %v", time.Since(start))
			}
			if !tc.warmup {
				return
			}
			eventually(t, "the failed process to be gone", func() bool { return !alive(warmPID) })
			res, r := mustAct(t, m, spec.Name, `{"action":"pid"}`)
			if !res.Cold || r.PID == warmPID {
				t.Errorf("next call: cold=%v pid=%d (failed pid %d), want a new process", res.Cold, r.PID, warmPID)
			}
		})
	}
}

func TestInitFailure(t *testing.T) {
	t.Parallel()
	garbage := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(garbage, []byte("\x7fELF but not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		spec     FunctionSpec
		opts     Options
		reason   string
		reported string
		output   string
	}{
		{name: "exit before the first event", spec: FunctionSpec{Bootstrap: bin("rawruntime"), Env: []string{"MODE=init-exit"}},
			reason: "exit status 3", output: "TABLE_NAME is not set"},
		{name: "panic before the first event", spec: FunctionSpec{Bootstrap: bin("rawruntime"), Env: []string{"MODE=init-panic"}},
			reason: "exit status 2", output: "panic: init boom"},
		{name: "init error reported to the API", spec: FunctionSpec{Bootstrap: bin("rawruntime"), Env: []string{"MODE=init-report"}},
			reason: "runtime reported an init error", reported: "cannot load config"},
		{name: "init past the init timeout", spec: FunctionSpec{Bootstrap: bin("rawruntime"), Env: []string{"MODE=init-hang"}},
			opts: Options{InitTimeout: 300 * time.Millisecond}, reason: "did not ask for an event within 300ms"},
		{name: "bootstrap that is no executable", spec: FunctionSpec{Bootstrap: garbage},
			reason: "exec format error"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, out := newManager(t, tc.opts)
			spec := tc.spec
			spec.Name = fmt.Sprintf("Init%dFunction", i)
			register(t, m, spec)
			// Twice: a failed init is not cached; each call tries a new process.
			for attempt := range 2 {
				res, err := m.Invoke(context.Background(), spec.Name, []byte(`{}`))
				if !errors.Is(err, ErrInitFailed) || res != nil {
					t.Fatalf("attempt %d: got %+v, %v; want ErrInitFailed", attempt, res, err)
				}
				if !strings.Contains(err.Error(), tc.reason) {
					t.Errorf("attempt %d: error %q, want %q in it", attempt, err, tc.reason)
				}
				if tc.reported != "" && !strings.Contains(err.Error(), tc.reported) {
					t.Errorf("attempt %d: error %q, want the reported %q in it", attempt, err, tc.reported)
				}
			}
			if tc.output != "" {
				want := "[" + spec.Name + "] " + tc.output
				eventually(t, "output "+want, func() bool { return strings.Contains(out.String(), want) })
			}
		})
	}
}

func TestEnvIsolation(t *testing.T) {
	// Not parallel: t.Setenv.
	t.Setenv("LAMBDART_PARENT_ONLY", "must not leak")
	t.Setenv("AWS_CA_BUNDLE", "/host/only/ca.pem")
	m, _ := newManager(t, Options{Region: "eu-central-1"})
	dir := t.TempDir()
	register(t, m, FunctionSpec{
		Name: "EnvFunction", Bootstrap: bin("actor"), MemoryMB: 512, Dir: dir,
		Env: []string{"TABLE_NAME=main", "AWS_ACCESS_KEY_ID=local", "EMPTY="},
	})
	_, r := mustAct(t, m, "EnvFunction", `{"action":"env"}`)

	want := map[string]string{
		"TABLE_NAME":                      "main",
		"AWS_ACCESS_KEY_ID":               "local",
		"EMPTY":                           "",
		"AWS_LAMBDA_FUNCTION_NAME":        "EnvFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/EnvFunction",
		"AWS_REGION":                      "eu-central-1",
		"AWS_DEFAULT_REGION":              "eu-central-1",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                dir,
		"TZ":                              ":UTC",
		"PATH":                            os.Getenv("PATH"),
	}
	for k, v := range want {
		if got, ok := r.Env[k]; !ok || got != v {
			t.Errorf("%s = %q (set: %v), want %q", k, got, ok, v)
		}
	}
	// Set by Lambda with per-process values.
	if api := r.Env["AWS_LAMBDA_RUNTIME_API"]; !strings.HasPrefix(api, "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", api)
	}
	if s := r.Env["AWS_LAMBDA_LOG_STREAM_NAME"]; !strings.Contains(s, "/[$LATEST]") {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q", s)
	}
	// _X_AMZN_TRACE_ID is set by aws-lambda-go itself for each event.
	allowed := map[string]bool{"AWS_LAMBDA_RUNTIME_API": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "_X_AMZN_TRACE_ID": true}
	for k := range r.Env {
		if _, ok := want[k]; !ok && !allowed[k] {
			t.Errorf("unexpected variable %s=%q in the function's environment", k, r.Env[k])
		}
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	notExec := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := FunctionSpec{Name: "OkFunction", Bootstrap: bin("echo")}
	with := func(mod func(*FunctionSpec)) FunctionSpec { s := ok; mod(&s); return s }
	tests := []struct {
		name    string
		spec    FunctionSpec
		wantErr string
	}{
		{name: "valid", spec: ok},
		{name: "empty name", spec: with(func(s *FunctionSpec) { s.Name = "" }), wantErr: "name"},
		{name: "name with a slash", spec: with(func(s *FunctionSpec) { s.Name = "a/b" }), wantErr: "name"},
		{name: "missing bootstrap", spec: with(func(s *FunctionSpec) { s.Bootstrap = bin("nope") }), wantErr: "no such file"},
		{name: "bootstrap is a directory", spec: with(func(s *FunctionSpec) { s.Bootstrap = binDir }), wantErr: "not an executable"},
		{name: "bootstrap not executable", spec: with(func(s *FunctionSpec) { s.Bootstrap = notExec }), wantErr: "not an executable"},
		{name: "dir is a file", spec: with(func(s *FunctionSpec) { s.Dir = notExec }), wantErr: "not a directory"},
		{name: "negative timeout", spec: with(func(s *FunctionSpec) { s.Timeout = -time.Second }), wantErr: "timeout"},
		{name: "negative memory", spec: with(func(s *FunctionSpec) { s.MemoryMB = -1 }), wantErr: "memory"},
		{name: "negative concurrency", spec: with(func(s *FunctionSpec) { s.MaxConcurrency = -1 }), wantErr: "concurrency"},
		{name: "env entry without =", spec: with(func(s *FunctionSpec) { s.Env = []string{"A=1", "SECRETVALUE"} }), wantErr: "entry 1 is not KEY=VALUE"},
		{name: "reserved env", spec: with(func(s *FunctionSpec) { s.Env = []string{"AWS_REGION=x"} }), wantErr: "AWS_REGION is reserved"},
		{name: "duplicate env", spec: with(func(s *FunctionSpec) { s.Env = []string{"A=1", "A=2"} }), wantErr: "A is set twice"},
	}
	m, _ := newManager(t, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Register(tc.spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("register: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("register: %v, want an error with %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "SECRETVALUE") {
				t.Errorf("error %q repeats an environment value", err)
			}
		})
	}
}

func TestReRegisterReplacesProcesses(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	register(t, m, FunctionSpec{Name: "ActorFunction", Bootstrap: bin("actor"), Env: []string{"VERSION=1"}})
	_, r1 := mustAct(t, m, "ActorFunction", `{"action":"env"}`)
	if r1.Env["VERSION"] != "1" {
		t.Fatalf("VERSION = %q", r1.Env["VERSION"])
	}
	register(t, m, FunctionSpec{Name: "ActorFunction", Bootstrap: bin("actor"), Env: []string{"VERSION=2"}})
	res, r2 := mustAct(t, m, "ActorFunction", `{"action":"env"}`)
	if r2.Env["VERSION"] != "2" || !res.Cold || r2.PID == r1.PID {
		t.Errorf("after re-register: VERSION=%q cold=%v pid=%d (old %d), want a new process with VERSION=2", r2.Env["VERSION"], res.Cold, r2.PID, r1.PID)
	}
	eventually(t, "the old process to stop", func() bool { return !alive(r1.PID) })
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, m *Manager)
	}{
		{
			name: "a call waiting at the cap gives up with its context",
			run: func(t *testing.T, m *Manager) {
				busy := make(chan error, 1)
				go func() {
					_, _, err := act(t, context.Background(), m, "ActorFunction", `{"action":"sleep","ms":1500}`)
					busy <- err
				}()
				time.Sleep(300 * time.Millisecond) // let the sleeper take the only process
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				if _, err := m.Invoke(ctx, "ActorFunction", []byte(`{"action":"pid"}`)); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("waiting call: %v, want context.DeadlineExceeded", err)
				}
				if err := <-busy; err != nil {
					t.Errorf("busy call: %v", err)
				}
			},
		},
		{
			name: "a call cancelled in flight lets the function finish, warm",
			run: func(t *testing.T, m *Manager) {
				_, warm := mustAct(t, m, "ActorFunction", `{"action":"pid"}`)
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				if _, err := m.Invoke(ctx, "ActorFunction", []byte(`{"action":"sleep","ms":800}`)); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("cancelled call: %v, want context.DeadlineExceeded", err)
				}
				// With a cap of one, this waits for the abandoned sleep to end.
				res, r := mustAct(t, m, "ActorFunction", `{"action":"pid"}`)
				if res.Cold || r.PID != warm.PID {
					t.Errorf("next call cold=%v pid=%d, want the warm pid %d", res.Cold, r.PID, warm.PID)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := newManager(t, Options{})
			register(t, m, FunctionSpec{Name: "ActorFunction", Bootstrap: bin("actor"), MaxConcurrency: 1, Timeout: 10 * time.Second})
			tc.run(t, m)
		})
	}
}

func TestRuntimeAPIRefusesOutOfTurnCalls(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	register(t, m, FunctionSpec{Name: "RawFunction", Bootstrap: bin("rawruntime"), Env: []string{"MODE=protocol"}})
	res, err := m.Invoke(context.Background(), "RawFunction", []byte(`{}`))
	if err != nil || string(res.Payload) != `{"first":true}` {
		t.Fatalf("first event: %+v, %v", res, err)
	}
	res, err = m.Invoke(context.Background(), "RawFunction", []byte(`{}`))
	if err != nil || res.Cold {
		t.Fatalf("second event: %+v, %v", res, err)
	}
	var got map[string]int
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"bogus": 400, "again": 400, "againError": 400, "lateInit": 403}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: status %d, want %d", k, got[k], v)
		}
	}
}

func TestFunctionOutput(t *testing.T) {
	t.Parallel()
	m, out := newManager(t, Options{})
	register(t, m, FunctionSpec{Name: "LogFunction", Bootstrap: bin("actor")})
	mustAct(t, m, "LogFunction", `{"action":"log"}`)
	for _, line := range []string{"[LogFunction] to stdout\n", "[LogFunction] to stderr\n", "[LogFunction] no newline yet... done\n"} {
		eventually(t, "line "+line, func() bool { return strings.Contains(out.String(), line) })
	}
}

func TestClose(t *testing.T) {
	// Not parallel: it counts goroutines.
	baseline := runtime.NumGoroutine()
	m := NewManager(Options{})
	register(t, m, FunctionSpec{Name: "ActorFunction", Bootstrap: bin("actor"), Timeout: 30 * time.Second})
	_, warm := mustAct(t, m, "ActorFunction", `{"action":"pid"}`)

	inFlight := make(chan error, 1)
	go func() {
		_, err := m.Invoke(context.Background(), "ActorFunction", []byte(`{"action":"sleep","ms":20000}`))
		inFlight <- err
	}()
	time.Sleep(500 * time.Millisecond) // let it reach the function
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-inFlight; !errors.Is(err, ErrClosed) {
		t.Errorf("in-flight call: %v, want ErrClosed", err)
	}
	if alive(warm.PID) {
		t.Errorf("process %d survived Close", warm.PID)
	}
	if _, err := m.Invoke(context.Background(), "ActorFunction", []byte(`{"action":"pid"}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("invoke after close: %v, want ErrClosed", err)
	}
	if err := m.Register(FunctionSpec{Name: "Other", Bootstrap: bin("echo")}); !errors.Is(err, ErrClosed) {
		t.Errorf("register after close: %v, want ErrClosed", err)
	}
	if err := m.Close(ctx); err != nil {
		t.Errorf("second close: %v", err)
	}
	eventually(t, "goroutines to wind down", func() bool { return runtime.NumGoroutine() <= baseline })
}

func BenchmarkWarmInvoke(b *testing.B) {
	m, _ := newManager(b, Options{})
	register(b, m, FunctionSpec{Name: "EchoFunction", Bootstrap: bin("echo")})
	payload := []byte(`{"httpMethod":"GET","path":"/health","headers":{"Accept":"application/json"}}`)
	if _, err := m.Invoke(context.Background(), "EchoFunction", payload); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := m.Invoke(context.Background(), "EchoFunction", payload)
		if err != nil || res.Cold {
			b.Fatalf("invoke: %+v, %v", res, err)
		}
	}
}
