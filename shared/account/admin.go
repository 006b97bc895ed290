package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Audit actions and revocation reasons of the admin operations.
const (
	ActionUserSuspended  = "admin.user.suspended"
	ActionUserReinstated = "admin.user.reinstated"
	ActionDenied         = "authz.denied"
	// ReasonSuspended is stored on every session a suspension revoked.
	ReasonSuspended = "suspended"
)

// Bounds of an admin's stated reason, in characters.
const (
	MinAdminReason = 3
	MaxAdminReason = 500
)

// ruleSelf refuses an admin acting on their own account: suspending
// oneself locks the platform's last admin out; reinstating oneself would let
// a suspended admin undo their own suspension.
const ruleSelf = "an admin cannot change their own status"

// statusWriteAttempts bounds the re-read-and-retry loop when a concurrent
// write (a profile edit, a login's MFA step) bumps the target's version.
const statusWriteAttempts = 3

// AdminStore is what suspending and reinstating users needs.
type AdminStore interface {
	UserReader
	SetStatus(ctx context.Context, userID, status string, expectedVersion int64) (store.User, error)
	RevokeAllSessions(ctx context.Context, userID, reason, exceptSessionID string) (int, error)
}

var _ AdminStore = (*store.Store)(nil)

// StatusChange is the payload of admin-suspend-user and
// admin-reinstate-user: who acts, on whom, and why (all required).
type StatusChange struct {
	ActorID string `json:"actorId"`
	UserID  string `json:"userId"`
	Reason  string `json:"reason"`
}

// SuspendResult reports a suspension. Changed is false when the user was
// already suspended; their sessions are revoked again all the same.
type SuspendResult struct {
	UserID          string `json:"userId"`
	Status          string `json:"status"`
	SessionsRevoked int    `json:"sessionsRevoked"`
	Changed         bool   `json:"changed"`
	Message         string `json:"message"`
}

// ReinstateResult reports a reinstatement. Changed is false when the user
// was already active. Revoked sessions stay revoked: the user logs in again.
type ReinstateResult struct {
	UserID  string `json:"userId"`
	Status  string `json:"status"`
	Changed bool   `json:"changed"`
	Message string `json:"message"`
}

// Admin suspends and reinstates users on behalf of a platform admin.
type Admin struct {
	store AdminStore
	audit audit.Auditor
}

// NewAdmin returns the admin service.
func NewAdmin(st AdminStore, aud audit.Auditor) (*Admin, error) {
	if st == nil || aud == nil {
		return nil, errors.New("account: admin needs a store and an auditor")
	}
	return &Admin{store: st, audit: aud}, nil
}

// Suspend suspends in.UserID and revokes all their sessions (the authorizer
// also checks the status on every call, and a login racing the suspension
// cannot create a session: CreateSession requires an active user). The actor
// must be an active platform admin with MFA, and not the target.
func (a *Admin) Suspend(ctx context.Context, in StatusChange) (SuspendResult, error) {
	target, err := a.begin(ctx, in, "admin.user.suspend", ActionUserSuspended)
	if err != nil {
		return SuspendResult{}, err
	}
	target, changed, err := a.setStatus(ctx, target, store.UserSuspended)
	if err != nil {
		return SuspendResult{}, err
	}
	n, err := a.store.RevokeAllSessions(ctx, target.ID, ReasonSuspended, "")
	if err != nil {
		return SuspendResult{}, fmt.Errorf("revoke sessions of suspended user: %w", err)
	}
	e := a.entry(ctx, in, ActionUserSuspended, audit.OutcomeSuccess)
	e.Details = map[string]string{"changed": strconv.FormatBool(changed), "sessionsRevoked": strconv.Itoa(n)}
	if err := a.audit.Append(ctx, e); err != nil {
		return SuspendResult{}, fmt.Errorf("audit %s: %w", e.Action, err)
	}
	msg := "user suspended"
	if !changed {
		msg = "user was already suspended; no change to the account"
	}
	return SuspendResult{UserID: target.ID, Status: store.UserSuspended, SessionsRevoked: n, Changed: changed, Message: msg}, nil
}

// Reinstate makes a suspended user active again, with the same checks on
// the actor as Suspend.
func (a *Admin) Reinstate(ctx context.Context, in StatusChange) (ReinstateResult, error) {
	target, err := a.begin(ctx, in, "admin.user.reinstate", ActionUserReinstated)
	if err != nil {
		return ReinstateResult{}, err
	}
	target, changed, err := a.setStatus(ctx, target, store.UserActive)
	if err != nil {
		return ReinstateResult{}, err
	}
	e := a.entry(ctx, in, ActionUserReinstated, audit.OutcomeSuccess)
	e.Details = map[string]string{"changed": strconv.FormatBool(changed)}
	if err := a.audit.Append(ctx, e); err != nil {
		return ReinstateResult{}, fmt.Errorf("audit %s: %w", e.Action, err)
	}
	msg := "user reinstated"
	if !changed {
		msg = "user was already active; no change to the account"
	}
	return ReinstateResult{UserID: target.ID, Status: store.UserActive, Changed: changed, Message: msg}, nil
}

// begin validates in, authorizes the actor and loads the target. Denials
// are audited as authz.denied; a missing target as a failed action.
func (a *Admin) begin(ctx context.Context, in StatusChange, operation, action string) (store.User, error) {
	v := validate.New()
	if v.Required("actorId", in.ActorID) {
		v.ID("actorId", in.ActorID, ids.User)
	}
	if v.Required("userId", in.UserID) {
		v.ID("userId", in.UserID, ids.User)
	}
	v.Required("reason", in.Reason)
	v.Length("reason", in.Reason, MinAdminReason, MaxAdminReason)
	v.Text("reason", in.Reason)
	if err := v.Err(); err != nil {
		return store.User{}, err
	}

	actor, err := a.store.GetUser(ctx, in.ActorID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("read actor: %w", err)
	}
	var rule string
	switch {
	case err != nil:
		rule = "actor does not exist"
	case !actor.Active():
		rule = "actor is not active"
	case actor.Role != apigw.RoleAdmin:
		rule = "actor is not a platform admin"
	case !actor.MFA.Enabled:
		rule = "actor has no MFA"
	case in.UserID == in.ActorID:
		rule = ruleSelf
	}
	if rule != "" {
		e := a.entry(ctx, in, ActionDenied, audit.OutcomeDenied)
		e.ActorRole = actor.Role
		e.Details = map[string]string{"operation": operation, "rule": rule}
		if aerr := a.audit.Append(ctx, e); aerr != nil {
			return store.User{}, fmt.Errorf("audit %s: %w", e.Action, aerr)
		}
		if rule == ruleSelf {
			return store.User{}, refuse("refused: "+ruleSelf, nil)
		}
		return store.User{}, refuse("refused: the actor is not an active platform admin with MFA", errors.New(rule))
	}

	target, err := a.store.GetUser(ctx, in.UserID)
	if errors.Is(err, store.ErrNotFound) {
		e := a.entry(ctx, in, action, audit.OutcomeFailure)
		e.Details = map[string]string{"error": "user not found"}
		if aerr := a.audit.Append(ctx, e); aerr != nil {
			return store.User{}, fmt.Errorf("audit %s: %w", e.Action, aerr)
		}
		return store.User{}, refuse("user not found", err)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("read target user: %w", err)
	}
	return target, nil
}

// setStatus moves u to status, re-reading and retrying a few times when a
// concurrent write bumped the version. changed is false if u already had it.
func (a *Admin) setStatus(ctx context.Context, u store.User, status string) (store.User, bool, error) {
	for attempt := 1; ; attempt++ {
		if u.Status == status {
			return u, false, nil
		}
		updated, err := a.store.SetStatus(ctx, u.ID, status, u.Version)
		if err == nil {
			return updated, true, nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= statusWriteAttempts {
			return store.User{}, false, fmt.Errorf("set status %s: %w", status, err)
		}
		if u, err = a.store.GetUser(ctx, u.ID); err != nil {
			return store.User{}, false, fmt.Errorf("re-read user: %w", err)
		}
	}
}

func (a *Admin) entry(ctx context.Context, in StatusChange, action, outcome string) audit.Entry {
	return audit.Entry{
		Actor: in.ActorID, ActorRole: apigw.RoleAdmin, Action: action, Target: in.UserID,
		Outcome: outcome, Reason: in.Reason, RequestID: invocationID(ctx),
	}
}
