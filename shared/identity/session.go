package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vip-platform/backend/shared/auth/refresh"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// Lifetimes (DESIGN.md, Identity and sessions).
const (
	// SessionLifetime is a session's absolute lifetime: after it the user
	// signs in again, however often they refreshed.
	SessionLifetime = 30 * 24 * time.Hour
	// RefreshTTL is one refresh token's lifetime, capped by the session's.
	RefreshTTL = 14 * 24 * time.Hour
	// ChallengeTTL is how long the TOTP step of a login may take.
	ChallengeTTL = 5 * time.Minute
)

// Challenge tokens: prefix and randomness (refresh.RandomToken).
const (
	ChallengePrefix = "mfa_"
	ChallengeBytes  = 32
)

// TokenTypeBearer is the only token type issued.
const TokenTypeBearer = "Bearer"

// Tokens is the body of a successful login or refresh (openapi: Tokens).
// It prints and logs redacted.
type Tokens struct {
	AccessToken      string `json:"accessToken"`
	TokenType        string `json:"tokenType"`
	ExpiresIn        int64  `json:"expiresIn"`
	RefreshToken     string `json:"refreshToken"`
	RefreshExpiresIn int64  `json:"refreshExpiresIn"`
}

// Format prints lifetimes only, never a token.
func (t Tokens) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "identity.Tokens{expiresIn=%d, refreshExpiresIn=%d, [redacted]}", t.ExpiresIn, t.RefreshExpiresIn)
}

// LogValue logs lifetimes only, never a token.
func (t Tokens) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("expiresIn", t.ExpiresIn), slog.Int64("refreshExpiresIn", t.RefreshExpiresIn))
}

// MFAChallenge is the body of a login that needs the TOTP step (openapi:
// MFAChallenge). It prints and logs redacted.
type MFAChallenge struct {
	MFARequired bool   `json:"mfaRequired"`
	Challenge   string `json:"challenge"`
	ExpiresIn   int64  `json:"expiresIn"`
}

// Format prints no challenge.
func (c MFAChallenge) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "identity.MFAChallenge{expiresIn=%d, [redacted]}", c.ExpiresIn)
}

// LogValue logs no challenge.
func (c MFAChallenge) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("expiresIn", c.ExpiresIn))
}

// startSession creates a session for u with its first refresh token and
// issues the tokens. The store creates it only if u is still active, so a
// suspension racing the login leaves nothing live behind: that race answers
// like a failed login.
func (s *Service) startSession(ctx context.Context, m Meta, u store.User) (Tokens, string, error) {
	now := s.now()
	sess := store.Session{
		ID: ids.New(ids.Session), UserID: u.ID, UserAgent: m.UserAgent, SourceIP: m.SourceIP,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime),
		// The session exists only if the password verified is still the
		// user's: a concurrent password change wins over a login in flight.
		VerifiedPasswordHash: u.PasswordHash,
	}
	rt, err := refresh.New()
	if err != nil {
		return Tokens{}, "", fmt.Errorf("new refresh token: %w", err)
	}
	rtExpires := minTime(now.Add(RefreshTTL), sess.ExpiresAt)
	err = s.d.Store.CreateSession(ctx, sess, store.RefreshToken{Hash: rt.Hash(), ExpiresAt: rtExpires})
	switch {
	case errors.Is(err, store.ErrConflict):
		return Tokens{}, "", fmt.Errorf("%w: account deactivated or password changed during login: %w", ErrInvalidCredentials, err)
	case err != nil:
		return Tokens{}, "", err
	}
	t, err := s.issue(ctx, u, sess.ID, rt, rtExpires, now)
	return t, sess.ID, err
}

// issue signs an access token for u in session sid, with role and org as
// stored now (so a role change takes effect on the next refresh), and
// returns it with the refresh token rt.
func (s *Service) issue(ctx context.Context, u store.User, sid string, rt refresh.Token, rtExpires, now time.Time) (Tokens, error) {
	access, claims, err := s.d.Issuer.Issue(ctx, token.Subject{UserID: u.ID, SessionID: sid, Role: u.Role, OrgID: u.OrgID})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{
		AccessToken:      access,
		TokenType:        TokenTypeBearer,
		ExpiresIn:        int64(claims.ExpiresAt.Sub(claims.IssuedAt) / time.Second),
		RefreshToken:     string(rt),
		RefreshExpiresIn: max(1, int64(rtExpires.Sub(now)/time.Second)),
	}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
