package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource is a StageReader with programmable values, errors and a gate
// that holds fetches until released.
type fakeSource struct {
	mu     sync.Mutex
	values map[string]string // id+"/"+stage -> value
	err    error
	calls  atomic.Int32
	gate   chan struct{} // when non-nil, fetches wait on it
	onCall func()        // runs at the start of each fetch
}

func (f *fakeSource) Secret(ctx context.Context, id string) ([]byte, error) {
	return f.SecretStage(ctx, id, StageCurrent)
}

func (f *fakeSource) SecretStage(ctx context.Context, id, stage string) ([]byte, error) {
	f.calls.Add(1)
	if f.onCall != nil {
		f.onCall()
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.values[id+"/"+stage]
	if !ok {
		return nil, fmt.Errorf("get secret %s: %w", id, ErrNotFound)
	}
	return []byte(v), nil
}

func (f *fakeSource) set(id, stage, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[id+"/"+stage] = v
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newFixture(t *testing.T) (*fakeSource, *fakeClock, *Cache) {
	t.Helper()
	src := &fakeSource{values: map[string]string{"keys/AWSCURRENT": "v1", "keys/AWSPREVIOUS": "v0"}}
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c, err := NewCache(src, time.Minute, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return src, clk, c
}

func mustGet(t *testing.T, c *Cache, id, stage string) string {
	t.Helper()
	v, err := c.SecretStage(context.Background(), id, stage)
	if err != nil {
		t.Fatalf("SecretStage(%s, %s): %v", id, stage, err)
	}
	return string(v)
}

func TestCacheTTL(t *testing.T) {
	tests := []struct {
		name      string
		advance   time.Duration
		wantValue string
		wantCalls int32
	}{
		{"fresh hit", 30 * time.Second, "v1", 1},
		{"just before expiry", time.Minute - time.Nanosecond, "v1", 1},
		{"at expiry refetches", time.Minute, "v2", 2},
		{"long after refetches", time.Hour, "v2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, clk, c := newFixture(t)
			if got := mustGet(t, c, "keys", StageCurrent); got != "v1" {
				t.Fatalf("first read = %q", got)
			}
			src.set("keys", StageCurrent, "v2") // rotation
			clk.Advance(tt.advance)
			if got := mustGet(t, c, "keys", StageCurrent); got != tt.wantValue {
				t.Fatalf("second read = %q, want %q", got, tt.wantValue)
			}
			if n := src.calls.Load(); n != tt.wantCalls {
				t.Fatalf("fetches = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestCacheTTLCountsFromFetchStart(t *testing.T) {
	src, clk, c := newFixture(t)
	src.onCall = func() { clk.Advance(50 * time.Second) } // a slow fetch
	mustGet(t, c, "keys", StageCurrent)
	src.onCall = nil
	clk.Advance(15 * time.Second) // 65 s after the fetch began
	src.set("keys", StageCurrent, "v2")
	if got := mustGet(t, c, "keys", StageCurrent); got != "v2" {
		t.Fatalf("served %q older than the TTL", got)
	}
}

func TestCacheStagesAreSeparate(t *testing.T) {
	src, _, c := newFixture(t)
	if got := mustGet(t, c, "keys", StagePrevious); got != "v0" {
		t.Fatalf("previous = %q", got)
	}
	if got, _ := c.Secret(context.Background(), "keys"); string(got) != "v1" {
		t.Fatalf("current = %q", got)
	}
	mustGet(t, c, "keys", StagePrevious)
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestCacheDoesNotCacheErrors(t *testing.T) {
	src, _, c := newFixture(t)
	src.err = errors.New("throttled")
	if _, err := c.Secret(context.Background(), "keys"); err == nil {
		t.Fatal("error swallowed")
	}
	src.err = nil
	if got := mustGet(t, c, "keys", StageCurrent); got != "v1" {
		t.Fatalf("after recovery = %q", got)
	}
	if _, err := c.SecretStage(context.Background(), "keys", StagePending); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing stage err = %v, want ErrNotFound", err)
	}
}

func TestCacheReturnsCopies(t *testing.T) {
	_, _, c := newFixture(t)
	v, _ := c.Secret(context.Background(), "keys")
	clear(v) // callers may wipe key material after use
	if got := mustGet(t, c, "keys", StageCurrent); got != "v1" {
		t.Fatalf("cache corrupted by caller: %q", got)
	}
}

func TestCacheSingleFlight(t *testing.T) {
	src, _, c := newFixture(t)
	src.gate = make(chan struct{})
	const n = 50
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			v, err := c.Secret(context.Background(), "keys")
			results[i], errs[i] = string(v), err
		})
	}
	// Wait until the one fetch has started, then release it.
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(src.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != "v1" {
			t.Fatalf("caller %d: %q, %v", i, results[i], errs[i])
		}
	}
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
}

func TestCacheWaiterCancellationDoesNotFailOthers(t *testing.T) {
	src, _, c := newFixture(t)
	src.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.Secret(ctx, "keys")
		first <- err
	}()
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan string, 1)
	go func() {
		v, _ := c.Secret(context.Background(), "keys")
		second <- string(v)
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller err = %v", err)
	}
	close(src.gate)
	if got := <-second; got != "v1" {
		t.Fatalf("other caller got %q", got)
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestCacheFetchTimeout(t *testing.T) {
	src := &fakeSource{values: map[string]string{}, gate: make(chan struct{})} // never released
	c, err := NewCache(src, time.Minute, WithFetchTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Secret(context.Background(), "keys"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestCacheInvalidate(t *testing.T) {
	src, _, c := newFixture(t)
	mustGet(t, c, "keys", StageCurrent)
	mustGet(t, c, "keys", StagePrevious)
	src.set("keys", StageCurrent, "v2")
	c.Invalidate("keys")
	if got := mustGet(t, c, "keys", StageCurrent); got != "v2" {
		t.Fatalf("after Invalidate = %q", got)
	}
	mustGet(t, c, "keys", StagePrevious)
	if n := src.calls.Load(); n != 4 {
		t.Fatalf("fetches = %d, want 4 (both stages refetched)", n)
	}
}

func TestCacheInvalidateDuringFetch(t *testing.T) {
	src, _, c := newFixture(t)
	src.gate = make(chan struct{})
	old := make(chan string, 1)
	go func() {
		v, _ := c.Secret(context.Background(), "keys")
		old <- string(v)
	}()
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Invalidate("keys") // the in-flight result may predate a rotation
	src.set("keys", StageCurrent, "v2")
	close(src.gate)
	if got := <-old; got != "v2" && got != "v1" {
		t.Fatalf("in-flight caller got %q", got)
	}
	src.gate = nil
	if got := mustGet(t, c, "keys", StageCurrent); got != "v2" {
		t.Fatalf("read after Invalidate = %q, want a fresh fetch", got)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestNewCacheRejects(t *testing.T) {
	src := &fakeSource{}
	if _, err := NewCache(nil, time.Minute); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := NewCache(src, 0); err == nil {
		t.Error("zero TTL accepted")
	}
	if _, err := NewCache(src, time.Minute, WithFetchTimeout(0)); err == nil {
		t.Error("zero fetch timeout accepted")
	}
}
