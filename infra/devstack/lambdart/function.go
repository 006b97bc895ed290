package lambdart

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Reasons a process is killed besides a timeout or Close; they end up in
// the error of an invocation caught in flight.
var (
	errReplaced = errors.New("function re-registered")
	errProtocol = errors.New("runtime broke the Runtime API protocol")
	errStuck    = errors.New("runtime did not ask for the next event before the timeout")
)

// function is one registered name and its pool of processes. Every field of
// it, of its processes and of their current invocations is guarded by mu:
// the pool is small (MaxConcurrency) and one lock per function keeps the
// state machine easy to check.
type function struct {
	m *Manager
	// name is spec.Name, which Register never changes, readable unlocked.
	name string
	mu   sync.Mutex
	spec FunctionSpec
	// gen counts Register calls; processes of an older gen are retired.
	gen   int
	seq   int
	procs map[*process]struct{}
	// changed is closed (and replaced) whenever a process becomes idle or
	// goes away, waking the calls waiting for one.
	changed chan struct{}
}

type procState int

const (
	stateStarting procState = iota // started, has not called /next yet
	stateIdle                      // blocked in /next, no event
	stateBusy                      // holds an event
	stateDead                      // exited and reaped
)

// process is one running bootstrap with its own Runtime API listener, so
// every request it makes is known to be its own.
type process struct {
	fn      *function
	gen     int
	seq     int
	spec    FunctionSpec
	addr    string
	cmd     *exec.Cmd
	srv     *http.Server
	out     *lineWriter
	started time.Time

	state procState
	// reserved: the call that started this process gets its first event.
	reserved    bool
	killing     bool
	killReason  error
	initDur     time.Duration
	initTimer   *time.Timer
	initErr     error
	ready       chan struct{} // closed at the first /next or at exit
	readyClosed bool
	invocations int
	current     *invocation
	// inbox hands an event to the /next handler; one at most is pending.
	inbox  chan *invocation
	exited chan struct{}
}

type postKind int

const (
	postedNone postKind = iota
	postedResponse
	postedError
)

// invocation is one event on its way through a process.
type invocation struct {
	id      string
	payload []byte
	traceID string

	dispatched time.Time
	deadline   time.Time
	cold       bool
	initDur    time.Duration
	timer      *time.Timer

	posted   postKind
	postedAt time.Time
	response []byte
	ferr     *FunctionError

	finished bool
	done     chan struct{}
	res      *Result
	err      error
}

// complete records the outcome once; later outcomes are ignored, so every
// path (answer, timeout, exit, Close) may try without coordinating.
func (inv *invocation) complete(res *Result, err error) {
	if inv.finished {
		return
	}
	inv.finished = true
	inv.res, inv.err = res, err
	if inv.timer != nil {
		inv.timer.Stop()
	}
	close(inv.done)
}

// result is the Result of an invocation the runtime answered.
func (inv *invocation) result() *Result {
	r := &Result{
		RequestID: inv.id,
		Cold:      inv.cold,
		Duration:  inv.postedAt.Sub(inv.dispatched),
	}
	if inv.cold {
		r.InitDuration = inv.initDur
	}
	if inv.posted == postedError {
		r.FunctionError = inv.ferr
	} else {
		r.Payload = inv.response
	}
	return r
}

// broadcast wakes every call waiting for a process. Caller holds f.mu.
func (f *function) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// replace installs a new spec; idle processes of the old one stop now, busy
// ones when they ask for their next event. Caller holds f.m.mu.
func (f *function) replace(spec FunctionSpec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spec = spec
	f.gen++
	for p := range f.procs {
		if p.state == stateIdle {
			p.kill(errReplaced)
		}
	}
	f.broadcast()
}

// errRetry tells dispatch to look for a process again.
var errRetry = errors.New("retry")

// dispatch hands inv to an idle process, starting one if the pool has room,
// or waits for one to free up.
func (f *function) dispatch(ctx context.Context, inv *invocation) error {
	for {
		if f.m.closed.Load() {
			return fmt.Errorf("invoke %s: %w", f.name, ErrClosed)
		}
		f.mu.Lock()
		if p := f.idleProcess(); p != nil {
			f.assign(p, inv)
			f.mu.Unlock()
			return nil
		}
		if len(f.procs) < f.spec.MaxConcurrency {
			p, err := f.spawn()
			f.mu.Unlock()
			if err != nil {
				return err
			}
			if err := f.awaitReady(ctx, p, inv); !errors.Is(err, errRetry) {
				return err
			}
			continue
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("invoke %s: waiting for a free process: %w", f.name, ctx.Err())
		}
	}
}

// idleProcess returns a process of the current spec waiting for an event.
// Caller holds f.mu.
func (f *function) idleProcess() *process {
	for p := range f.procs {
		if p.state == stateIdle && !p.reserved && !p.killing && p.gen == f.gen {
			return p
		}
	}
	return nil
}

// awaitReady waits for the process this call started to ask for its first
// event, and hands it inv.
func (f *function) awaitReady(ctx context.Context, p *process, inv *invocation) error {
	select {
	case <-p.ready:
	case <-ctx.Done():
		f.mu.Lock()
		p.reserved = false
		if p.state == stateIdle {
			f.broadcast()
		}
		f.mu.Unlock()
		return fmt.Errorf("invoke %s: waiting for a cold start: %w", p.spec.Name, ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p.reserved = false
	if p.initErr != nil {
		return p.initErr
	}
	if p.state == stateIdle && !p.killing && p.gen == f.gen {
		f.assign(p, inv)
		return nil
	}
	return errRetry
}

// assign starts inv on an idle process. Caller holds f.mu.
func (f *function) assign(p *process, inv *invocation) {
	now := time.Now()
	inv.dispatched = now
	inv.deadline = now.Add(p.spec.Timeout)
	inv.cold = p.invocations == 0
	inv.initDur = p.initDur
	p.state = stateBusy
	p.current = inv
	inv.timer = time.AfterFunc(p.spec.Timeout, func() { f.timedOut(p, inv) })
	select {
	case p.inbox <- inv:
	default:
		// An idle process has an empty inbox; if that ever fails, the
		// process is not trustworthy.
		inv.complete(nil, p.failure(ErrCrashed, inv.id, "runtime API state error: event already pending", nil))
		p.kill(errProtocol)
	}
}

// spawn starts a process reserved for the calling dispatch. Caller holds f.mu.
func (f *function) spawn() (*process, error) {
	if f.m.closed.Load() {
		return nil, fmt.Errorf("invoke %s: %w", f.spec.Name, ErrClosed)
	}
	spec := f.spec
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, &InvokeError{Kind: ErrInitFailed, Function: spec.Name, Reason: "runtime API listener: " + err.Error()}
	}
	f.seq++
	p := &process{
		fn:       f,
		gen:      f.gen,
		seq:      f.seq,
		spec:     spec,
		addr:     ln.Addr().String(),
		state:    stateStarting,
		reserved: true,
		ready:    make(chan struct{}),
		inbox:    make(chan *invocation, 1),
		exited:   make(chan struct{}),
		out:      newLineWriter(f.m.out, "["+spec.Name+"] "),
	}
	p.srv = &http.Server{
		Handler:           p.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(f.m.log.Handler(), slog.LevelDebug),
	}
	cmd := exec.Command(spec.Bootstrap)
	cmd.Dir = spec.Dir
	cmd.Env = f.m.environ(spec, p.addr)
	// One writer for both streams: exec then shares one pipe, so stdout and
	// stderr lines keep their relative order.
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// A grandchild holding the pipes must not keep Wait (and Close) hanging.
	cmd.WaitDelay = time.Second
	p.cmd = cmd
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = ln.Close()
		f.m.log.Error("lambda init failed", "function", spec.Name, "err", err)
		return nil, &InvokeError{Kind: ErrInitFailed, Function: spec.Name, Reason: "start bootstrap: " + err.Error()}
	}
	f.procs[p] = struct{}{}
	p.initTimer = time.AfterFunc(f.m.initTimeout, func() { f.initTimedOut(p) })
	f.m.wg.Add(2)
	go func() {
		defer f.m.wg.Done()
		_ = p.srv.Serve(ln) // ends with ErrServerClosed once the process is reaped
	}()
	go f.watch(p)
	return p, nil
}

// environ is the process's whole environment: the function's own variables
// and the ones Lambda sets, nothing of the devstack's (which would leak
// AWS_CA_BUNDLE, profiles and credentials into the function). PATH is passed
// so functions can find tools; HOME is not, so the SDK finds no ~/.aws files,
// as in Lambda.
func (m *Manager) environ(spec FunctionSpec, api string) []string {
	env := make([]string, 0, len(spec.Env)+12)
	env = append(env, spec.Env...)
	env = append(env,
		"AWS_LAMBDA_RUNTIME_API="+api,
		"AWS_LAMBDA_FUNCTION_NAME="+spec.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(spec.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+spec.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME="+newLogStreamName(time.Now()),
		"AWS_REGION="+m.region,
		"AWS_DEFAULT_REGION="+m.region,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT="+spec.Dir,
		"TZ=:UTC",
	)
	hasPath := false
	for _, kv := range spec.Env {
		if len(kv) >= 5 && kv[:5] == "PATH=" {
			hasPath = true
		}
	}
	if path, ok := os.LookupEnv("PATH"); ok && !hasPath {
		env = append(env, "PATH="+path)
	}
	return env
}

// watch reaps the process and settles whatever it left behind.
func (f *function) watch(p *process) {
	defer f.m.wg.Done()
	waitErr := p.cmd.Wait()
	p.out.Flush()
	status := "exit status 0"
	if waitErr != nil {
		status = waitErr.Error()
	}

	f.mu.Lock()
	p.state = stateDead
	p.initTimer.Stop()
	delete(f.procs, p)
	close(p.exited)
	if !p.readyClosed {
		if p.initErr == nil {
			if errors.Is(p.killReason, ErrClosed) {
				p.initErr = fmt.Errorf("invoke %s: %w", p.spec.Name, ErrClosed)
			} else {
				p.initErr = p.failure(ErrInitFailed, "", "runtime exited before asking for an event: "+status, nil)
			}
		}
		if !errors.Is(p.initErr, ErrClosed) {
			f.m.log.Error("lambda init failed", "function", p.spec.Name, "pid", p.cmd.Process.Pid, "err", p.initErr)
		}
		p.readyClosed = true
		close(p.ready)
	}
	if inv := p.current; inv != nil && !inv.finished {
		p.current = nil
		switch {
		case errors.Is(p.killReason, ErrClosed):
			inv.complete(nil, fmt.Errorf("invoke %s request %s: %w", p.spec.Name, inv.id, ErrClosed))
		case inv.posted == postedResponse:
			// The answer was complete; only the process is gone.
			inv.complete(inv.result(), nil)
		default:
			var reported *FunctionError
			if inv.posted == postedError {
				reported = inv.ferr
			}
			err := p.failure(ErrCrashed, inv.id, "Runtime exited with error: "+status, reported)
			f.m.log.Warn("lambda runtime exited", "function", p.spec.Name, "pid", p.cmd.Process.Pid, "err", err)
			inv.complete(nil, err)
		}
	}
	f.broadcast()
	f.mu.Unlock()
	_ = p.srv.Close()
}

// timedOut ends inv at its deadline and kills the process, as Lambda resets
// the sandbox.
func (f *function) timedOut(p *process, inv *invocation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.current != inv || inv.finished {
		return
	}
	p.current = nil
	if inv.posted != postedNone {
		// Answered, but never came back for the next event.
		inv.complete(inv.result(), nil)
		p.kill(errStuck)
		return
	}
	err := p.failure(ErrTimeout, inv.id, fmt.Sprintf("Task timed out after %.2f seconds", p.spec.Timeout.Seconds()), nil)
	f.m.log.Warn("lambda timeout", "function", p.spec.Name, "pid", p.cmd.Process.Pid, "request_id", inv.id, "timeout", p.spec.Timeout)
	inv.complete(nil, err)
	p.kill(ErrTimeout)
}

// initTimedOut kills a process that took longer than the init limit.
func (f *function) initTimedOut(p *process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.state != stateStarting || p.killing {
		return
	}
	p.initErr = p.failure(ErrInitFailed, "", fmt.Sprintf("runtime did not ask for an event within %s", f.m.initTimeout), nil)
	p.kill(ErrInitFailed)
}

// kill sends SIGKILL once; watch settles the rest. Caller holds fn.mu.
func (p *process) kill(reason error) {
	if p.killing || p.state == stateDead {
		return
	}
	p.killing = true
	p.killReason = reason
	_ = p.cmd.Process.Kill()
}

// failure builds the error of an invocation this process failed.
func (p *process) failure(kind error, requestID, reason string, reported *FunctionError) *InvokeError {
	return &InvokeError{Kind: kind, Function: p.spec.Name, RequestID: requestID, Reason: reason, Reported: reported}
}

// newRequestID returns a random (version 4) UUID, the shape of Lambda's.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// newTraceID returns an X-Ray trace header, not sampled.
func newTraceID(now time.Time) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", now.Unix(), b[:12], b[12:])
}

// newLogStreamName has the shape of Lambda's: date/[version]instance.
func newLogStreamName(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/[$LATEST]%x", now.UTC().Format("2006/01/02"), b)
}
