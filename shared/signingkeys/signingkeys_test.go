package signingkeys_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/secrets"
	"github.com/vip-platform/backend/shared/signingkeys"
)

const secretID = "vip/test/signing-keys"

var base = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeSecret is a secrets.Reader holding one secret value. It hands out a
// fresh copy per read (as secrets.Manager does) and keeps those copies, so a
// test can check the Source wiped them.
type fakeSecret struct {
	mu     sync.Mutex
	value  []byte
	err    error
	reads  int
	handed [][]byte
}

var _ secrets.Reader = (*fakeSecret)(nil)

func (f *fakeSecret) Secret(_ context.Context, id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if id != secretID {
		return nil, fmt.Errorf("get secret %s: %w", id, secrets.ErrNotFound)
	}
	if f.err != nil {
		return nil, f.err
	}
	out := slices.Clone(f.value)
	f.handed = append(f.handed, out)
	return out, nil
}

func (f *fakeSecret) set(t *testing.T, r *token.KeyRing) {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.err = b, nil
}

func (f *fakeSecret) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSecret) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func newKey(t *testing.T) token.Key {
	t.Helper()
	k, err := token.NewKey(base)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSource(t *testing.T, f *fakeSecret, c *clock) *signingkeys.Source {
	t.Helper()
	s, err := signingkeys.New(f, secretID, signingkeys.WithClock(c.Now),
		signingkeys.WithTTL(5*time.Minute), signingkeys.WithRefreshInterval(30*time.Second))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestNew(t *testing.T) {
	f := &fakeSecret{}
	tests := []struct {
		name    string
		reader  secrets.Reader
		id      string
		opts    []signingkeys.Option
		wantErr bool
	}{
		{"defaults", f, secretID, nil, false},
		{"custom TTL and interval", f, secretID, []signingkeys.Option{signingkeys.WithTTL(time.Minute), signingkeys.WithRefreshInterval(time.Second)}, false},
		{"nil reader", nil, secretID, nil, true},
		{"empty secret id", f, "", nil, true},
		{"zero TTL", f, secretID, []signingkeys.Option{signingkeys.WithTTL(0)}, true},
		{"negative refresh interval", f, secretID, []signingkeys.Option{signingkeys.WithRefreshInterval(-time.Second)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signingkeys.New(tc.reader, tc.id, tc.opts...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

// TestKeyRingCache walks one Source through its cache lifetime.
func TestKeyRingCache(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: base}
	f := &fakeSecret{}
	r1 := &token.KeyRing{Current: newKey(t)}
	r2 := r1.Rotate(newKey(t))
	f.set(t, r1)
	s := newSource(t, f, c)

	steps := []struct {
		name      string
		advance   time.Duration
		secret    *token.KeyRing // written to the secret before the step, if set
		wantKid   string
		wantReads int
	}{
		{"cold: reads the secret", 0, nil, r1.Current.ID, 1},
		{"warm: served from cache", time.Minute, nil, r1.Current.ID, 1},
		{"rotated, within TTL: still cached", 3 * time.Minute, r2, r1.Current.ID, 1},
		{"TTL passed: re-read sees the rotation", time.Minute, nil, r2.Current.ID, 2},
		{"warm again", time.Second, nil, r2.Current.ID, 2},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.secret != nil {
			f.set(t, st.secret)
		}
		got, err := s.KeyRing(ctx)
		if err != nil {
			t.Fatalf("%s: KeyRing: %v", st.name, err)
		}
		if got.Current.ID != st.wantKid || f.count() != st.wantReads {
			t.Fatalf("%s: current %s after %d reads, want %s after %d", st.name, got.Current.ID, f.count(), st.wantKid, st.wantReads)
		}
	}
	// The parsed ring keeps the previous key verifying.
	got, _ := s.KeyRing(ctx)
	if _, ok := got.Lookup(r1.Current.ID); !ok {
		t.Fatal("rotated ring lost the previous key")
	}
}

func TestKeyRingErrors(t *testing.T) {
	ctx := context.Background()
	errDown := errors.New("connection refused")
	const marker = "VISIBLE-MARKER-0123456789"
	tests := []struct {
		name  string
		setup func(f *fakeSecret)
		is    error
	}{
		{"secret unreadable", func(f *fakeSecret) { f.fail(errDown) }, errDown},
		{"secret missing", func(f *fakeSecret) { f.fail(secrets.ErrNotFound) }, secrets.ErrNotFound},
		{"not a key ring", func(f *fakeSecret) { f.value = []byte(`{"version":1,"current":{"kid":"k","seed":"` + marker + `"}}`) }, token.ErrBadKeyRing},
		{"not JSON", func(f *fakeSecret) { f.value = []byte(marker) }, token.ErrBadKeyRing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: base}
			f := &fakeSecret{}
			tc.setup(f)
			s := newSource(t, f, c)
			for _, call := range []func(context.Context) (*token.KeyRing, error){s.KeyRing, s.RefreshKeyRing} {
				ring, err := call(ctx)
				if ring != nil || !errors.Is(err, tc.is) {
					t.Fatalf("got %v, %v; want error %v", ring, err, tc.is)
				}
				if strings.Contains(err.Error(), marker) {
					t.Fatalf("error %q quotes the secret value", err)
				}
				if errors.Is(err, token.ErrTokenInvalid) {
					t.Fatalf("a key-ring fault must not look like a token rejection: %v", err)
				}
			}
			// Errors are not cached: once the secret is fixed the next
			// call reads it again.
			ring := &token.KeyRing{Current: newKey(t)}
			f.set(t, ring)
			before := f.count()
			got, err := s.KeyRing(ctx)
			if err != nil || got.Current.ID != ring.Current.ID || f.count() != before+1 {
				t.Fatalf("after recovery: %v, %v (%d reads, want %d)", got, err, f.count(), before+1)
			}
		})
	}
}

// TestRefreshKeyRing: forced re-reads happen at most once per refresh
// interval, however many unknown kids arrive.
func TestRefreshKeyRing(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: base}
	f := &fakeSecret{}
	r1 := &token.KeyRing{Current: newKey(t)}
	r2 := r1.Rotate(newKey(t))
	r3 := r2.Rotate(newKey(t))
	f.set(t, r1)
	s := newSource(t, f, c)

	steps := []struct {
		name      string
		advance   time.Duration
		secret    *token.KeyRing
		refresh   bool // RefreshKeyRing, else KeyRing
		wantKid   string
		wantReads int
	}{
		{"cold", 0, nil, false, r1.Current.ID, 1},
		{"rotated, refresh: re-read although the TTL has not passed", time.Second, r2, true, r2.Current.ID, 2},
		{"KeyRing serves the refreshed ring", time.Second, nil, false, r2.Current.ID, 2},
		{"rotated again, refresh within the interval: cached ring", 10 * time.Second, r3, true, r2.Current.ID, 2},
		{"many refreshes within the interval: still no read", 10 * time.Second, nil, true, r2.Current.ID, 2},
		{"interval passed: refresh re-reads", 10 * time.Second, nil, true, r3.Current.ID, 3},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.secret != nil {
			f.set(t, st.secret)
		}
		get := s.KeyRing
		if st.refresh {
			get = s.RefreshKeyRing
		}
		got, err := get(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.Current.ID != st.wantKid || f.count() != st.wantReads {
			t.Fatalf("%s: current %s after %d reads, want %s after %d", st.name, got.Current.ID, f.count(), st.wantKid, st.wantReads)
		}
	}
}

// TestRefreshFailureKeepsCache: a failed forced read reports the fault but
// leaves the cached ring in service.
func TestRefreshFailureKeepsCache(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: base}
	f := &fakeSecret{}
	r1 := &token.KeyRing{Current: newKey(t)}
	f.set(t, r1)
	s := newSource(t, f, c)
	if _, err := s.KeyRing(ctx); err != nil {
		t.Fatal(err)
	}
	errDown := errors.New("throttled")
	f.fail(errDown)
	c.Advance(time.Minute)
	if _, err := s.RefreshKeyRing(ctx); !errors.Is(err, errDown) {
		t.Fatalf("RefreshKeyRing = %v, want %v", err, errDown)
	}
	got, err := s.KeyRing(ctx)
	if err != nil || got.Current.ID != r1.Current.ID {
		t.Fatalf("KeyRing after a failed refresh = %v, %v", got, err)
	}
	// Within the interval a retry does not hammer the failing secret.
	reads := f.count()
	if got, err := s.RefreshKeyRing(ctx); err != nil || got.Current.ID != r1.Current.ID || f.count() != reads {
		t.Fatalf("refresh within interval after failure = %v, %v, reads %d→%d", got, err, reads, f.count())
	}
}

// TestSecretBytesWiped: the raw secret value is overwritten once parsed.
func TestSecretBytesWiped(t *testing.T) {
	c := &clock{t: base}
	f := &fakeSecret{}
	f.set(t, &token.KeyRing{Current: newKey(t)})
	if _, err := newSource(t, f, c).KeyRing(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(f.handed) != 1 {
		t.Fatalf("%d reads", len(f.handed))
	}
	for i, b := range f.handed[0] {
		if b != 0 {
			t.Fatalf("byte %d of the secret value left in memory", i)
		}
	}
}

// TestWarmVerifierAcceptsRotatedKey is the reason RefreshKeyRing exists: a
// verifier that cached the ring before a rotation accepts a token signed by
// the new key at once, and still accepts tokens of the old one.
func TestWarmVerifierAcceptsRotatedKey(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: base}
	f := &fakeSecret{}
	r1 := &token.KeyRing{Current: newKey(t)}
	f.set(t, r1)
	src := newSource(t, f, c)
	cfgV := token.VerifierConfig{Issuer: "vip-test", Audience: "vip-test-api", Now: c.Now}
	cfgI := token.IssuerConfig{Issuer: "vip-test", Audience: "vip-test-api", Now: c.Now}
	verifier, err := token.NewVerifier(src, cfgV)
	if err != nil {
		t.Fatal(err)
	}
	subject := token.Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: token.RoleIntern}
	issue := func(r *token.KeyRing) string {
		t.Helper()
		iss, err := token.NewIssuer(token.StaticKeyRing{Ring: r}, cfgI)
		if err != nil {
			t.Fatal(err)
		}
		raw, _, err := iss.Issue(ctx, subject)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	oldToken := issue(r1)
	if _, err := verifier.Verify(ctx, oldToken); err != nil {
		t.Fatalf("warm-up: %v", err)
	}

	r2 := r1.Rotate(newKey(t))
	f.set(t, r2)
	c.Advance(5 * time.Second) // well within the 5-minute TTL
	if _, err := verifier.Verify(ctx, issue(r2)); err != nil {
		t.Fatalf("token of the rotated-in key rejected by a warm verifier: %v", err)
	}
	if _, err := verifier.Verify(ctx, oldToken); err != nil {
		t.Fatalf("token of the previous key rejected after rotation: %v", err)
	}
	if f.count() != 2 {
		t.Fatalf("%d secret reads, want 2 (cold start + one refresh)", f.count())
	}

	// Forged kids cannot turn every request into a Secrets Manager read.
	stranger := issue(&token.KeyRing{Current: newKey(t)})
	for range 20 {
		if _, err := verifier.Verify(ctx, stranger); !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("token of a foreign ring = %v, want ErrUnknownKey", err)
		}
	}
	if f.count() != 2 {
		t.Fatalf("%d secret reads after unknown kids within the interval, want 2", f.count())
	}
}

// TestConcurrent exercises one Source from many goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: base}
	f := &fakeSecret{}
	r1 := &token.KeyRing{Current: newKey(t)}
	f.set(t, r1)
	s := newSource(t, f, c)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			get := s.KeyRing
			if i%2 == 0 {
				get = s.RefreshKeyRing
			}
			if r, err := get(ctx); err != nil || r.Current.ID != r1.Current.ID {
				t.Errorf("got %v, %v", r, err)
			}
			c.Advance(time.Second)
		})
	}
	wg.Wait()
}
