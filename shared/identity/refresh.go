package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/refresh"
	"github.com/vip-platform/backend/shared/store"
)

// Session revocation reasons recorded by the flows.
const (
	RevokedRefreshReuse    = "refresh_reuse"
	RevokedUserInactive    = "user_inactive"
	RevokedLogout          = "logout"
	RevokedLogoutAll       = "logout_all"
	RevokedPasswordChanged = "password_changed"
)

// rotateAttempts bounds retries of a rotation that lost a race without the
// token being spent (store.ErrConflict): retrying is safe, looping is not.
const rotateAttempts = 3

// Refresh spends a refresh token and returns a new access token and the
// next refresh token of the same session. The access token carries the
// user's role and organization as stored now.
//
// Presenting a spent token revokes its session, and with it the newer token
// someone else holds (reuse means the token was stolen, or the client is
// broken; either way the family is no longer trusted), and is audited as
// auth.refresh.reuse. Every failure is ErrInvalidRefreshToken.
//
// The next token is stored with RefreshTTL even when the session ends
// sooner; it cannot outlive the session, since rotation requires a live
// one, and refreshExpiresIn reports the earlier of the two.
func (s *Service) Refresh(ctx context.Context, m Meta, in RefreshRequest) (Tokens, error) {
	if err := s.require(FlowRefresh); err != nil {
		return Tokens{}, err
	}
	if err := in.Validate(); err != nil {
		return Tokens{}, err
	}
	// Shape first: garbage never reaches the table.
	presented, err := refresh.Parse(in.RefreshToken)
	if err != nil {
		return Tokens{}, s.refreshFailed(ctx, m, store.RefreshToken{}, "malformed token")
	}

	var (
		next refresh.Token
		old  store.RefreshToken
	)
	now := s.now()
	for attempt := 1; ; attempt++ {
		if next, err = refresh.New(); err != nil {
			return Tokens{}, fmt.Errorf("refresh: %w", err)
		}
		old, err = s.d.Store.RotateRefresh(ctx, presented.Hash(),
			store.RefreshToken{Hash: next.Hash(), ExpiresAt: now.Add(RefreshTTL)}, now)
		if !errors.Is(err, store.ErrConflict) || attempt == rotateAttempts {
			break
		}
	}
	switch {
	case errors.Is(err, store.ErrTokenSpent):
		return Tokens{}, s.refreshReused(ctx, m, old)
	case errors.Is(err, store.ErrNotFound):
		return Tokens{}, s.refreshFailed(ctx, m, store.RefreshToken{}, "unknown or expired token, or session not live")
	case err != nil:
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	}

	u, sess, err := s.d.Store.GetUserAndSession(ctx, old.UserID, old.SessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Tokens{}, s.refreshFailed(ctx, m, old, "user or session gone")
	case err != nil:
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	}
	if !u.Active() {
		// Suspension revokes every session anyway; revoking here covers a
		// suspension whose revocation has not finished or failed.
		if err := s.d.Store.RevokeSession(ctx, u.ID, sess.ID, RevokedUserInactive); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Tokens{}, fmt.Errorf("refresh: %w", err)
		}
		return Tokens{}, s.refreshFailed(ctx, m, old, "user not active")
	}
	if !sess.Live(now) {
		return Tokens{}, s.refreshFailed(ctx, m, old, "session revoked during refresh")
	}
	return s.issue(ctx, u, sess.ID, next, minTime(now.Add(RefreshTTL), sess.ExpiresAt), now)
}

// refreshReused revokes the family of a spent token and audits the reuse.
func (s *Service) refreshReused(ctx context.Context, m Meta, old store.RefreshToken) error {
	if err := s.d.Store.RevokeSession(ctx, old.UserID, old.SessionID, RevokedRefreshReuse); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("refresh: revoke reused family: %w", err)
	}
	if err := s.record(ctx, m, audit.Entry{
		Actor: old.UserID, Action: "auth.refresh.reuse", Target: old.SessionID, Outcome: audit.OutcomeDenied,
		Reason: "spent refresh token presented; session revoked",
	}); err != nil {
		return err
	}
	return fmt.Errorf("%w: spent token of session %s", ErrInvalidRefreshToken, old.SessionID)
}

// refreshFailed audits a refused refresh; old is the token's record when
// one was found.
func (s *Service) refreshFailed(ctx context.Context, m Meta, old store.RefreshToken, reason string) error {
	if err := s.record(ctx, m, audit.Entry{
		Actor: old.UserID, Action: "auth.refresh.failed", Target: old.SessionID, Outcome: audit.OutcomeFailure, Reason: reason,
	}); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalidRefreshToken, reason)
}
