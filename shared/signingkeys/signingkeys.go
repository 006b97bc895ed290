// Package signingkeys serves the access-token key ring from Secrets Manager:
// a token.KeySource that parses the secret once per cache TTL and, when a
// token names a key the cached ring does not know (the ring was rotated after
// this warm Lambda cached it), re-reads the secret at most once per
// RefreshInterval instead of failing until the TTL runs out.
package signingkeys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/secrets"
)

// Defaults: a rotation is seen within TTL everywhere, and within
// RefreshInterval by a verifier that meets a token signed with the new key.
const (
	DefaultTTL             = 5 * time.Minute
	DefaultRefreshInterval = 30 * time.Second
)

// Source is a token.KeySource backed by a Secrets Manager secret. It is safe
// for concurrent use.
type Source struct {
	reader   secrets.Reader
	secretID string
	ttl      time.Duration
	refresh  time.Duration
	now      func() time.Time

	mu          sync.Mutex
	ring        *token.KeyRing
	fetchedAt   time.Time
	refreshedAt time.Time
}

var (
	_ token.KeySource = (*Source)(nil)
	_ token.Refresher = (*Source)(nil)
)

// Option configures a Source.
type Option func(*Source)

// WithTTL sets how long a parsed ring is used before it is read again.
func WithTTL(d time.Duration) Option { return func(s *Source) { s.ttl = d } }

// WithRefreshInterval sets the minimum time between forced re-reads.
func WithRefreshInterval(d time.Duration) Option { return func(s *Source) { s.refresh = d } }

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// New returns a Source reading secretID through reader (an uncached
// secrets.Manager: the Source caches the parsed ring itself).
func New(reader secrets.Reader, secretID string, opts ...Option) (*Source, error) {
	if reader == nil || secretID == "" {
		return nil, errors.New("signingkeys: reader and secret ID are required")
	}
	s := &Source{reader: reader, secretID: secretID, ttl: DefaultTTL, refresh: DefaultRefreshInterval, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.ttl <= 0 || s.refresh <= 0 {
		return nil, errors.New("signingkeys: TTL and refresh interval must be positive")
	}
	return s, nil
}

// KeyRing returns the cached ring, reading the secret when the cache is
// empty or older than the TTL.
func (s *Source) KeyRing(ctx context.Context) (*token.KeyRing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ring != nil && s.now().Sub(s.fetchedAt) < s.ttl {
		return s.ring, nil
	}
	return s.load(ctx)
}

// RefreshKeyRing re-reads the secret now unless it was force-read less than
// the refresh interval ago, and returns the (possibly unchanged) ring. The
// verifier calls it when a token's kid is unknown.
func (s *Source) RefreshKeyRing(ctx context.Context) (*token.KeyRing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ring != nil && s.now().Sub(s.refreshedAt) < s.refresh {
		return s.ring, nil
	}
	s.refreshedAt = s.now()
	return s.load(ctx)
}

func (s *Source) load(ctx context.Context) (*token.KeyRing, error) {
	raw, err := s.reader.Secret(ctx, s.secretID)
	if err != nil {
		return nil, fmt.Errorf("signingkeys: read key ring: %w", err)
	}
	ring, err := token.ParseKeyRing(raw)
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("signingkeys: parse key ring: %w", err)
	}
	s.ring, s.fetchedAt = ring, s.now()
	return ring, nil
}
