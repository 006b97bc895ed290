package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/store"
)

// Audit actions and revocation reasons of this file.
const (
	ActionSessionRevoked = "auth.session.revoked"
	// ReasonUserRevoked is stored on a session the user revoked from their
	// session list.
	ReasonUserRevoked = "revoked by user"
)

// SessionReader lists a user's live sessions.
type SessionReader interface {
	ListSessions(ctx context.Context, userID string) ([]store.Session, error)
}

// SessionRevokerStore is what revoking one session needs.
type SessionRevokerStore interface {
	GetSession(ctx context.Context, userID, sessionID string) (store.Session, error)
	RevokeSession(ctx context.Context, userID, sessionID, reason string) error
}

var (
	_ SessionReader       = (*store.Store)(nil)
	_ SessionRevokerStore = (*store.Store)(nil)
)

// SessionView is one session as its owner sees it (openapi Session). The
// ID is the public session ID; the refresh token hash never leaves.
type SessionView struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	UserAgent  string    `json:"userAgent,omitempty"`
	SourceIP   string    `json:"sourceIp,omitempty"`
}

// SessionList is the body of GET /v1/me/sessions.
type SessionList struct {
	Sessions []SessionView `json:"sessions"`
}

// SessionLister lists the caller's sessions.
type SessionLister struct {
	store SessionReader
}

// NewSessionLister returns the session lister.
func NewSessionLister(st SessionReader) (*SessionLister, error) {
	if st == nil {
		return nil, errors.New("account: nil session reader")
	}
	return &SessionLister{store: st}, nil
}

// List returns the caller's live sessions, newest first, marking the one
// the request came with as current.
func (l *SessionLister) List(ctx context.Context, c Caller) (SessionList, error) {
	sessions, err := l.store.ListSessions(ctx, c.UserID)
	if err != nil {
		return SessionList{}, fmt.Errorf("list sessions: %w", err)
	}
	out := SessionList{Sessions: make([]SessionView, 0, len(sessions))}
	for _, s := range sessions {
		out.Sessions = append(out.Sessions, SessionView{
			ID: s.ID, Current: s.ID == c.SessionID,
			CreatedAt: s.CreatedAt.UTC(), LastSeenAt: s.LastSeenAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
			UserAgent: s.UserAgent, SourceIP: s.SourceIP,
		})
	}
	return out, nil
}

// SessionRevoker revokes one of the caller's sessions.
type SessionRevoker struct {
	store SessionRevokerStore
	audit audit.Auditor
	now   func() time.Time
}

// NewSessionRevoker returns the session revoker; now decides which sessions
// are still live.
func NewSessionRevoker(st SessionRevokerStore, aud audit.Auditor, now func() time.Time) (*SessionRevoker, error) {
	if st == nil || aud == nil || now == nil {
		return nil, errors.New("account: session revoker needs a store, an auditor and a clock")
	}
	return &SessionRevoker{store: st, audit: aud, now: now}, nil
}

// Revoke revokes the caller's session sessionID (possibly the current one,
// which is a logout). The lookup is keyed under the caller's own user, so
// another user's session, an unknown, expired or already revoked one are
// all ErrSessionNotFound: it answers exactly like the session list does.
func (r *SessionRevoker) Revoke(ctx context.Context, c Caller, sessionID string) error {
	sess, err := r.store.GetSession(ctx, c.UserID, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrSessionNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("read session: %w", err)
	}
	if !sess.Live(r.now()) {
		return fmt.Errorf("%w: session is %s", ErrSessionNotFound, sess.Status)
	}
	err = r.store.RevokeSession(ctx, c.UserID, sessionID, ReasonUserRevoked)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrSessionNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	e := c.entry(ActionSessionRevoked, sessionID, audit.OutcomeSuccess)
	e.Reason = ReasonUserRevoked
	e.Details = map[string]string{"current": strconv.FormatBool(sessionID == c.SessionID)}
	if err := r.audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
