package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func TestChallenges(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "mfa-login@example.com")
	put := func(t *testing.T, ttl time.Duration) string {
		t.Helper()
		h := newHash(t)
		if err := e.st.PutChallenge(ctx(t), store.Challenge{Hash: h, UserID: u.ID, ExpiresAt: e.clk.Now().Add(ttl)}); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
		return h
	}

	t.Run("consumed once", func(t *testing.T) {
		h := put(t, 5*time.Minute)
		c, err := e.st.ConsumeChallenge(ctx(t), h)
		if err != nil || c.UserID != u.ID || c.Hash != h || !c.ExpiresAt.Equal(e.clk.Now().Add(5*time.Minute)) {
			t.Fatalf("ConsumeChallenge = %+v, %v", c, err)
		}
		if _, err := e.st.ConsumeChallenge(ctx(t), h); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second consume: %v, want ErrNotFound", err)
		}
	})

	notFound := []struct {
		name string
		hash func(t *testing.T) string
	}{
		{"expired", func(t *testing.T) string {
			h := put(t, time.Minute)
			e.clk.Advance(time.Minute)
			return h
		}},
		{"unknown", newHash},
		{"malformed", func(*testing.T) string { return "CHALLENGE#x" }},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.st.ConsumeChallenge(ctx(t), tc.hash(t)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
	}

	invalid := []struct {
		name string
		c    store.Challenge
	}{
		{"bad hash", store.Challenge{Hash: "a b", UserID: u.ID, ExpiresAt: base.Add(time.Hour)}},
		{"bad user", store.Challenge{Hash: newHash(t), UserID: "u", ExpiresAt: base.Add(time.Hour)}},
		{"already expired", store.Challenge{Hash: newHash(t), UserID: u.ID, ExpiresAt: base}},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.st.PutChallenge(ctx(t), tc.c); err == nil || errors.Is(err, store.ErrConflict) {
				t.Fatalf("got %v, want a validation error", err)
			}
		})
	}

	t.Run("duplicate hash", func(t *testing.T) {
		h := put(t, time.Minute)
		err := e.st.PutChallenge(ctx(t), store.Challenge{Hash: h, UserID: ids.New(ids.User), ExpiresAt: e.clk.Now().Add(time.Hour)})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("got %v, want ErrConflict", err)
		}
	})

	t.Run("concurrent consumers", func(t *testing.T) {
		h := put(t, 5*time.Minute)
		const n = 10
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = e.st.ConsumeChallenge(ctx(t), h) })
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrNotFound):
				t.Fatalf("consumer %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("challenge consumed %d times, want 1", ok)
		}
	})
}
