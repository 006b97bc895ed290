package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/domain"
)

func TestNewTask(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*domain.TaskInput)
		existing int
		actor    domain.Actor
		want     wantErr
	}{
		{"valid offset", func(*domain.TaskInput) {}, 0, orgAdmin, ok},
		{"valid due date", func(in *domain.TaskInput) {
			in.DueOffsetDays, in.DueDate = nil, ptr(now.Add(20*day))
		}, 0, orgAdmin, ok},
		{"both due forms", func(in *domain.TaskInput) { in.DueDate = ptr(now.Add(20 * day)) }, 0, orgAdmin, field("dueOffsetDays")},
		{"neither due form", func(in *domain.TaskInput) { in.DueOffsetDays = nil }, 0, orgAdmin, field("dueOffsetDays")},
		{"offset 0", func(in *domain.TaskInput) { in.DueOffsetDays = ptr(0) }, 0, orgAdmin, field("dueOffsetDays")},
		{"offset past program end", func(in *domain.TaskInput) { in.DueOffsetDays = ptr(86) }, 0, orgAdmin, field("dueOffsetDays")},
		{"offset at program end", func(in *domain.TaskInput) { in.DueOffsetDays = ptr(85) }, 0, orgAdmin, ok},
		{"due date before start", func(in *domain.TaskInput) {
			in.DueOffsetDays, in.DueDate = nil, ptr(now.Add(14*day))
		}, 0, orgAdmin, field("dueDate")},
		{"zero due date", func(in *domain.TaskInput) { in.DueOffsetDays, in.DueDate = nil, ptr(time.Time{}) }, 0, orgAdmin, field("dueDate")},
		{"maxScore 0", func(in *domain.TaskInput) { in.MaxScore = 0 }, 0, orgAdmin, field("maxScore")},
		{"maxScore 1001", func(in *domain.TaskInput) { in.MaxScore = 1001 }, 0, orgAdmin, field("maxScore")},
		{"passMark above max", func(in *domain.TaskInput) { in.PassMark = 101 }, 0, orgAdmin, field("passMark")},
		{"passMark = max ok", func(in *domain.TaskInput) { in.PassMark = 100 }, 0, orgAdmin, ok},
		{"passMark negative", func(in *domain.TaskInput) { in.PassMark = -1 }, 0, orgAdmin, field("passMark")},
		{"title too long", func(in *domain.TaskInput) { in.Title = strings.Repeat("t", 121) }, 0, orgAdmin, field("title")},
		{"instructions required", func(in *domain.TaskInput) { in.Instructions = " \n " }, 0, orgAdmin, field("instructions")},
		{"instructions control", func(in *domain.TaskInput) { in.Instructions = "a\x00b" }, 0, orgAdmin, field("instructions")},
		{"100th task ok", func(*domain.TaskInput) {}, 99, orgAdmin, ok},
		{"101st task", func(*domain.TaskInput) {}, 100, orgAdmin, is(domain.ErrTooManyTasks)},
		{"mentor", func(*domain.TaskInput) {}, 0, mentor, is(domain.ErrNotAllowed)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustDraft(t)
			in := taskInput(true)
			tc.edit(&in)
			task, err := domain.NewTask(tc.actor, p, tc.existing, in, now)
			tc.want.check(t, err)
			if err == nil && (task.ProgramID != p.ID || task.OrgID != orgID || task.Position != tc.existing+1) {
				t.Fatalf("task = %+v", task)
			}
			if err == nil && (task.DueOffsetDays == 0) == task.DueDate.IsZero() {
				t.Fatalf("exactly one due form must be set: %+v", task)
			}
		})
	}
}

func TestTaskEditsByProgramState(t *testing.T) {
	states := []struct {
		name            string
		program         func(*testing.T) domain.Program
		add, edit, del  wantErr
		gradingEditable bool
	}{
		{"draft", mustDraft, ok, ok, ok, true},
		{"open", func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, ok, ok, is(domain.ErrInvalidTransition), false},
		{"closed", func(t *testing.T) domain.Program {
			p, _ := mustOpen(t)
			if err := p.Close(orgAdmin, now); err != nil {
				t.Fatal(err)
			}
			return p
		}, is(domain.ErrInvalidTransition), is(domain.ErrInvalidTransition), is(domain.ErrInvalidTransition), false},
	}
	for _, s := range states {
		t.Run(s.name, func(t *testing.T) {
			p := s.program(t)
			// A task written while the program was a draft.
			draft := p
			draft.Status = domain.ProgramDraft
			task := mustTask(t, draft, 0, taskInput(true))

			_, err := domain.NewTask(orgAdmin, p, 1, taskInput(false), now)
			s.add.check(t, err)

			in := taskInput(true)
			in.Title = "Renamed"
			edited := task
			err = edited.Update(orgAdmin, p, in, now.Add(time.Hour))
			s.edit.check(t, err)
			if err == nil && (edited.Title != "Renamed" || !edited.UpdatedAt.After(task.UpdatedAt)) {
				t.Fatalf("edit not applied: %+v", edited)
			}

			s.del.check(t, domain.CanDeleteTask(orgAdmin, p))

			if p.CanEditTasks() {
				in := taskInput(true)
				in.MaxScore, in.PassMark, in.Required = 10, 5, false
				g := task
				err := g.Update(orgAdmin, p, in, now)
				if s.gradingEditable {
					ok.check(t, err)
				} else {
					for _, f := range []string{"maxScore", "passMark", "required"} {
						field(f).check(t, err)
					}
					if g != task {
						t.Fatal("failed update changed the task")
					}
				}
			}
		})
	}
}

func TestTaskUpdateWrongProgram(t *testing.T) {
	p := mustDraft(t)
	task := mustTask(t, p, 0, taskInput(true))
	is(domain.ErrNotAllowed).check(t, task.Update(orgAdmin, mustDraft(t), taskInput(true), now))
	is(domain.ErrNotAllowed).check(t, task.Update(otherAdmin, p, taskInput(true), now))
}

func TestTaskDueAt(t *testing.T) {
	p := mustDraft(t)
	start := now.Add(15 * day)
	byOffset := mustTask(t, p, 0, taskInput(true))
	if got := byOffset.DueAt(start); !got.Equal(start.AddDate(0, 0, 7)) {
		t.Errorf("offset DueAt = %v", got)
	}
	in := taskInput(true)
	in.DueOffsetDays, in.DueDate = nil, ptr(now.Add(30*day))
	byDate := mustTask(t, p, 0, in)
	if got := byDate.DueAt(start); !got.Equal(now.Add(30 * day)) {
		t.Errorf("date DueAt = %v", got)
	}
}
