package programs

import (
	"context"
	"errors"
	"fmt"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Audit actions of task changes.
const (
	ActionTaskCreated = "task.created"
	ActionTaskUpdated = "task.updated"
)

// createTaskAttempts bounds the re-read-and-retry loop when a concurrent
// create took the next position, or the program changed state, between the
// read and the write.
const createTaskAttempts = 4

// enrollmentPageSize is how many of an intern's enrollments one read
// checks for the program (an intern has few).
const enrollmentPageSize = 50

// CreateTask adds a task to a draft or open program, for an org admin of
// its organization. The write is conditioned on the program still being in
// the state the rules ran against, so a task is never added to a program
// that was closed meanwhile (409). With an Idempotency-Key, a retry returns
// the first task and writes nothing.
func (s *Service) CreateTask(ctx context.Context, c Caller, programID string, in CreateTaskRequest, ik IdempotencyKey) (res Created[TaskView], err error) {
	m, p, err := s.programForAdmin(ctx, c, programID)
	if err != nil {
		return res, err
	}
	run, replayed, err := s.beginCreate(ctx, "tasks-create", c, ik, &res.View)
	if err != nil || replayed {
		res.Replayed = replayed
		return res, err
	}
	defer func() { err = run.abandon(ctx, err) }()

	v := validate.New()
	v.Check(in.Required != nil, "required", "is required")
	v.Check(in.MaxScore != nil, "maxScore", "is required")
	v.Check(in.PassMark != nil, "passMark", "is required")
	if err := v.Err(); err != nil {
		return res, err
	}
	input := domain.TaskInput{
		Title: in.Title, Instructions: in.Instructions, DueOffsetDays: in.DueOffsetDays, DueDate: in.DueDate,
		Required: *in.Required, MaxScore: *in.MaxScore, PassMark: *in.PassMark,
	}
	for attempt := 1; ; attempt++ {
		tasks, err := s.store.ListTasks(ctx, p.ID)
		if err != nil {
			return res, fmt.Errorf("list tasks: %w", err)
		}
		t, err := domain.NewTask(m.actor, p, len(tasks), input, s.now())
		if err != nil {
			return res, taskRuleErr(p, err)
		}
		t.Version = 1
		view := taskView(t)
		extra, err := run.complete(view, view.ETag())
		if err != nil {
			return res, err
		}
		created, err := s.store.CreateTask(ctx, t, p.Status, extra...)
		if err == nil {
			if err := s.record(ctx, c, m, ActionTaskCreated, created.ID, map[string]string{"programId": p.ID}); err != nil {
				return Created[TaskView]{View: taskView(created)}, err
			}
			return Created[TaskView]{View: taskView(created)}, nil
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			return res, fmt.Errorf("program %s: %w", p.ID, ErrNotFound)
		case !errors.Is(err, store.ErrConflict) || attempt >= createTaskAttempts:
			return res, leaseLost(fmt.Errorf("create task: %w", err))
		}
		// Re-read: the next pass runs the rules on the program as it is
		// now (a closed program answers 409 there).
		if p, err = s.store.GetProgram(ctx, p.ID); err != nil {
			return res, fmt.Errorf("re-read program: %w", err)
		}
	}
}

// taskRuleErr maps the domain's refusals of a task change to answers.
func taskRuleErr(p store.Program, err error) error {
	switch {
	case errors.Is(err, domain.ErrInvalidTransition):
		return conflict(fmt.Sprintf("Tasks of a %s program cannot change; only draft and open programs take task changes.", p.Status), err)
	case errors.Is(err, domain.ErrTooManyTasks):
		return conflict(fmt.Sprintf("A program has at most %d tasks.", domain.MaxTasksPerProgram), err)
	}
	return err
}

// ListTasks returns a program's tasks in order to the members of its
// organization and to interns with an active enrollment in it (both
// re-read from the store); everyone else gets 404.
func (s *Service) ListTasks(ctx context.Context, c Caller, programID string) (TaskList, error) {
	m, err := s.load(ctx, c)
	if err != nil {
		return TaskList{}, err
	}
	p, err := s.store.GetProgram(ctx, programID)
	if errors.Is(err, store.ErrNotFound) {
		return TaskList{}, fmt.Errorf("program %s: %w", programID, ErrNotFound)
	}
	if err != nil {
		return TaskList{}, fmt.Errorf("read program: %w", err)
	}
	if !m.actor.IsMemberOf(p.OrgID) {
		enrolled, err := s.enrolledIn(ctx, m, p.ID)
		if err != nil {
			return TaskList{}, err
		}
		if !enrolled {
			return TaskList{}, s.deny(ctx, c, m, p.ID, "program_member: not a member of the program's organization nor enrolled in it", false)
		}
	}
	tasks, err := s.store.ListTasks(ctx, p.ID)
	if err != nil {
		return TaskList{}, fmt.Errorf("list tasks: %w", err)
	}
	out := TaskList{Items: make([]TaskView, 0, len(tasks))}
	for _, t := range tasks {
		out.Items = append(out.Items, taskView(t))
	}
	return out, nil
}

// enrolledIn reports whether m is an intern with an active enrollment in
// programID, reading the intern's enrollments (newest first, all pages).
func (s *Service) enrolledIn(ctx context.Context, m member, programID string) (bool, error) {
	if m.actor.Role != domain.RoleIntern {
		return false, nil
	}
	var start store.StartKey
	for {
		enrs, next, err := s.store.ListInternEnrollments(ctx, m.user.ID, enrollmentPageSize, start)
		if err != nil {
			return false, fmt.Errorf("list enrollments: %w", err)
		}
		for _, e := range enrs {
			if e.ProgramID == programID && e.InternID == m.user.ID && e.Active() {
				return true, nil
			}
		}
		if len(next) == 0 {
			return false, nil
		}
		start = next
	}
}

// UpdateTask applies a partial update to a task of a draft or open program
// for an org admin of its organization, if ifMatch (required) is the
// task's current version. While the program is open its grading (required,
// maxScore, passMark) stays as it is; closed and archived programs' tasks
// do not change (409).
func (s *Service) UpdateTask(ctx context.Context, c Caller, programID, taskID string, ifMatch int64, in UpdateTaskRequest) (TaskView, error) {
	m, p, err := s.programForAdmin(ctx, c, programID)
	if err != nil {
		return TaskView{}, err
	}
	t, err := s.store.GetTask(ctx, p.ID, taskID)
	if errors.Is(err, store.ErrNotFound) {
		return TaskView{}, fmt.Errorf("task %s: %w", taskID, ErrNotFound)
	}
	if err != nil {
		return TaskView{}, fmt.Errorf("read task: %w", err)
	}
	if ifMatch == 0 {
		return TaskView{}, ErrPreconditionRequired
	}
	if t.Version != ifMatch {
		return TaskView{}, fmt.Errorf("%w: task at version %d, If-Match %d", ErrStale, t.Version, ifMatch)
	}
	input, changed := mergeTask(t, in)
	if !changed {
		return TaskView{}, validate.Errors{{Field: "body", Reason: "must change at least one field"}}
	}
	if err := t.Update(m.actor, p, input, s.now()); err != nil {
		return TaskView{}, taskRuleErr(p, err)
	}
	updated, err := s.store.UpdateTask(ctx, t, p.Status, ifMatch)
	if errors.Is(err, store.ErrConflict) {
		// The task's version or the program's state moved since the read.
		if cur, gerr := s.store.GetTask(ctx, p.ID, t.ID); gerr == nil && cur.Version == ifMatch {
			return TaskView{}, conflict("The program changed state while the task was being edited; read both again.", err)
		}
	}
	if err != nil {
		return TaskView{}, writeErr("update task", err)
	}
	if err := s.record(ctx, c, m, ActionTaskUpdated, t.ID, map[string]string{"programId": p.ID}); err != nil {
		return TaskView{}, err
	}
	return taskView(updated), nil
}

// mergeTask builds the full input of Task.Update from the stored task and
// the members the patch sets. Naming a due form replaces the current one;
// naming both is passed on, and refused by the rules.
func mergeTask(t store.Task, in UpdateTaskRequest) (domain.TaskInput, bool) {
	out := domain.TaskInput{
		Title: t.Title, Instructions: t.Instructions, Required: t.Required, MaxScore: t.MaxScore, PassMark: t.PassMark,
	}
	changed := false
	if in.Title != nil {
		out.Title, changed = *in.Title, true
	}
	if in.Instructions != nil {
		out.Instructions, changed = *in.Instructions, true
	}
	if in.Required != nil {
		out.Required, changed = *in.Required, true
	}
	if in.MaxScore != nil {
		out.MaxScore, changed = *in.MaxScore, true
	}
	if in.PassMark != nil {
		out.PassMark, changed = *in.PassMark, true
	}
	switch {
	case in.DueOffsetDays != nil || in.DueDate != nil:
		out.DueOffsetDays, out.DueDate, changed = in.DueOffsetDays, in.DueDate, true
	case !t.DueDate.IsZero():
		d := t.DueDate
		out.DueDate = &d
	default:
		n := t.DueOffsetDays
		out.DueOffsetDays = &n
	}
	return out, changed
}
