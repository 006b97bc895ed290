package lambdart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Lambda's defaults and limits, applied where the template leaves a value out.
const (
	defaultTimeout        = 3 * time.Second
	defaultMemoryMB       = 128
	defaultMaxConcurrency = 10
	// defaultInitTimeout is Lambda's init phase limit for on-demand functions.
	defaultInitTimeout = 10 * time.Second
	defaultRegion      = "us-east-1"
	// defaultAccountID is the account sam local puts in ARNs.
	defaultAccountID = "123456789012"
	// maxResponseBytes is Lambda's synchronous invocation response limit.
	maxResponseBytes = 6 * 1024 * 1024
)

// FunctionSpec describes one function as the template defines it, resolved
// for the local run.
type FunctionSpec struct {
	// Name is the function's logical ID; it is also AWS_LAMBDA_FUNCTION_NAME
	// and the last part of the invoked function ARN.
	Name string
	// Bootstrap is the executable to run (the output of Build).
	Bootstrap string
	// Env is the function's environment, KEY=VALUE, with the template's
	// intrinsics already resolved. It must not set the variables Lambda
	// itself sets (AWS_REGION, AWS_LAMBDA_*, _HANDLER, LAMBDA_TASK_ROOT, TZ):
	// CloudFormation rejects those too.
	Env []string
	// Timeout is the per-invocation limit; 0 means Lambda's default, 3s.
	Timeout time.Duration
	// MemoryMB is reported to the function (AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
	// it is not enforced. 0 means 128.
	MemoryMB int
	// MaxConcurrency caps the number of processes of this function; calls
	// beyond it wait for a free one. 0 means 10.
	MaxConcurrency int
	// Dir is the working directory and LAMBDA_TASK_ROOT; it defaults to the
	// bootstrap's directory, as /var/task holds the bootstrap in Lambda.
	Dir string
}

// Options configures a Manager. The zero value works: logs and function
// output are discarded, the region is us-east-1.
type Options struct {
	// Logger receives cold starts, timeouts, crashes and init failures.
	Logger *slog.Logger
	// FunctionOutput receives every process's stdout and stderr, line by
	// line, each line prefixed with "[Name] ". It need not be safe for
	// concurrent use: the Manager serializes writes.
	FunctionOutput io.Writer
	// Region is AWS_REGION and AWS_DEFAULT_REGION, and goes into ARNs.
	Region string
	// AccountID goes into ARNs.
	AccountID string
	// InitTimeout bounds process start to first /next; 0 means Lambda's 10s.
	InitTimeout time.Duration
}

// Manager runs functions as local processes under the Lambda Runtime API.
// It is safe for concurrent use.
type Manager struct {
	log         *slog.Logger
	out         io.Writer
	region      string
	account     string
	initTimeout time.Duration

	closed atomic.Bool
	// wg counts each process's exit watcher and server goroutine, so Close
	// can wait until every process is reaped.
	wg sync.WaitGroup

	mu    sync.Mutex
	funcs map[string]*function
}

// NewManager returns a Manager with no functions registered.
func NewManager(opts Options) *Manager {
	m := &Manager{
		log:         opts.Logger,
		out:         &syncWriter{w: opts.FunctionOutput},
		region:      opts.Region,
		account:     opts.AccountID,
		initTimeout: opts.InitTimeout,
		funcs:       make(map[string]*function),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if opts.FunctionOutput == nil {
		m.out = io.Discard
	}
	if m.region == "" {
		m.region = defaultRegion
	}
	if m.account == "" {
		m.account = defaultAccountID
	}
	if m.initTimeout <= 0 {
		m.initTimeout = defaultInitTimeout
	}
	return m
}

// Register validates spec and makes the function invocable. Registering a
// name again replaces its spec: idle processes of the old spec are stopped at
// once, busy ones after their current invocation, so a rebuilt binary is
// picked up without failing calls in flight.
func (m *Manager) Register(spec FunctionSpec) error {
	spec, err := normalizeSpec(spec)
	if err != nil {
		return fmt.Errorf("register function %q: %w", spec.Name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return fmt.Errorf("register function %q: %w", spec.Name, ErrClosed)
	}
	if f, ok := m.funcs[spec.Name]; ok {
		f.replace(spec)
		return nil
	}
	m.funcs[spec.Name] = &function{
		m:       m,
		name:    spec.Name,
		spec:    spec,
		procs:   make(map[*process]struct{}),
		changed: make(chan struct{}),
	}
	return nil
}

// Invoke runs one synchronous invocation (RequestResponse) of the named
// function with payload as the event.
//
// A handler error is a Result with FunctionError set and a nil error. Other
// failures are an *InvokeError wrapping ErrTimeout, ErrCrashed or
// ErrInitFailed; ErrUnknownFunction and ErrClosed come wrapped with context.
//
// ctx bounds the wait for a process and for the answer. A call cancelled
// after its event reached the function returns ctx's error, but the function
// keeps running, as in Lambda, under its own timeout.
func (m *Manager) Invoke(ctx context.Context, name string, payload []byte) (*Result, error) {
	if m.closed.Load() {
		return nil, fmt.Errorf("invoke %s: %w", name, ErrClosed)
	}
	m.mu.Lock()
	f := m.funcs[name]
	m.mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("invoke %q: %w", name, ErrUnknownFunction)
	}
	inv := &invocation{
		id:      newRequestID(),
		payload: bytes.Clone(payload),
		traceID: newTraceID(time.Now()),
		done:    make(chan struct{}),
	}
	if err := f.dispatch(ctx, inv); err != nil {
		return nil, err
	}
	select {
	case <-inv.done:
		return inv.res, inv.err
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s request %s: %w", name, inv.id, ctx.Err())
	}
}

// Close kills every process, fails the invocations in flight with ErrClosed
// and waits, within ctx, until every process has been reaped. Later calls to
// Invoke and Register fail with ErrClosed. Close may be called more than once.
func (m *Manager) Close(ctx context.Context) error {
	m.closed.Store(true)
	m.mu.Lock()
	funcs := slices.Collect(maps.Values(m.funcs))
	m.mu.Unlock()
	for _, f := range funcs {
		f.mu.Lock()
		for p := range f.procs {
			if inv := p.current; inv != nil {
				inv.complete(nil, fmt.Errorf("invoke %s request %s: %w", f.spec.Name, inv.id, ErrClosed))
			}
			p.kill(ErrClosed)
		}
		f.broadcast()
		f.mu.Unlock()
	}
	reaped := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(reaped)
	}()
	select {
	case <-reaped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close lambda manager: %w", ctx.Err())
	}
}

// functionARN is the ARN Lambda hands the runtime for an unqualified invoke.
func (m *Manager) functionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", m.region, m.account, name)
}

// namePattern is Lambda's function name alphabet; logical IDs are a subset.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// reservedEnv are the variables the Manager sets itself (plus
// AWS_LAMBDA_MAX_CONCURRENCY, which would make aws-lambda-go poll /next from
// several goroutines while this runtime API hands one event at a time to a
// process). CloudFormation rejects the Lambda ones in a template too.
var reservedEnv = map[string]bool{
	"AWS_LAMBDA_RUNTIME_API":          true,
	"AWS_LAMBDA_FUNCTION_NAME":        true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION":     true,
	"AWS_LAMBDA_LOG_GROUP_NAME":       true,
	"AWS_LAMBDA_LOG_STREAM_NAME":      true,
	"AWS_LAMBDA_MAX_CONCURRENCY":      true,
	"AWS_REGION":                      true,
	"AWS_DEFAULT_REGION":              true,
	"_HANDLER":                        true,
	"LAMBDA_TASK_ROOT":                true,
	"TZ":                              true,
}

// normalizeSpec checks spec and fills in Lambda's defaults. Paths become
// absolute so the process's working directory cannot change what runs.
func normalizeSpec(spec FunctionSpec) (FunctionSpec, error) {
	if !namePattern.MatchString(spec.Name) {
		return spec, errors.New("name must be 1-64 letters, digits, '-' or '_'")
	}
	if spec.Bootstrap == "" {
		return spec, errors.New("bootstrap path is empty")
	}
	bootstrap, err := filepath.Abs(spec.Bootstrap)
	if err != nil {
		return spec, fmt.Errorf("bootstrap path: %w", err)
	}
	info, err := os.Stat(bootstrap)
	if err != nil {
		return spec, fmt.Errorf("bootstrap: %w", err)
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return spec, fmt.Errorf("bootstrap %s is not an executable file", bootstrap)
	}
	spec.Bootstrap = bootstrap

	if spec.Dir == "" {
		spec.Dir = filepath.Dir(bootstrap)
	}
	if spec.Dir, err = filepath.Abs(spec.Dir); err != nil {
		return spec, fmt.Errorf("dir: %w", err)
	}
	if info, err := os.Stat(spec.Dir); err != nil {
		return spec, fmt.Errorf("dir: %w", err)
	} else if !info.IsDir() {
		return spec, fmt.Errorf("dir %s is not a directory", spec.Dir)
	}

	switch {
	case spec.Timeout < 0:
		return spec, errors.New("timeout is negative")
	case spec.Timeout == 0:
		spec.Timeout = defaultTimeout
	}
	switch {
	case spec.MemoryMB < 0:
		return spec, errors.New("memory size is negative")
	case spec.MemoryMB == 0:
		spec.MemoryMB = defaultMemoryMB
	}
	switch {
	case spec.MaxConcurrency < 0:
		return spec, errors.New("max concurrency is negative")
	case spec.MaxConcurrency == 0:
		spec.MaxConcurrency = defaultMaxConcurrency
	}

	seen := make(map[string]bool, len(spec.Env))
	for i, kv := range spec.Env {
		key, _, ok := strings.Cut(kv, "=")
		// Values may be secrets: errors name only the key.
		switch {
		case !ok || key == "":
			return spec, fmt.Errorf("environment entry %d is not KEY=VALUE", i)
		case strings.ContainsRune(kv, 0):
			return spec, fmt.Errorf("environment variable %s contains a NUL byte", key)
		case reservedEnv[key]:
			return spec, fmt.Errorf("environment variable %s is reserved: Lambda sets it", key)
		case seen[key]:
			return spec, fmt.Errorf("environment variable %s is set twice", key)
		}
		seen[key] = true
	}
	spec.Env = slices.Clone(spec.Env)
	return spec, nil
}

// syncWriter serializes the processes' output lines onto one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
