package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/store"
)

// Rate-limit scopes of the flows. Their policies are RateLimitPolicies.
const (
	// ScopeLoginIP counts failed logins and MFA steps per source IP.
	ScopeLoginIP = ratelimit.ScopeLoginIP
	// ScopeLoginAccount counts them per account (normalized email).
	ScopeLoginAccount = ratelimit.ScopeLoginAccount
	// ScopeLoginAccountIP counts them per (account, source IP).
	ScopeLoginAccountIP = "login-account-ip"
	// ScopeRegisterIP counts registrations per source IP.
	ScopeRegisterIP = "register-ip"
	// ScopePasswordChange counts wrong current passwords per user.
	ScopePasswordChange = "password-change"
)

// RateLimitPolicies returns the policies of every scope above, to give to
// the Limiter (platform.Deps.Limiter) of any function running a flow.
//
// The login limits are built so that the (account, IP) limit is reached
// well before the account-wide one (5 < 20): a burst from one place is
// stopped without locking the owner out elsewhere (see the package
// documentation). Registration allows 20 accepted sign-ups per IP and hour,
// then refuses the IP for an hour: enough for a classroom behind one NAT
// address, too few to enumerate.
func RateLimitPolicies() map[string]ratelimit.Policy {
	const window = 15 * time.Minute
	return map[string]ratelimit.Policy{
		ScopeLoginIP:        {Limit: 50, Window: window, BaseBackoff: time.Second, MaxBackoff: window},
		ScopeLoginAccount:   {Limit: 20, Window: window, BaseBackoff: time.Second, MaxBackoff: window},
		ScopeLoginAccountIP: {Limit: 5, Window: window, BaseBackoff: time.Second, MaxBackoff: window, Resettable: true},
		ScopeRegisterIP:     {Limit: 20, Window: time.Hour, BaseBackoff: time.Hour, MaxBackoff: time.Hour},
		ScopePasswordChange: {Limit: 5, Window: window, BaseBackoff: time.Second, MaxBackoff: window, Resettable: true},
	}
}

// limitKey is one counter: a scope and the key counted in it.
type limitKey struct{ scope, key string }

// accountKey is the rate-limit key of a login email: the normalized address,
// or for something that is not an address its trimmed lower-case form, so
// unknown and malformed accounts are counted like real ones.
func accountKey(email string) string {
	if norm, err := store.NormalizeEmail(email); err == nil {
		return norm
	}
	return strings.ToLower(strings.TrimSpace(email))
}

// loginKeys are the three login counters of an account seen from m's IP.
func loginKeys(account string, m Meta) []limitKey {
	return []limitKey{
		{ScopeLoginIP, m.ipKey()},
		{ScopeLoginAccount, account},
		{ScopeLoginAccountIP, account + "\x00" + m.ipKey()},
	}
}

// held is one attempt's reserved places in every counter that limits it
// (rs[i] for keys[i], nil where a scope refused or failed)
// (ratelimit.Reserve): taken before the expensive work, so a concurrent
// burst cannot all pass the limits before the first failure is counted.
// failed keeps them as failures; release gives back whatever is unsettled
// (deferred by every flow, so successes and internal errors never count).
type held struct {
	keys      []limitKey
	rs        []*ratelimit.Reservation
	decisions []ratelimit.Decision
}

// priorFailures is how many failures key i had before this attempt.
func (h *held) priorFailures(i int) int { return h.decisions[i].Count - 1 }

// failed records the attempt as a failure on every scope.
func (h *held) failed(ctx context.Context) error {
	var errs []error
	for i, r := range h.rs {
		if r == nil {
			continue
		}
		if err := r.Failed(ctx); err != nil {
			errs = append(errs, fmt.Errorf("count %s: %w", h.keys[i].scope, err))
		}
	}
	return errors.Join(errs...)
}

// release gives back every place not settled as a failure.
func (h *held) release(ctx context.Context) {
	for i, r := range h.rs {
		if r == nil {
			continue
		}
		if err := r.Succeeded(ctx); err != nil {
			obs.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "release rate-limit reservation failed",
				slog.String("scope", h.keys[i].scope), slog.String("error", err.Error()))
		}
	}
}

// reserveLimits reserves a place for this attempt on every key, at once
// (one round trip). If any refuses, the others are given back, the refusal
// is audited (auth.throttled) and a *ThrottledError returned. Throttled
// attempts are not counted, so a burst against one (account, IP) does not
// also exhaust the account-wide limit. The caller must defer h.release.
func (s *Service) reserveLimits(ctx context.Context, m Meta, flow string, target string, keys []limitKey) (*held, error) {
	h := &held{keys: keys, rs: make([]*ratelimit.Reservation, len(keys)), decisions: make([]ratelimit.Decision, len(keys))}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.decisions[i], h.rs[i], errs[i] = s.d.Limiter.Reserve(ctx, k.scope, k.key)
		}()
	}
	wg.Wait()
	var refused *ThrottledError
	var firstErr error
	for i, k := range keys {
		if errs[i] != nil && firstErr == nil {
			firstErr = fmt.Errorf("reserve %s: %w", k.scope, errs[i])
		}
		if d := h.decisions[i]; errs[i] == nil && !d.Allowed && (refused == nil || d.RetryAfter > refused.RetryAfter) {
			refused = &ThrottledError{Scope: k.scope, RetryAfter: d.RetryAfter}
		}
	}
	if firstErr != nil || refused != nil {
		h.release(ctx)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if refused != nil {
		if err := s.record(ctx, m, audit.Entry{
			Action: "auth.throttled", Target: target, Outcome: audit.OutcomeDenied,
			Reason:  "rate limit " + refused.Scope,
			Details: map[string]string{"flow": flow, "scope": refused.Scope, "retryAfter": fmt.Sprintf("%ds", int64((refused.RetryAfter+time.Second-1)/time.Second))},
		}); err != nil {
			return nil, err
		}
		return nil, refused
	}
	return h, nil
}

// resetAccountIP forgets the (account, IP) failures after a full success, so
// a user who mistyped is not slowed next time. A failure to reset is not
// worth failing a login for; the counter expires anyway.
func (s *Service) resetAccountIP(ctx context.Context, account string, m Meta) {
	k := loginKeys(account, m)[2]
	if err := s.d.Limiter.Reset(ctx, k.scope, k.key); err != nil {
		obs.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "reset rate limit failed",
			slog.String("scope", k.scope), slog.String("error", err.Error()))
	}
}
