package enrollment

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// WithdrawStore is what withdrawing needs.
type WithdrawStore interface {
	UserReader
	GetApplication(ctx context.Context, id string) (store.Application, error)
	WithdrawApplication(ctx context.Context, a store.Application, expectedVersion int64) (store.Application, error)
}

// DecideStore is what deciding needs.
type DecideStore interface {
	UserReader
	GetApplication(ctx context.Context, id string) (store.Application, error)
	GetProgram(ctx context.Context, id string) (store.Program, error)
	ListTasks(ctx context.Context, programID string) ([]store.Task, error)
	AcceptApplication(ctx context.Context, a store.Application, expectedVersion int64, e store.Enrollment, notify store.Notification) (store.Application, error)
	RejectApplication(ctx context.Context, a store.Application, expectedVersion int64, notify store.Notification) (store.Application, error)
}

var (
	_ WithdrawStore = (*store.Store)(nil)
	_ DecideStore   = (*store.Store)(nil)
)

// Withdrawer answers POST /v1/applications/{applicationId}/withdraw.
type Withdrawer struct {
	store WithdrawStore
	audit audit.Auditor
	now   func() time.Time
}

// NewWithdrawer returns the withdrawer.
func NewWithdrawer(st WithdrawStore, aud audit.Auditor, now func() time.Time) (*Withdrawer, error) {
	if st == nil || aud == nil || now == nil {
		return nil, errors.New("withdrawer: nil dependency")
	}
	return &Withdrawer{store: st, audit: aud, now: now}, nil
}

// Withdraw takes back the caller's own pending application at version
// ifMatch and releases its live-application lock (the intern may apply
// again). Someone else's application is the 404 of a missing one
// (audited); a stale ifMatch is ErrStale; a decided or withdrawn one is
// ErrNotPending.
func (w *Withdrawer) Withdraw(ctx context.Context, c Caller, applicationID string, ifMatch int64) (store.Application, error) {
	a, err := w.store.GetApplication(ctx, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Application{}, fmt.Errorf("application %w", ErrNotFound)
	}
	if err != nil {
		return store.Application{}, fmt.Errorf("read application: %w", err)
	}
	if c.Role != apigw.RoleIntern || c.UserID != a.InternID {
		return store.Application{}, deny(ctx, w.audit, c, RouteWithdrawApplication, a.ID, "not the application's intern", ErrNotFound)
	}
	u, err := storedUser(ctx, w.store, c)
	if err != nil {
		return store.Application{}, err
	}
	if !u.Active() || u.Role != apigw.RoleIntern {
		return store.Application{}, deny(ctx, w.audit, c, RouteWithdrawApplication, a.ID, "caller is not an active intern", ErrForbidden)
	}
	if a.Version != ifMatch {
		return store.Application{}, fmt.Errorf("%w: application at version %d, If-Match %d", ErrStale, a.Version, ifMatch)
	}
	switch err := a.Withdraw(storedActor(u), w.now()); {
	case errors.Is(err, domain.ErrInvalidTransition):
		return store.Application{}, fmt.Errorf("%w: %w", ErrNotPending, err)
	case err != nil:
		return store.Application{}, deny(ctx, w.audit, c, RouteWithdrawApplication, a.ID, "domain refused the withdrawal", ErrNotFound)
	}
	got, err := w.store.WithdrawApplication(ctx, a, ifMatch)
	if errors.Is(err, store.ErrConflict) {
		return store.Application{}, lostRace(ctx, w.store, applicationID, ifMatch, err)
	}
	if err != nil {
		return store.Application{}, fmt.Errorf("withdraw application: %w", err)
	}
	return got, nil
}

// applicationGetter re-reads an application after a lost race.
type applicationGetter interface {
	GetApplication(ctx context.Context, id string) (store.Application, error)
}

// lostRace classifies a conditional write that lost against a rival: the
// application moved on from ifMatch (ErrStale, 412) or, still at ifMatch,
// a rival transaction got in the way (ErrConflict, 409; retrying is safe).
func lostRace(ctx context.Context, apps applicationGetter, id string, ifMatch int64, cause error) error {
	cur, err := apps.GetApplication(ctx, id)
	if err != nil {
		return errors.Join(cause, err)
	}
	if cur.Version != ifMatch {
		return fmt.Errorf("%w: application now at version %d: %w", ErrStale, cur.Version, cause)
	}
	return fmt.Errorf("%w: %w", ErrConflict, cause)
}

// Decision values.
const (
	DecisionAccepted = "accepted"
	DecisionRejected = "rejected"
)

// MaxDecisionReasonLen is the contract's bound on a rejection reason
// (openapi DecisionRequest.reason).
const MaxDecisionReasonLen = 1000

// DecisionInput is an org admin's decision (openapi DecisionRequest).
type DecisionInput struct {
	Decision string
	// MentorID is required to accept and refused with a rejection.
	MentorID string
	// Reason is required to reject and refused with an acceptance.
	Reason string
}

// check reports every field error of the decision's shape.
func (in DecisionInput) check() error {
	v := validate.New()
	v.OneOf("decision", in.Decision, DecisionAccepted, DecisionRejected)
	switch in.Decision {
	case DecisionAccepted:
		if v.Required("mentorId", in.MentorID) {
			v.Check(ids.Valid(in.MentorID, ids.User), "mentorId", "must be a usr_ identifier")
		}
		v.Check(in.Reason == "", "reason", "must not be given when accepting")
	case DecisionRejected:
		if v.Required("reason", in.Reason) && v.MultilineText("reason", in.Reason) {
			v.Check(utf8.RuneCountInString(in.Reason) <= MaxDecisionReasonLen, "reason",
				fmt.Sprintf("must be at most %d characters", MaxDecisionReasonLen))
		}
		v.Check(in.MentorID == "", "mentorId", "must not be given when rejecting")
	}
	return v.Err()
}

// Decider answers POST /v1/applications/{applicationId}/decision.
type Decider struct {
	store DecideStore
	audit audit.Auditor
	now   func() time.Time
}

// NewDecider returns the decider.
func NewDecider(st DecideStore, aud audit.Auditor, now func() time.Time) (*Decider, error) {
	if st == nil || aud == nil || now == nil {
		return nil, errors.New("decider: nil dependency")
	}
	return &Decider{store: st, audit: aud, now: now}, nil
}

// Decide accepts or rejects a pending application at version ifMatch. The
// caller must be, as stored now, an active org admin of the program's
// organization (anyone else gets the 404 of a missing application,
// audited). Accepting needs an active mentor of that organization (re-read:
// a field error on mentorId otherwise) and a free seat: the decision, the
// program's seat count, the enrollment (every task of the program not
// started) and the intern's notification are one transaction, so
// concurrent accepts never exceed the capacity (ErrFull for the rest).
// Rejecting records the reason, releases the live-application lock and
// notifies the intern. Stale ifMatch: ErrStale; not pending: ErrNotPending;
// program draft or archived: ErrNotAccepting.
func (d *Decider) Decide(ctx context.Context, c Caller, applicationID string, ifMatch int64, in DecisionInput) (store.Application, error) {
	if err := in.check(); err != nil {
		return store.Application{}, err
	}
	a, err := d.store.GetApplication(ctx, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Application{}, fmt.Errorf("application %w", ErrNotFound)
	}
	if err != nil {
		return store.Application{}, fmt.Errorf("read application: %w", err)
	}
	if c.Role != apigw.RoleOrgAdmin || c.OrgID != a.OrgID {
		return store.Application{}, deny(ctx, d.audit, c, RouteDecideApplication, a.ID, "not an org admin of the program's organization", ErrNotFound)
	}
	u, err := storedUser(ctx, d.store, c)
	if err != nil {
		return store.Application{}, err
	}
	if !u.Active() || u.Role != apigw.RoleOrgAdmin || u.OrgID != a.OrgID {
		return store.Application{}, deny(ctx, d.audit, c, RouteDecideApplication, a.ID, "stored user is not an active org admin of the program's organization", ErrNotFound)
	}
	p, err := d.store.GetProgram(ctx, a.ProgramID)
	if err != nil {
		return store.Application{}, fmt.Errorf("read program: %w", err)
	}
	if a.Version != ifMatch {
		return store.Application{}, fmt.Errorf("%w: application at version %d, If-Match %d", ErrStale, a.Version, ifMatch)
	}
	actor, now := storedActor(u), d.now()
	var got store.Application
	if in.Decision == DecisionAccepted {
		got, err = d.accept(ctx, actor, a, p, in.MentorID, now)
	} else {
		got, err = d.reject(ctx, actor, a, p, in.Reason, now)
	}
	if err != nil {
		return store.Application{}, err
	}
	e := c.entry(ActionApplicationDecided, got.ID, audit.OutcomeSuccess)
	e.Details = map[string]string{"decision": in.Decision, "program": got.ProgramID}
	if got.EnrollmentID != "" {
		e.Details["enrollment"] = got.EnrollmentID
	}
	if err := d.audit.Append(ctx, e); err != nil {
		return store.Application{}, fmt.Errorf("audit decision: %w", err)
	}
	return got, nil
}

func (d *Decider) accept(ctx context.Context, actor domain.Actor, a store.Application, p store.Program, mentorID string, now time.Time) (store.Application, error) {
	mentor, err := d.store.GetUser(ctx, mentorID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Application{}, fmt.Errorf("read mentor: %w", err)
	}
	member := domain.Member{UserID: mentor.ID, Role: domain.Role(mentor.Role), OrgID: mentor.OrgID, Active: mentor.Active()}
	enr, err := a.Accept(actor, &p, member, now)
	if err != nil {
		return store.Application{}, domainDecisionError(a, err)
	}
	tasks, err := d.store.ListTasks(ctx, p.ID)
	if err != nil {
		return store.Application{}, fmt.Errorf("list tasks: %w", err)
	}
	progress := make(map[string]store.TaskProgress, len(tasks))
	for _, t := range tasks {
		progress[t.ID] = store.TaskProgress{Status: store.TaskNotStarted}
	}
	se := store.Enrollment{
		ID: enr.ID, ProgramID: enr.ProgramID, OrgID: enr.OrgID, InternID: enr.InternID, MentorID: enr.MentorID,
		ApplicationID: enr.ApplicationID, Status: store.EnrollmentActive, Tasks: progress, CreatedAt: enr.CreatedAt,
	}
	notify := store.NotificationFromDomain(domain.ApplicationDecidedNotification(a, p, now))
	got, err := d.store.AcceptApplication(ctx, a, a.Version, se, notify)
	switch {
	case err == nil:
		return got, nil
	case errors.Is(err, store.ErrProgramFull):
		return store.Application{}, fmt.Errorf("%w: %w", ErrFull, err)
	case errors.Is(err, store.ErrProgramNotAccepting):
		return store.Application{}, fmt.Errorf("%w: %w", ErrNotAccepting, err)
	case errors.Is(err, store.ErrConflict):
		return store.Application{}, d.classifyLost(ctx, a, err)
	}
	return store.Application{}, fmt.Errorf("accept application: %w", err)
}

func (d *Decider) reject(ctx context.Context, actor domain.Actor, a store.Application, p store.Program, reason string, now time.Time) (store.Application, error) {
	if err := a.Reject(actor, p, reason, now); err != nil {
		return store.Application{}, domainDecisionError(a, err)
	}
	notify := store.NotificationFromDomain(domain.ApplicationDecidedNotification(a, p, now))
	got, err := d.store.RejectApplication(ctx, a, a.Version, notify)
	if errors.Is(err, store.ErrConflict) {
		return store.Application{}, d.classifyLost(ctx, a, err)
	}
	if err != nil {
		return store.Application{}, fmt.Errorf("reject application: %w", err)
	}
	return got, nil
}

// classifyLost tells, after a decision transaction failed its application
// condition, a decision that came first (ErrNotPending) from a stale
// version (ErrStale) and a transient rival (ErrConflict).
func (d *Decider) classifyLost(ctx context.Context, a store.Application, cause error) error {
	cur, err := d.store.GetApplication(ctx, a.ID)
	if err == nil && cur.Status != domain.ApplicationPending {
		return fmt.Errorf("%w: decided meanwhile: %w", ErrNotPending, cause)
	}
	return lostRace(ctx, d.store, a.ID, a.Version, cause)
}

// domainDecisionError maps the domain's refusal of a decision.
func domainDecisionError(a store.Application, err error) error {
	var te *domain.TransitionError
	switch {
	case errors.As(err, &te) && te.Entity == "application":
		return fmt.Errorf("%w: %w", ErrNotPending, err)
	case errors.Is(err, domain.ErrInvalidTransition):
		return fmt.Errorf("%w: %w", ErrNotAccepting, err)
	case errors.Is(err, domain.ErrCapacityReached):
		return fmt.Errorf("%w: %w", ErrFull, err)
	case errors.Is(err, domain.ErrNotAllowed):
		// The caller was checked against the stored org already; this is an
		// application whose program does not match it, a data fault.
		return fmt.Errorf("decide application %s: %w", a.ID, err)
	}
	return err // validate.Errors (mentorId): 400
}
