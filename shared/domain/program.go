package domain

import (
	"fmt"
	"slices"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// ProgramStatus is a program's state: draft → open → closed → archived.
type ProgramStatus string

// Program states.
const (
	ProgramDraft    ProgramStatus = "draft"
	ProgramOpen     ProgramStatus = "open"
	ProgramClosed   ProgramStatus = "closed"
	ProgramArchived ProgramStatus = "archived"
)

func (s ProgramStatus) String() string { return string(s) }

// Program is an internship program of one organization.
type Program struct {
	ID          string
	OrgID       string
	Title       string
	Description string
	// Skills are normalized tags (NormalizeSkill), distinct, in the order
	// given.
	Skills []string
	// Capacity is the number of seats; Enrolled the number taken. The store
	// increments Enrolled in the accept transaction, conditioned on
	// enrolled < capacity.
	Capacity int
	Enrolled int
	// The application window is [OpensAt, ClosesAt); the internship runs
	// from StartsAt to EndsAt. OpensAt < ClosesAt <= StartsAt < EndsAt.
	OpensAt  time.Time
	ClosesAt time.Time
	StartsAt time.Time
	EndsAt   time.Time

	Status      ProgramStatus
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt time.Time
	ClosedAt    time.Time
	ArchivedAt  time.Time
	Version     int64
}

// ProgramInput is the content of a new program.
type ProgramInput struct {
	Title       string
	Description string
	Skills      []string
	Capacity    int
	OpensAt     time.Time
	ClosesAt    time.Time
	StartsAt    time.Time
	EndsAt      time.Time
}

// ProgramPatch is a partial update: nil members are left unchanged. A
// non-nil empty Skills replaces the skills (and fails validation).
type ProgramPatch struct {
	Title       *string
	Description *string
	Skills      []string
	Capacity    *int
	OpensAt     *time.Time
	ClosesAt    *time.Time
	StartsAt    *time.Time
	EndsAt      *time.Time
}

// Empty reports whether the patch changes nothing.
func (p ProgramPatch) Empty() bool {
	return p.Title == nil && p.Description == nil && p.Skills == nil && p.Capacity == nil &&
		p.OpensAt == nil && p.ClosesAt == nil && p.StartsAt == nil && p.EndsAt == nil
}

// NewProgram creates a draft program in orgID; only an org admin of orgID may.
// Dates are checked for order only: a draft may sit with past dates until it
// is fixed, Publish checks them against the clock.
func NewProgram(actor Actor, orgID string, in ProgramInput, now time.Time) (Program, error) {
	if !actor.IsOrgAdminOf(orgID) {
		return Program{}, notAllowed("create program: not an org admin of the org")
	}
	p := Program{
		ID: ids.New(ids.Program), OrgID: orgID, Status: ProgramDraft, CreatedBy: actor.UserID,
		CreatedAt: stamp(now), UpdatedAt: stamp(now),
	}
	v := validate.New()
	p.Title = line(v, "title", in.Title, MaxTitleLen)
	p.Description = body(v, "description", in.Description, 1, MaxDescriptionLen)
	p.Skills = skills(v, "skills", in.Skills)
	v.Range("capacity", in.Capacity, MinCapacity, MaxCapacity)
	p.Capacity = in.Capacity
	p.OpensAt, p.ClosesAt, p.StartsAt, p.EndsAt = stamp(in.OpensAt), stamp(in.ClosesAt), stamp(in.StartsAt), stamp(in.EndsAt)
	checkDates(v, in.OpensAt, in.ClosesAt, in.StartsAt, in.EndsAt)
	if err := v.Err(); err != nil {
		return Program{}, err
	}
	return p, nil
}

// checkDates enforces opensAt < closesAt <= startsAt < endsAt, all set.
func checkDates(v *validate.Validator, opensAt, closesAt, startsAt, endsAt time.Time) {
	for _, d := range []struct {
		field string
		t     time.Time
	}{{"opensAt", opensAt}, {"closesAt", closesAt}, {"startsAt", startsAt}, {"endsAt", endsAt}} {
		v.Check(!d.t.IsZero(), d.field, "is required")
	}
	if !opensAt.IsZero() && !closesAt.IsZero() {
		v.Check(closesAt.After(opensAt), "closesAt", "must be after opensAt")
	}
	if !closesAt.IsZero() && !startsAt.IsZero() {
		v.Check(!startsAt.Before(closesAt), "startsAt", "must not be before closesAt")
	}
	if !startsAt.IsZero() && !endsAt.IsZero() {
		v.Check(endsAt.After(startsAt), "endsAt", "must be after startsAt")
	}
}

// requireOrgAdmin is the check every program-management action shares.
func (p Program) requireOrgAdmin(actor Actor, action string) error {
	if !actor.IsOrgAdminOf(p.OrgID) {
		return notAllowed("%s program: not an org admin of its org", action)
	}
	return nil
}

// EditableFields lists the JSON members Update accepts in the program's
// current state (for documentation and for clients rendering a form).
func (p Program) EditableFields() []string {
	switch p.Status {
	case ProgramDraft:
		return []string{"title", "description", "skills", "capacity", "opensAt", "closesAt", "startsAt", "endsAt"}
	case ProgramOpen:
		return []string{"description", "opensAt", "closesAt", "startsAt", "endsAt"}
	}
	return nil
}

// Update applies patch. In draft every field may change (dates in order). In
// open only description and dates, and the dates only forward-looking: opensAt
// and startsAt may move only while they are still in the future and not into
// the past, closesAt and endsAt may move but not into the past (closing now
// is Close). Closed and archived programs do not change. Every refused field
// is reported, with the field's own reason.
func (p *Program) Update(actor Actor, patch ProgramPatch, now time.Time) error {
	if err := p.requireOrgAdmin(actor, "update"); err != nil {
		return err
	}
	if p.Status != ProgramDraft && p.Status != ProgramOpen {
		return transition("program", p.Status, "edit")
	}
	next := *p
	next.Skills = slices.Clone(p.Skills)
	v := validate.New()
	frozen := func(field string) {
		v.Add(field, fmt.Sprintf("cannot be changed while the program is %s", p.Status))
	}
	open := p.Status == ProgramOpen
	// A frozen field sent with its current value is not a change: clients
	// that send the whole form back are not refused for it.
	if patch.Title != nil {
		if t := line(v, "title", *patch.Title, MaxTitleLen); open && t != p.Title {
			frozen("title")
		} else {
			next.Title = t
		}
	}
	if patch.Description != nil {
		next.Description = body(v, "description", *patch.Description, 1, MaxDescriptionLen)
	}
	if patch.Skills != nil {
		if sk := skills(v, "skills", patch.Skills); open && !slices.Equal(sk, p.Skills) {
			frozen("skills")
		} else {
			next.Skills = sk
		}
	}
	if patch.Capacity != nil {
		switch {
		case open && *patch.Capacity != p.Capacity:
			frozen("capacity")
		case v.Range("capacity", *patch.Capacity, MinCapacity, MaxCapacity):
			next.Capacity = *patch.Capacity
		}
	}
	dates := []struct {
		field string
		in    *time.Time
		cur   time.Time
		dst   *time.Time
		// startLike dates are fixed once passed; the others can move while
		// they have not.
		startLike bool
	}{
		{"opensAt", patch.OpensAt, p.OpensAt, &next.OpensAt, true},
		{"closesAt", patch.ClosesAt, p.ClosesAt, &next.ClosesAt, false},
		{"startsAt", patch.StartsAt, p.StartsAt, &next.StartsAt, true},
		{"endsAt", patch.EndsAt, p.EndsAt, &next.EndsAt, false},
	}
	for _, d := range dates {
		if d.in == nil {
			continue
		}
		t := stamp(*d.in)
		if open && !t.Equal(d.cur) {
			switch {
			case d.startLike && !d.cur.After(now):
				v.Add(d.field, "cannot be changed once it has passed")
				continue
			case !t.After(now):
				v.Add(d.field, "must be in the future while the program is open")
				continue
			}
		}
		*d.dst = t
	}
	checkDates(v, next.OpensAt, next.ClosesAt, next.StartsAt, next.EndsAt)
	if err := v.Err(); err != nil {
		return err
	}
	next.UpdatedAt = stamp(now)
	*p = next
	return nil
}

// Publish opens a draft: it becomes publicly visible and, inside its window,
// accepts applications. It needs at least one required task, every task
// valid against the program's dates, and a window that has not closed yet.
func (p *Program) Publish(actor Actor, tasks []Task, now time.Time) error {
	if err := p.requireOrgAdmin(actor, "publish"); err != nil {
		return err
	}
	if p.Status != ProgramDraft {
		return transition("program", p.Status, "publish")
	}
	v := validate.New()
	checkDates(v, p.OpensAt, p.ClosesAt, p.StartsAt, p.EndsAt)
	v.Check(p.ClosesAt.After(now), "closesAt", "must be in the future to publish")
	required := 0
	for i, t := range tasks {
		if t.ProgramID != p.ID {
			return notAllowed("publish program: task of another program")
		}
		if t.Required {
			required++
		}
		checkTaskDue(v, fmt.Sprintf("tasks[%d]", i), *p, t.DueOffsetDays, t.DueDate)
	}
	v.Check(required > 0, "tasks", "must include at least one required task to publish")
	if err := v.Err(); err != nil {
		return err
	}
	p.Status = ProgramOpen
	p.PublishedAt = stamp(now)
	p.UpdatedAt = p.PublishedAt
	return nil
}

// Close ends an open program's application window early (or records that it
// ended). Pending applications can still be decided.
func (p *Program) Close(actor Actor, now time.Time) error {
	if err := p.requireOrgAdmin(actor, "close"); err != nil {
		return err
	}
	if p.Status != ProgramOpen {
		return transition("program", p.Status, "close")
	}
	p.Status = ProgramClosed
	p.ClosedAt = stamp(now)
	p.UpdatedAt = p.ClosedAt
	return nil
}

// Archive retires a closed program: read only, no more decisions.
func (p *Program) Archive(actor Actor, now time.Time) error {
	if err := p.requireOrgAdmin(actor, "archive"); err != nil {
		return err
	}
	if p.Status != ProgramClosed {
		return transition("program", p.Status, "archive")
	}
	p.Status = ProgramArchived
	p.ArchivedAt = stamp(now)
	p.UpdatedAt = p.ArchivedAt
	return nil
}

// AcceptingApplications reports whether an intern may apply at now: the
// program is open and now is in [OpensAt, ClosesAt).
func (p Program) AcceptingApplications(now time.Time) bool {
	return p.Status == ProgramOpen && !now.Before(p.OpensAt) && now.Before(p.ClosesAt)
}

// CanDecideApplications reports whether pending applications may be decided:
// while open or closed.
func (p Program) CanDecideApplications() bool {
	return p.Status == ProgramOpen || p.Status == ProgramClosed
}

// CanEditTasks reports whether tasks may be added or edited: draft or open.
func (p Program) CanEditTasks() bool { return p.Status == ProgramDraft || p.Status == ProgramOpen }

// CanDeleteTasks reports whether tasks may be deleted: draft only.
func (p Program) CanDeleteTasks() bool { return p.Status == ProgramDraft }

// HasSeat reports whether a seat is free.
func (p Program) HasSeat() bool { return p.Enrolled < p.Capacity }

// VisibleTo reports whether actor (nil for an anonymous caller) may read the
// program: drafts only to members of its org and platform admins, every
// other state to anyone (public listings show only open programs; closed and
// archived ones stay readable for the interns who took part in them).
func (p Program) VisibleTo(actor *Actor) bool {
	if p.Status != ProgramDraft {
		return true
	}
	return actor != nil && (actor.IsMemberOf(p.OrgID) || actor.IsPlatformAdmin())
}

// Listed reports whether the program belongs in the public listing, and,
// when skill is not "", carries that normalized skill tag.
func (p Program) Listed(skill string) bool {
	return p.Status == ProgramOpen && (skill == "" || slices.Contains(p.Skills, skill))
}
