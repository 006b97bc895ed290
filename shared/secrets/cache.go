package secrets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultFetchTimeout bounds one fetch from the source. The fetch is shared
// by every caller waiting for the key, so it does not run on any single
// caller's context (a caller giving up must not fail the others).
const DefaultFetchTimeout = 5 * time.Second

// Cache is a StageReader in front of another, keeping each (secret, stage)
// value for a TTL. It is safe for concurrent use; concurrent misses of one
// key share a single fetch; errors are not cached; a value is never served
// once its TTL, counted from the moment its fetch began, has passed.
type Cache struct {
	src          StageReader
	ttl          time.Duration
	fetchTimeout time.Duration
	now          func() time.Time

	mu       sync.Mutex
	entries  map[cacheKey]cacheEntry
	inflight map[cacheKey]*fetch
}

var _ StageReader = (*Cache)(nil)

type cacheKey struct{ id, stage string }

type cacheEntry struct {
	value   []byte
	expires time.Time
}

type fetch struct {
	done  chan struct{}
	value []byte
	err   error
}

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) CacheOption {
	return func(c *Cache) { c.now = now }
}

// WithFetchTimeout overrides DefaultFetchTimeout.
func WithFetchTimeout(d time.Duration) CacheOption {
	return func(c *Cache) { c.fetchTimeout = d }
}

// NewCache caches src's values for ttl (positive). Choose ttl shorter than
// the overlap a rotation keeps the previous version valid for.
func NewCache(src StageReader, ttl time.Duration, opts ...CacheOption) (*Cache, error) {
	if src == nil {
		return nil, errors.New("secrets: nil cache source")
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("secrets: cache TTL must be positive, got %v", ttl)
	}
	c := &Cache{
		src:          src,
		ttl:          ttl,
		fetchTimeout: DefaultFetchTimeout,
		now:          time.Now,
		entries:      make(map[cacheKey]cacheEntry),
		inflight:     make(map[cacheKey]*fetch),
	}
	for _, o := range opts {
		o(c)
	}
	if c.fetchTimeout <= 0 {
		return nil, fmt.Errorf("secrets: fetch timeout must be positive, got %v", c.fetchTimeout)
	}
	return c, nil
}

// Secret returns the cached AWSCURRENT value of id.
func (c *Cache) Secret(ctx context.Context, id string) ([]byte, error) {
	return c.SecretStage(ctx, id, StageCurrent)
}

// SecretStage returns a copy of the cached value, fetching it on a miss or
// after expiry. A caller whose ctx ends while waiting gets ctx's error; the
// shared fetch carries on for the others.
func (c *Cache) SecretStage(ctx context.Context, id, stage string) ([]byte, error) {
	key := cacheKey{id, stage}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			return slices.Clone(e.value), nil
		}
		delete(c.entries, key)
	}
	f, ok := c.inflight[key]
	if !ok {
		f = &fetch{done: make(chan struct{})}
		c.inflight[key] = f
		go c.run(context.WithoutCancel(ctx), key, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return slices.Clone(f.value), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("get secret %s (%s): %w", id, stage, ctx.Err())
	}
}

// run performs one fetch and publishes it, unless Invalidate superseded it
// meanwhile (then its waiters still get the value, but it is not cached).
func (c *Cache) run(ctx context.Context, key cacheKey, f *fetch) {
	started := c.now()
	ctx, cancel := context.WithTimeout(ctx, c.fetchTimeout)
	defer cancel()
	value, err := c.src.SecretStage(ctx, key.id, key.stage)

	c.mu.Lock()
	if c.inflight[key] == f {
		delete(c.inflight, key)
		if err == nil {
			c.entries[key] = cacheEntry{value: slices.Clone(value), expires: started.Add(c.ttl)}
		}
	}
	c.mu.Unlock()
	f.value, f.err = value, err
	close(f.done)
}

// Invalidate drops every cached stage of secret id, and detaches fetches in
// flight so their results are not cached: the next read fetches afresh.
// Call it when a value proved stale (a token signed by an unknown key ID).
func (c *Cache) Invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.id == id {
			delete(c.entries, k)
		}
	}
	for k := range c.inflight {
		if k.id == id {
			delete(c.inflight, k)
		}
	}
}
