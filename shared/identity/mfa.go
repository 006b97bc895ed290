package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/refresh"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/store"
)

// TOTPContext is the encryption context a user's TOTP secret is sealed
// under (shared/keys): enrolment must seal with exactly this, LoginMFA
// opens with it, and a secret copied onto another user cannot be opened.
func TOTPContext(userID string) map[string]string {
	return map[string]string{"userId": userID, "purpose": "totp"}
}

// LoginMFA is the TOTP step: it spends the challenge (whatever the code
// turns out to be), checks the code against the user's secret, refuses a
// code whose time step was already used, and starts a session. Every
// failure is ErrInvalidCode, audited (auth.mfa.failed) and counted on the
// login scopes of the source IP and, once the challenge names the user, of
// the account. Errors: validate.Errors, *ThrottledError, ErrInvalidCode,
// or an internal error.
func (s *Service) LoginMFA(ctx context.Context, m Meta, in LoginMFARequest) (Tokens, error) {
	if err := s.require(FlowLoginMFA); err != nil {
		return Tokens{}, err
	}
	if err := in.Validate(); err != nil {
		return Tokens{}, err
	}
	ipKeys := []limitKey{{ScopeLoginIP, m.ipKey()}}
	ipHeld, err := s.reserveLimits(ctx, m, "login-mfa", "", ipKeys)
	if err != nil {
		return Tokens{}, err
	}
	defer ipHeld.release(ctx)
	if refresh.Check(in.Challenge, ChallengePrefix, ChallengeBytes) != nil {
		return Tokens{}, s.mfaFailed(ctx, m, store.User{}, "malformed challenge", ipHeld)
	}
	ch, err := s.d.Store.ConsumeChallenge(ctx, refresh.Hash(in.Challenge))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Tokens{}, s.mfaFailed(ctx, m, store.User{}, "unknown, spent or expired challenge", ipHeld)
	case err != nil:
		return Tokens{}, fmt.Errorf("login mfa: %w", err)
	}
	u, err := s.d.Store.GetUser(ctx, ch.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Tokens{}, s.mfaFailed(ctx, m, store.User{}, "challenge of a deleted user", ipHeld)
	case err != nil:
		return Tokens{}, fmt.Errorf("login mfa: %w", err)
	}
	keys := loginKeys(u.EmailNorm, m)
	acctHeld, err := s.reserveLimits(ctx, m, "login-mfa", u.ID, keys[1:])
	if err != nil {
		return Tokens{}, err
	}
	defer acctHeld.release(ctx)
	if !u.Active() {
		return Tokens{}, s.mfaFailed(ctx, m, u, "account suspended", ipHeld, acctHeld)
	}
	if ch.Credential != credentialFingerprint(u.PasswordHash) {
		return Tokens{}, s.mfaFailed(ctx, m, u, "challenge issued before a password change", ipHeld, acctHeld)
	}
	if !u.MFA.Enabled || len(u.MFA.SecretCiphertext) == 0 {
		return Tokens{}, s.mfaFailed(ctx, m, u, "mfa no longer enabled", ipHeld, acctHeld)
	}

	secret, err := s.d.Envelope.Open(ctx, u.MFA.SecretCiphertext, TOTPContext(u.ID))
	if err != nil {
		return Tokens{}, fmt.Errorf("login mfa: open totp secret of %s: %w", u.ID, err)
	}
	step, ok := totp.ValidateAfter(string(secret), in.Code, s.now(), u.MFA.LastStep)
	clear(secret)
	if !ok {
		return Tokens{}, s.mfaFailed(ctx, m, u, "wrong code", ipHeld, acctHeld)
	}
	// The store advances the last step only forward and atomically, so of
	// two requests racing with one code only one gets here.
	err = s.d.Store.UseMFAStep(ctx, u.ID, step)
	switch {
	case errors.Is(err, store.ErrConflict):
		return Tokens{}, s.mfaFailed(ctx, m, u, "code already used", ipHeld, acctHeld)
	case err != nil:
		return Tokens{}, fmt.Errorf("login mfa: %w", err)
	}

	t, sid, err := s.startSession(ctx, m, u)
	if errors.Is(err, ErrInvalidCredentials) {
		return Tokens{}, s.mfaFailed(ctx, m, u, "account deactivated during login", ipHeld, acctHeld)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("login mfa: %w", err)
	}
	if acctHeld.priorFailures(1) > 0 {
		s.resetAccountIP(ctx, u.EmailNorm, m)
	}
	if err := s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.login.succeeded", Target: u.ID, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"session": sid, "method": "password+totp"},
	}); err != nil {
		return Tokens{}, err
	}
	return t, nil
}

// mfaFailed counts the failure on every held reservation, audits it and
// returns the one answer every MFA failure gets.
func (s *Service) mfaFailed(ctx context.Context, m Meta, u store.User, reason string, holds ...*held) error {
	for _, h := range holds {
		if err := h.failed(ctx); err != nil {
			return err
		}
	}
	if err := s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.mfa.failed", Target: u.ID, Outcome: audit.OutcomeFailure, Reason: reason,
	}); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalidCode, reason)
}
