package domain

import (
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// ApplicationStatus is an application's state:
// pending → accepted | rejected | withdrawn, all three final.
type ApplicationStatus string

// Application states.
const (
	ApplicationPending   ApplicationStatus = "pending"
	ApplicationAccepted  ApplicationStatus = "accepted"
	ApplicationRejected  ApplicationStatus = "rejected"
	ApplicationWithdrawn ApplicationStatus = "withdrawn"
)

func (s ApplicationStatus) String() string { return string(s) }

// Live reports whether an application in this state blocks another one by
// the same intern to the same program.
func (s ApplicationStatus) Live() bool { return s == ApplicationPending || s == ApplicationAccepted }

// Application is an intern's request to join a program.
type Application struct {
	ID         string
	ProgramID  string
	OrgID      string
	InternID   string
	Motivation string
	Status     ApplicationStatus
	// Set by the decision.
	DecidedBy    string
	DecidedAt    time.Time
	RejectReason string
	MentorID     string
	EnrollmentID string

	WithdrawnAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// NewApplication is intern's pending application to p, allowed while p
// accepts applications. The store writes it with the live-application claim
// (one per intern and program).
func NewApplication(intern Actor, p Program, motivation string, now time.Time) (Application, error) {
	if intern.Role != RoleIntern || intern.UserID == "" {
		return Application{}, notAllowed("apply: role %s", intern.Role)
	}
	if !p.AcceptingApplications(now) {
		return Application{}, ErrApplicationsClosed
	}
	v := validate.New()
	motivation = body(v, "motivation", motivation, MinMotivationLen, MaxMotivationLen)
	if err := v.Err(); err != nil {
		return Application{}, err
	}
	now = stamp(now)
	return Application{
		ID: ids.New(ids.Application), ProgramID: p.ID, OrgID: p.OrgID, InternID: intern.UserID,
		Motivation: motivation, Status: ApplicationPending, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// Withdraw is the applying intern taking back a pending application.
func (a *Application) Withdraw(actor Actor, now time.Time) error {
	if actor.Role != RoleIntern || !actor.IsUser(a.InternID) {
		return notAllowed("withdraw application: not its intern")
	}
	if a.Status != ApplicationPending {
		return transition("application", a.Status, "withdraw")
	}
	a.Status = ApplicationWithdrawn
	a.WithdrawnAt = stamp(now)
	a.UpdatedAt = a.WithdrawnAt
	return nil
}

// checkDecision holds what accept and reject share: an org admin of the
// program's org, the application's own program, still pending, program open
// or closed.
func (a Application) checkDecision(actor Actor, p Program, action string) error {
	if !actor.IsOrgAdminOf(p.OrgID) {
		return notAllowed("%s application: not an org admin of the program's org", action)
	}
	if a.ProgramID != p.ID || a.OrgID != p.OrgID {
		return notAllowed("%s application: application of another program", action)
	}
	if a.Status != ApplicationPending {
		return transition("application", a.Status, action)
	}
	if !p.CanDecideApplications() {
		return transition("program", p.Status, action+" applications")
	}
	return nil
}

// Accept decides a pending application: it takes a seat of p (p.Enrolled is
// incremented) and returns the intern's new Enrollment with mentor, who must
// be an active mentor of p's org. The store writes application, program and
// enrollment in one transaction conditioned on the application being pending
// and enrolled < capacity (so concurrent accepts never overfill p).
func (a *Application) Accept(actor Actor, p *Program, mentor Member, now time.Time) (Enrollment, error) {
	if err := a.checkDecision(actor, *p, "accept"); err != nil {
		return Enrollment{}, err
	}
	v := validate.New()
	v.Check(mentor.Role == RoleMentor && mentor.OrgID == p.OrgID && mentor.Active && ids.Valid(mentor.UserID, ids.User),
		"mentorId", "must be an active mentor of the program's organization")
	if err := v.Err(); err != nil {
		return Enrollment{}, err
	}
	if !p.HasSeat() {
		return Enrollment{}, ErrCapacityReached
	}
	now = stamp(now)
	e := newEnrollment(*a, *p, mentor.UserID, now)
	p.Enrolled++
	p.UpdatedAt = now
	a.Status = ApplicationAccepted
	a.DecidedBy, a.DecidedAt, a.MentorID, a.EnrollmentID = actor.UserID, now, mentor.UserID, e.ID
	a.UpdatedAt = now
	return e, nil
}

// Reject decides a pending application with a reason for the intern.
func (a *Application) Reject(actor Actor, p Program, reason string, now time.Time) error {
	if err := a.checkDecision(actor, p, "reject"); err != nil {
		return err
	}
	v := validate.New()
	reason = body(v, "reason", reason, 1, MaxReasonLen)
	if err := v.Err(); err != nil {
		return err
	}
	now = stamp(now)
	a.Status = ApplicationRejected
	a.DecidedBy, a.DecidedAt, a.RejectReason = actor.UserID, now, reason
	a.UpdatedAt = now
	return nil
}

// VisibleTo reports whether actor may read the application: its intern, the
// org admins of its org and platform admins. Mentors see enrollments, not
// applications (motivation texts are for the deciders).
func (a Application) VisibleTo(actor Actor) bool {
	return (actor.Role == RoleIntern && actor.IsUser(a.InternID)) || actor.IsOrgAdminOf(a.OrgID) || actor.IsPlatformAdmin()
}
