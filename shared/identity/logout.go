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

// Logout revokes the caller's session: its refresh token stops working at
// once and the authorizer refuses its access token on the next call. It is
// idempotent: a session already gone is not an error.
func (s *Service) Logout(ctx context.Context, m Meta, p apigw.Principal) error {
	if err := s.require(FlowLogout); err != nil {
		return err
	}
	err := s.d.Store.RevokeSession(ctx, p.UserID, p.SessionID, RevokedLogout)
	switch {
	case errors.Is(err, store.ErrNotFound):
		obs.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "logout of a session that no longer exists",
			slog.String("sessionId", p.SessionID))
	case err != nil:
		return fmt.Errorf("logout: %w", err)
	}
	return s.record(ctx, m, audit.Entry{
		Actor: p.UserID, ActorRole: p.Role, Action: "auth.logout", Target: p.SessionID, Outcome: audit.OutcomeSuccess,
	})
}

// LogoutAll revokes every session of the caller, the calling one included.
func (s *Service) LogoutAll(ctx context.Context, m Meta, p apigw.Principal) error {
	if err := s.require(FlowLogout); err != nil {
		return err
	}
	n, err := s.d.Store.RevokeAllSessions(ctx, p.UserID, RevokedLogoutAll, "")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("logout all: %w", err)
	}
	return s.record(ctx, m, audit.Entry{
		Actor: p.UserID, ActorRole: p.Role, Action: "auth.logout_all", Target: p.UserID, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"revoked": strconv.Itoa(n)},
	})
}
