package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/store"
)

// ChangePassword replaces the caller's password after verifying the current
// one, then revokes every other session of the user (the calling one stays,
// so the user is not logged out of the device they changed it on).
//
// Wrong current passwords count against ScopePasswordChange, so a stolen
// access token cannot be used to guess the password; they answer
// ErrWrongPassword (403, audited auth.password.failed). The new password is
// judged by the policy with the stored email and display name as context
// (validate.Errors on newPassword). A concurrent change of the account is
// ErrConflict.
func (s *Service) ChangePassword(ctx context.Context, m Meta, p apigw.Principal, in ChangePasswordRequest) error {
	if err := s.require(FlowPassword); err != nil {
		return err
	}
	if err := in.validate().Err(); err != nil {
		return err
	}
	keys := []limitKey{{ScopePasswordChange, p.UserID}}
	h, err := s.reserveLimits(ctx, m, "password", p.UserID, keys)
	if err != nil {
		return err
	}
	defer h.release(ctx)
	u, err := s.d.Store.GetUser(ctx, p.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: user %s not found", ErrNotAuthenticated, p.UserID)
	case err != nil:
		return fmt.Errorf("change password: %w", err)
	case !u.Active():
		return fmt.Errorf("%w: user %s not active", ErrNotAuthenticated, p.UserID)
	}

	ok, err := s.d.Hasher.Verify(in.CurrentPassword, u.PasswordHash)
	if err != nil {
		obs.FromContext(ctx).LogAttrs(ctx, slog.LevelError, "stored password hash unusable",
			slog.String("userId", u.ID), slog.String("error", err.Error()))
	}
	if !ok {
		if err := h.failed(ctx); err != nil {
			return err
		}
		if err := s.record(ctx, m, audit.Entry{
			Actor: u.ID, ActorRole: u.Role, Action: "auth.password.failed", Target: u.ID,
			Outcome: audit.OutcomeFailure, Reason: "wrong current password",
		}); err != nil {
			return err
		}
		return fmt.Errorf("%w: user %s", ErrWrongPassword, u.ID)
	}

	v := in.validate()
	if in.NewPassword == in.CurrentPassword {
		v.Add("newPassword", "must differ from your current password")
	} else if reason := s.d.Policy.Reject(in.NewPassword, u.Email, u.DisplayName); reason != "" {
		v.Add("newPassword", reason)
	}
	if err := v.Err(); err != nil {
		return err
	}

	hash, err := s.d.Hasher.Hash(in.NewPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	_, err = s.d.Store.SetPassword(ctx, u.ID, hash, u.Version)
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case err != nil:
		return fmt.Errorf("change password: %w", err)
	}
	n, err := s.d.Store.RevokeAllSessions(ctx, u.ID, RevokedPasswordChanged, p.SessionID)
	if err != nil {
		// The password is changed but sessions it should have ended may
		// be live: that must not pass as a success. (Revoking before the
		// change instead would let a login with the old password slip in
		// between and survive.) The 500 tells the client to finish with
		// logout-all.
		return fmt.Errorf("change password: revoke other sessions: %w", err)
	}
	if h.priorFailures(0) > 0 {
		if err := s.d.Limiter.Reset(ctx, ScopePasswordChange, p.UserID); err != nil {
			obs.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "reset rate limit failed",
				slog.String("scope", ScopePasswordChange), slog.String("error", err.Error()))
		}
	}
	return s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.password.changed", Target: u.ID, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"revokedSessions": strconv.Itoa(n)},
	})
}
