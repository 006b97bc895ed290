package domain

import (
	"fmt"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// Task is a unit of work of a program, submitted and reviewed per
// enrollment.
type Task struct {
	ID           string
	ProgramID    string
	OrgID        string
	Title        string
	Instructions string
	// Exactly one of DueOffsetDays (days after the enrollment starts, see
	// DueAt) and DueDate (a fixed instant) is set; the other is zero.
	DueOffsetDays int
	DueDate       time.Time
	// Required tasks count towards completion; optional ones do not.
	Required bool
	MaxScore int
	PassMark int
	// Position orders the program's tasks (1-based, in creation order).
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// TaskInput is the content of a task; Update replaces all of it. Pointers
// tell "not given" from zero, so giving both or neither due form is an error.
type TaskInput struct {
	Title         string
	Instructions  string
	DueOffsetDays *int
	DueDate       *time.Time
	Required      bool
	MaxScore      int
	PassMark      int
}

// NewTask adds a task to p, which has existing tasks already; only an org
// admin of p's org may, while p is draft or open.
func NewTask(actor Actor, p Program, existing int, in TaskInput, now time.Time) (Task, error) {
	if err := p.requireOrgAdmin(actor, "add task to"); err != nil {
		return Task{}, err
	}
	if !p.CanEditTasks() {
		return Task{}, transition("program", p.Status, "add tasks")
	}
	if existing >= MaxTasksPerProgram {
		return Task{}, fmt.Errorf("add task: %w (limit %d)", ErrTooManyTasks, MaxTasksPerProgram)
	}
	t := Task{
		ID: ids.New(ids.Task), ProgramID: p.ID, OrgID: p.OrgID, Position: existing + 1,
		CreatedAt: stamp(now), UpdatedAt: stamp(now),
	}
	if err := t.apply(p, in, false); err != nil {
		return Task{}, err
	}
	return t, nil
}

// Update replaces the task's content. While p is open the grading (required,
// maxScore, passMark) must stay as it is; title, instructions and due date
// may change.
func (t *Task) Update(actor Actor, p Program, in TaskInput, now time.Time) error {
	if err := p.requireOrgAdmin(actor, "edit task of"); err != nil {
		return err
	}
	if t.ProgramID != p.ID {
		return notAllowed("edit task: task of another program")
	}
	if !p.CanEditTasks() {
		return transition("program", p.Status, "edit tasks")
	}
	next := *t
	if err := next.apply(p, in, p.Status == ProgramOpen); err != nil {
		return err
	}
	next.UpdatedAt = stamp(now)
	*t = next
	return nil
}

// CanDeleteTask checks that actor may delete a task of p now: org admin, draft.
func CanDeleteTask(actor Actor, p Program) error {
	if err := p.requireOrgAdmin(actor, "delete task of"); err != nil {
		return err
	}
	if !p.CanDeleteTasks() {
		return transition("program", p.Status, "delete tasks")
	}
	return nil
}

func (t *Task) apply(p Program, in TaskInput, gradingFrozen bool) error {
	v := validate.New()
	t.Title = line(v, "title", in.Title, MaxTitleLen)
	t.Instructions = body(v, "instructions", in.Instructions, 1, MaxInstructionsLen)
	if gradingFrozen {
		const reason = "cannot be changed while the program is open"
		v.Check(in.Required == t.Required, "required", reason)
		v.Check(in.MaxScore == t.MaxScore, "maxScore", reason)
		v.Check(in.PassMark == t.PassMark, "passMark", reason)
	}
	if v.Range("maxScore", in.MaxScore, MinMaxScore, MaxMaxScore) {
		v.Range("passMark", in.PassMark, 0, in.MaxScore)
	}
	t.Required, t.MaxScore, t.PassMark = in.Required, in.MaxScore, in.PassMark
	t.DueOffsetDays, t.DueDate = 0, time.Time{}
	switch {
	case (in.DueOffsetDays == nil) == (in.DueDate == nil):
		v.Add("dueOffsetDays", "exactly one of dueOffsetDays and dueDate is required")
	case in.DueOffsetDays != nil:
		t.DueOffsetDays = *in.DueOffsetDays
		if v.Range("dueOffsetDays", t.DueOffsetDays, MinDueOffsetDays, MaxDueOffsetDays) {
			checkTaskDue(v, "", p, t.DueOffsetDays, time.Time{})
		}
	default:
		t.DueDate = stamp(*in.DueDate)
		v.Check(!t.DueDate.IsZero(), "dueDate", "is required")
		checkTaskDue(v, "", p, 0, t.DueDate)
	}
	return v.Err()
}

// checkTaskDue checks a task's due form against the program's dates: a due
// date lies in [startsAt, endsAt], an offset fits in the program's length.
// prefix is "" for the task's own fields or "tasks[i]" when Publish checks
// every task.
func checkTaskDue(v *validate.Validator, prefix string, p Program, offsetDays int, dueDate time.Time) {
	name := func(f string) string {
		if prefix == "" {
			return f
		}
		return prefix + "." + f
	}
	switch {
	case offsetDays != 0:
		v.Check(!p.StartsAt.AddDate(0, 0, offsetDays).After(p.EndsAt), name("dueOffsetDays"),
			"must fit between the program's startsAt and endsAt")
	case !dueDate.IsZero():
		v.Check(!dueDate.Before(p.StartsAt) && !dueDate.After(p.EndsAt), name("dueDate"),
			"must be between the program's startsAt and endsAt")
	default:
		v.Add(name("dueOffsetDays"), "exactly one of dueOffsetDays and dueDate is required")
	}
}

// DueAt is when the task is due for an enrollment that started at
// enrollmentStart: its fixed date, or the start plus its offset in days.
func (t Task) DueAt(enrollmentStart time.Time) time.Time {
	if !t.DueDate.IsZero() {
		return t.DueDate
	}
	return enrollmentStart.AddDate(0, 0, t.DueOffsetDays)
}
