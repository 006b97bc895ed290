package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 30, 0, time.UTC)

// TestReserveStopsConcurrentBursts is the reason Reserve exists: 40
// attempts started at once against a limit of 3 let exactly 3 through
// (Check-then-Fail would let all 40 through), and the refused ones leave no
// count behind.
func TestReserveStopsConcurrentBursts(t *testing.T) {
	e := newEnv(t, t0)
	ctx := context.Background()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, r, err := e.lim.Reserve(ctx, scopeAccount, "victim@example.org")
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
				if err := r.Failed(ctx); err != nil {
					t.Error(err)
				}
			} else if r != nil || d.RetryAfter <= 0 {
				t.Errorf("refused attempt: reservation %v, retry after %s", r, d.RetryAfter)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 3 {
		t.Fatalf("%d of 40 concurrent attempts allowed, want the limit, 3", n)
	}
	d, err := e.lim.Check(ctx, scopeAccount, "victim@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if d.Count != 3 || d.Allowed {
		t.Fatalf("after the burst: %+v, want 3 failures counted and throttled", d)
	}
}

func TestReserveSettlement(t *testing.T) {
	ctx := context.Background()
	t.Run("success gives the place back", func(t *testing.T) {
		e := newEnv(t, t0)
		for range 10 {
			d, r, err := e.lim.Reserve(ctx, scopeAccount, "k")
			if err != nil || !d.Allowed {
				t.Fatalf("reserve: %+v %v", d, err)
			}
			if err := r.Succeeded(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if d, _ := e.lim.Check(ctx, scopeAccount, "k"); d.Count != 0 || !d.Allowed {
			t.Fatalf("successes were counted: %+v", d)
		}
	})
	t.Run("back-off grows and then lets one attempt through", func(t *testing.T) {
		e := newEnv(t, t0)
		for range 3 {
			_, r, _ := e.lim.Reserve(ctx, scopeAccount, "k")
			_ = r.Failed(ctx)
		}
		if d, r, _ := e.lim.Reserve(ctx, scopeAccount, "k"); d.Allowed || r != nil {
			t.Fatalf("at the limit: %+v", d)
		}
		e.clock.Advance(1100 * time.Millisecond) // BaseBackoff 1 s
		d, r, err := e.lim.Reserve(ctx, scopeAccount, "k")
		if err != nil || !d.Allowed {
			t.Fatalf("after the back-off: %+v %v", d, err)
		}
		_ = r.Failed(ctx)
		if d, _, _ := e.lim.Reserve(ctx, scopeAccount, "k"); d.Allowed || d.RetryAfter < 1500*time.Millisecond {
			t.Fatalf("the back-off must grow: %+v", d)
		}
	})
	t.Run("settling twice is harmless", func(t *testing.T) {
		e := newEnv(t, t0)
		_, r, _ := e.lim.Reserve(ctx, scopeAccount, "k")
		_ = r.Succeeded(ctx)
		_ = r.Succeeded(ctx)
		_ = r.Failed(ctx)
		if d, _ := e.lim.Check(ctx, scopeAccount, "k"); d.Count != 0 {
			t.Fatalf("count %d after one reservation settled three times", d.Count)
		}
	})
	t.Run("a throttle from the previous window still holds", func(t *testing.T) {
		e := newEnv(t, time.Date(2026, 12, 3, 10, 0, 59, 500_000_000, time.UTC))
		for range 3 {
			_, r, _ := e.lim.Reserve(ctx, scopeAccount, "k")
			_ = r.Failed(ctx)
		}
		e.clock.Advance(600 * time.Millisecond) // next window, inside the 1 s back-off
		if d, _, _ := e.lim.Reserve(ctx, scopeAccount, "k"); d.Allowed {
			t.Fatalf("a carried-over throttle was ignored: %+v", d)
		}
	})
}
