package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/refresh"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/store"
)

// LoginResult is the outcome of a correct password: exactly one of Tokens
// (a session was started) and Challenge (the TOTP step must follow) is set.
type LoginResult struct {
	Tokens    *Tokens
	Challenge *MFAChallenge
}

// Login is the password step (see the package documentation for the
// answers it gives and the limits it applies). Errors: validate.Errors,
// *ThrottledError, ErrInvalidCredentials, ErrMFARequired, or an internal
// error.
func (s *Service) Login(ctx context.Context, m Meta, in LoginRequest) (LoginResult, error) {
	if err := s.require(FlowLogin); err != nil {
		return LoginResult{}, err
	}
	if err := in.Validate(); err != nil {
		return LoginResult{}, err
	}
	account := accountKey(in.Email)
	keys := loginKeys(account, m)
	// The account lookup does not depend on the limits: overlap the two
	// round trips (a throttled attempt just discards the lookup).
	var u store.User
	var err error
	looked := make(chan struct{})
	go func() {
		defer close(looked)
		u, err = s.d.Store.GetUserByEmail(ctx, in.Email)
	}()
	h, limitErr := s.reserveLimits(ctx, m, "login", "", keys)
	if limitErr != nil {
		<-looked
		return LoginResult{}, limitErr
	}
	defer h.release(ctx)
	<-looked
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The same derivation a wrong password costs, and then the same
		// path: count, audit, one answer.
		s.d.Hasher.DummyVerify(in.Password)
		return LoginResult{}, s.loginFailed(ctx, m, h, store.User{}, audit.OutcomeFailure, "unknown account")
	case err != nil:
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	ok, err := s.d.Hasher.Verify(in.Password, u.PasswordHash)
	if err != nil {
		// A stored hash that cannot be used is a fault to fix, but to the
		// caller it is a failed login like any other.
		obs.FromContext(ctx).LogAttrs(ctx, slog.LevelError, "stored password hash unusable",
			slog.String("userId", u.ID), slog.String("error", err.Error()))
	}
	if !ok {
		return LoginResult{}, s.loginFailed(ctx, m, h, u, audit.OutcomeFailure, "wrong password")
	}
	if !u.Active() {
		return LoginResult{}, s.loginFailed(ctx, m, h, u, audit.OutcomeDenied, "account suspended")
	}
	if s.d.Hasher.NeedsRehash(u.PasswordHash) {
		u = s.rehash(ctx, u, in.Password)
	}

	if u.MFA.Enabled {
		c, err := s.challenge(ctx, m, u)
		if err != nil {
			return LoginResult{}, err
		}
		return LoginResult{Challenge: &c}, nil
	}
	if u.Role == apigw.RoleAdmin {
		if err := s.record(ctx, m, audit.Entry{
			Actor: u.ID, ActorRole: u.Role, Action: "auth.login.failed", Target: u.ID,
			Outcome: audit.OutcomeDenied, Reason: "platform admin without MFA",
		}); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, fmt.Errorf("%w: admin %s has no TOTP", ErrMFARequired, u.ID)
	}

	t, sid, err := s.startSession(ctx, m, u)
	if errors.Is(err, ErrInvalidCredentials) {
		return LoginResult{}, s.loginFailed(ctx, m, h, u, audit.OutcomeDenied, "account deactivated during login")
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	// Resetting the (account, IP) counter and auditing are independent; a
	// counter with no failures needs no reset (the common case).
	reset := make(chan struct{})
	go func() {
		defer close(reset)
		if h.priorFailures(2) > 0 {
			s.resetAccountIP(ctx, account, m)
		}
	}()
	err = s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.login.succeeded", Target: u.ID, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"session": sid, "method": "password"},
	})
	<-reset
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Tokens: &t}, nil
}

// loginFailed counts the failure on every login scope, audits it and returns
// the one answer every failure gets. u is the zero User for an unknown
// account.
func (s *Service) loginFailed(ctx context.Context, m Meta, h *held, u store.User, outcome, reason string) error {
	if err := h.failed(ctx); err != nil {
		return err
	}
	if err := s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.login.failed", Target: u.ID, Outcome: outcome, Reason: reason,
	}); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalidCredentials, reason)
}

// rehash replaces u's hash with one at the hasher's current parameters,
// after a successful verification (the only moment the password is known).
// Failing to store it is logged, not fatal: the old hash still verifies and
// the next login tries again.
func (s *Service) rehash(ctx context.Context, u store.User, pw string) store.User {
	log := obs.FromContext(ctx)
	hash, err := s.d.Hasher.Hash(pw)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "re-hash password failed", slog.String("userId", u.ID), slog.String("error", err.Error()))
		return u
	}
	nu, err := s.d.Store.SetPassword(ctx, u.ID, hash, u.Version)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "store re-hashed password failed", slog.String("userId", u.ID), slog.String("error", err.Error()))
		return u
	}
	log.LogAttrs(ctx, slog.LevelInfo, "password re-hashed with current parameters", slog.String("userId", u.ID))
	return nu
}

// challenge stores a fresh single-use MFA challenge for u (only its hash)
// and returns the challenge to hand out.
func (s *Service) challenge(ctx context.Context, m Meta, u store.User) (MFAChallenge, error) {
	c, err := refresh.RandomToken(ChallengePrefix, ChallengeBytes)
	if err != nil {
		return MFAChallenge{}, fmt.Errorf("login: %w", err)
	}
	if err := s.d.Store.PutChallenge(ctx, store.Challenge{
		Hash: refresh.Hash(c), UserID: u.ID, ExpiresAt: s.now().Add(ChallengeTTL),
		Credential: credentialFingerprint(u.PasswordHash),
	}); err != nil {
		return MFAChallenge{}, fmt.Errorf("login: %w", err)
	}
	if err := s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.login.mfa_challenged", Target: u.ID, Outcome: audit.OutcomeSuccess,
	}); err != nil {
		return MFAChallenge{}, err
	}
	return MFAChallenge{MFARequired: true, Challenge: c, ExpiresIn: int64(ChallengeTTL.Seconds())}, nil
}

// credentialFingerprint identifies the password a challenge was issued for
// without storing its hash a second time.
func credentialFingerprint(passwordHash string) string {
	return refresh.Hash(passwordHash)
}
