package domain

import (
	"context"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// EnrollmentStatus is an enrollment's state: active → completed | ended.
type EnrollmentStatus string

// Enrollment states.
const (
	EnrollmentStatusActive    EnrollmentStatus = "active"
	EnrollmentStatusCompleted EnrollmentStatus = "completed"
	EnrollmentStatusEnded     EnrollmentStatus = "ended"
)

func (s EnrollmentStatus) String() string { return string(s) }

// Enrollment is an accepted intern working through a program with a mentor.
type Enrollment struct {
	ID            string
	ProgramID     string
	OrgID         string
	InternID      string
	MentorID      string
	ApplicationID string
	Status        EnrollmentStatus
	// StartsAt is when the intern's work starts: the later of the acceptance
	// and the program's StartsAt. Due offsets count from it.
	StartsAt time.Time
	// RequiredTotal and RequiredAccepted are the progress as of the last
	// UpdateProgress, kept on the item for listings.
	RequiredTotal    int
	RequiredAccepted int
	CompletedAt      time.Time
	EndedAt          time.Time
	EndedBy          string
	EndReason        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int64
}

func newEnrollment(a Application, p Program, mentorID string, now time.Time) Enrollment {
	start := now
	if p.StartsAt.After(now) {
		start = p.StartsAt
	}
	return Enrollment{
		ID: ids.New(ids.Enrollment), ProgramID: p.ID, OrgID: p.OrgID, InternID: a.InternID, MentorID: mentorID,
		ApplicationID: a.ID, Status: EnrollmentStatusActive, StartsAt: start, CreatedAt: now, UpdatedAt: now,
	}
}

// EnrollmentCompleted is emitted once when an enrollment meets its
// program's completion rule; the certificate issuer consumes it.
type EnrollmentCompleted struct {
	EnrollmentID string
	ProgramID    string
	InternID     string
	CompletedAt  time.Time
}

// CompletionHook receives EnrollmentCompleted events after the completing
// write has committed. An implementation must be idempotent (keyed on
// EnrollmentID): a retried request may deliver the same event again.
type CompletionHook interface {
	OnEnrollmentCompleted(ctx context.Context, ev EnrollmentCompleted) error
}

// CompletionHookFunc adapts a function to CompletionHook.
type CompletionHookFunc func(ctx context.Context, ev EnrollmentCompleted) error

// OnEnrollmentCompleted calls f.
func (f CompletionHookFunc) OnEnrollmentCompleted(ctx context.Context, ev EnrollmentCompleted) error {
	return f(ctx, ev)
}

var _ CompletionHook = CompletionHookFunc(nil)

// UpdateProgress records pr on an active enrollment and, when pr meets the
// completion rule, completes it and returns the event (nil otherwise). Call
// it with the progress computed after a review, and write the enrollment
// conditioned on its version in the review's transaction, so two concurrent
// reviews cannot both miss the completion.
func (e *Enrollment) UpdateProgress(pr Progress, now time.Time) *EnrollmentCompleted {
	if e.Status != EnrollmentStatusActive {
		return nil
	}
	e.RequiredTotal, e.RequiredAccepted = pr.RequiredTotal, pr.RequiredAccepted
	e.UpdatedAt = stamp(now)
	if !pr.Complete() {
		return nil
	}
	e.Status = EnrollmentStatusCompleted
	e.CompletedAt = e.UpdatedAt
	return &EnrollmentCompleted{EnrollmentID: e.ID, ProgramID: e.ProgramID, InternID: e.InternID, CompletedAt: e.CompletedAt}
}

// Complete is UpdateProgress for callers that require completion: it fails
// with ErrNotComplete when pr does not meet the rule.
func (e *Enrollment) Complete(pr Progress, now time.Time) (EnrollmentCompleted, error) {
	if e.Status != EnrollmentStatusActive {
		return EnrollmentCompleted{}, transition("enrollment", e.Status, "complete")
	}
	if !pr.Complete() {
		return EnrollmentCompleted{}, ErrNotComplete
	}
	return *e.UpdateProgress(pr, now), nil
}

// End stops an active enrollment early, by an org admin of its org, with a
// reason.
func (e *Enrollment) End(actor Actor, reason string, now time.Time) error {
	if !actor.IsOrgAdminOf(e.OrgID) {
		return notAllowed("end enrollment: not an org admin of its org")
	}
	if e.Status != EnrollmentStatusActive {
		return transition("enrollment", e.Status, "end")
	}
	v := validate.New()
	reason = body(v, "reason", reason, 1, MaxReasonLen)
	if err := v.Err(); err != nil {
		return err
	}
	now = stamp(now)
	e.Status = EnrollmentStatusEnded
	e.EndedAt, e.EndedBy, e.EndReason, e.UpdatedAt = now, actor.UserID, reason, now
	return nil
}

// VisibleTo reports whether actor may read the enrollment and its tasks,
// submissions and reviews: its intern, its mentor, org admins of its org and
// platform admins.
func (e Enrollment) VisibleTo(actor Actor) bool {
	return (actor.Role == RoleIntern && actor.IsUser(e.InternID)) ||
		(actor.Role == RoleMentor && actor.IsUser(e.MentorID) && actor.OrgID == e.OrgID) ||
		actor.IsOrgAdminOf(e.OrgID) || actor.IsPlatformAdmin()
}
