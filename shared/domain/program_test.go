package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/domain"
)

func TestNewProgram(t *testing.T) {
	tests := []struct {
		name  string
		actor domain.Actor
		edit  func(*domain.ProgramInput)
		want  wantErr
	}{
		{"valid", orgAdmin, func(*domain.ProgramInput) {}, ok},
		{"mentor may not create", mentor, func(*domain.ProgramInput) {}, is(domain.ErrNotAllowed)},
		{"other org's admin may not create", otherAdmin, func(*domain.ProgramInput) {}, is(domain.ErrNotAllowed)},
		{"platform admin is not an org admin", admin, func(*domain.ProgramInput) {}, is(domain.ErrNotAllowed)},
		{"title required", orgAdmin, func(in *domain.ProgramInput) { in.Title = "  " }, field("title")},
		{"title 120 ok", orgAdmin, func(in *domain.ProgramInput) { in.Title = strings.Repeat("é", 120) }, ok},
		{"title 121 too long", orgAdmin, func(in *domain.ProgramInput) { in.Title = strings.Repeat("a", 121) }, field("title")},
		{"title control char", orgAdmin, func(in *domain.ProgramInput) { in.Title = "a\nb" }, field("title")},
		{"description required", orgAdmin, func(in *domain.ProgramInput) { in.Description = "" }, field("description")},
		{"description 5000 ok", orgAdmin, func(in *domain.ProgramInput) { in.Description = strings.Repeat("x", 5000) }, ok},
		{"description 5001", orgAdmin, func(in *domain.ProgramInput) { in.Description = strings.Repeat("x", 5001) }, field("description")},
		{"capacity 0", orgAdmin, func(in *domain.ProgramInput) { in.Capacity = 0 }, field("capacity")},
		{"capacity 1000 ok", orgAdmin, func(in *domain.ProgramInput) { in.Capacity = 1000 }, ok},
		{"capacity 1001", orgAdmin, func(in *domain.ProgramInput) { in.Capacity = 1001 }, field("capacity")},
		{"no skills", orgAdmin, func(in *domain.ProgramInput) { in.Skills = nil }, field("skills")},
		{"11 skills", orgAdmin, func(in *domain.ProgramInput) {
			in.Skills = strings.Split("a b c d e f g h i j k", " ")
		}, field("skills")},
		{"duplicates fold to 10", orgAdmin, func(in *domain.ProgramInput) {
			in.Skills = append(strings.Split("a b c d e f g h i j", " "), "A")
		}, ok},
		{"bad skill names index", orgAdmin, func(in *domain.ProgramInput) { in.Skills = []string{"go", "<script>"} }, field("skills[1]")},
		{"skill too long", orgAdmin, func(in *domain.ProgramInput) { in.Skills = []string{strings.Repeat("a", 33)} }, field("skills[0]")},
		{"opensAt missing", orgAdmin, func(in *domain.ProgramInput) { in.OpensAt = time.Time{} }, field("opensAt")},
		{"closes before opens", orgAdmin, func(in *domain.ProgramInput) { in.ClosesAt = in.OpensAt }, field("closesAt")},
		{"starts before closes", orgAdmin, func(in *domain.ProgramInput) { in.StartsAt = in.ClosesAt.Add(-time.Second) }, field("startsAt")},
		{"starts at close ok", orgAdmin, func(in *domain.ProgramInput) { in.StartsAt = in.ClosesAt }, ok},
		{"ends at start", orgAdmin, func(in *domain.ProgramInput) { in.EndsAt = in.StartsAt }, field("endsAt")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := programInput()
			tc.edit(&in)
			p, err := domain.NewProgram(tc.actor, orgID, in, now)
			tc.want.check(t, err)
			if err == nil && (p.Status != domain.ProgramDraft || p.OrgID != orgID || p.CreatedBy != tc.actor.UserID) {
				t.Fatalf("program = %+v", p)
			}
		})
	}
}

func TestNewProgramNormalizes(t *testing.T) {
	in := programInput()
	in.Title = "  Backend  "
	in.Skills = []string{" Machine  Learning ", "C++", "machine-learning", "Node.JS"}
	p, err := domain.NewProgram(orgAdmin, orgID, in, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Backend" {
		t.Errorf("title = %q", p.Title)
	}
	if want := []string{"machine-learning", "c++", "node.js"}; !slices.Equal(p.Skills, want) {
		t.Errorf("skills = %q, want %q", p.Skills, want)
	}
}

func TestReportsEveryField(t *testing.T) {
	_, err := domain.NewProgram(orgAdmin, orgID, domain.ProgramInput{}, now)
	for _, f := range []string{"title", "description", "skills", "capacity", "opensAt", "closesAt", "startsAt", "endsAt"} {
		field(f).check(t, err)
	}
}

func TestProgramLifecycle(t *testing.T) {
	type step struct {
		name   string
		actor  domain.Actor
		action string
		want   wantErr
		status domain.ProgramStatus
	}
	steps := []step{
		{"close a draft", orgAdmin, "close", is(domain.ErrInvalidTransition), domain.ProgramDraft},
		{"archive a draft", orgAdmin, "archive", is(domain.ErrInvalidTransition), domain.ProgramDraft},
		{"mentor publishes", mentor, "publish", is(domain.ErrNotAllowed), domain.ProgramDraft},
		{"publish", orgAdmin, "publish", ok, domain.ProgramOpen},
		{"publish twice", orgAdmin, "publish", is(domain.ErrInvalidTransition), domain.ProgramOpen},
		{"archive while open", orgAdmin, "archive", is(domain.ErrInvalidTransition), domain.ProgramOpen},
		{"other org closes", otherAdmin, "close", is(domain.ErrNotAllowed), domain.ProgramOpen},
		{"close", orgAdmin, "close", ok, domain.ProgramClosed},
		{"reopen", orgAdmin, "publish", is(domain.ErrInvalidTransition), domain.ProgramClosed},
		{"archive", orgAdmin, "archive", ok, domain.ProgramArchived},
		{"close archived", orgAdmin, "close", is(domain.ErrInvalidTransition), domain.ProgramArchived},
	}
	p := mustDraft(t)
	tasks := []domain.Task{mustTask(t, p, 0, taskInput(true))}
	for _, s := range steps {
		var err error
		switch s.action {
		case "publish":
			err = p.Publish(s.actor, tasks, now)
		case "close":
			err = p.Close(s.actor, now)
		case "archive":
			err = p.Archive(s.actor, now)
		}
		t.Run(s.name, func(t *testing.T) {
			s.want.check(t, err)
			if p.Status != s.status {
				t.Fatalf("status = %s, want %s", p.Status, s.status)
			}
		})
	}
	var te *domain.TransitionError
	if err := p.Close(orgAdmin, now); !errors.As(err, &te) || te.Entity != "program" || te.From != "archived" || te.Action != "close" {
		t.Fatalf("TransitionError = %+v", te)
	}
}

func TestPublishRules(t *testing.T) {
	tests := []struct {
		name  string
		tasks func(domain.Program) []domain.Task
		at    time.Time
		want  wantErr
	}{
		{"one required task", func(p domain.Program) []domain.Task { return []domain.Task{mustTask(t, p, 0, taskInput(true))} }, now, ok},
		{"no tasks", func(domain.Program) []domain.Task { return nil }, now, field("tasks")},
		{"only optional tasks", func(p domain.Program) []domain.Task { return []domain.Task{mustTask(t, p, 0, taskInput(false))} }, now, field("tasks")},
		{"window already closed", func(p domain.Program) []domain.Task { return []domain.Task{mustTask(t, p, 0, taskInput(true))} }, now.Add(10 * day), field("closesAt")},
		{"task of another program", func(domain.Program) []domain.Task {
			return []domain.Task{mustTask(t, mustDraft(t), 0, taskInput(true))}
		}, now, is(domain.ErrNotAllowed)},
		{"task no longer fits dates", func(p domain.Program) []domain.Task {
			in := taskInput(true)
			in.DueOffsetDays, in.DueDate = nil, ptr(p.EndsAt)
			task := mustTask(t, p, 0, in)
			task.DueDate = p.EndsAt.Add(time.Hour) // as if endsAt moved after the task was written
			return []domain.Task{task}
		}, now, field("tasks[0].dueDate")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustDraft(t)
			err := p.Publish(orgAdmin, tc.tasks(p), tc.at)
			tc.want.check(t, err)
			if (err == nil) != (p.Status == domain.ProgramOpen) {
				t.Fatalf("status = %s after err %v", p.Status, err)
			}
		})
	}
}

func TestProgramUpdate(t *testing.T) {
	draft := func(t *testing.T) domain.Program { return mustDraft(t) }
	open := func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }
	closed := func(t *testing.T) domain.Program {
		p, _ := mustOpen(t)
		if err := p.Close(orgAdmin, now); err != nil {
			t.Fatal(err)
		}
		return p
	}
	future := func(p *domain.Program) {
		// Window not opened yet, internship not started.
		p.OpensAt = now.Add(day)
	}
	tests := []struct {
		name    string
		program func(*testing.T) domain.Program
		prepare func(*domain.Program)
		actor   domain.Actor
		patch   domain.ProgramPatch
		want    wantErr
		check   func(*testing.T, domain.Program)
	}{
		{"draft: title", draft, nil, orgAdmin, domain.ProgramPatch{Title: ptr("New title")}, ok,
			func(t *testing.T, p domain.Program) {
				if p.Title != "New title" {
					t.Errorf("title = %q", p.Title)
				}
			}},
		{"draft: capacity", draft, nil, orgAdmin, domain.ProgramPatch{Capacity: ptr(50)}, ok,
			func(t *testing.T, p domain.Program) {
				if p.Capacity != 50 {
					t.Errorf("capacity = %d", p.Capacity)
				}
			}},
		{"draft: skills", draft, nil, orgAdmin, domain.ProgramPatch{Skills: []string{"Rust"}}, ok,
			func(t *testing.T, p domain.Program) {
				if !slices.Equal(p.Skills, []string{"rust"}) {
					t.Errorf("skills = %v", p.Skills)
				}
			}},
		{"draft: empty skills", draft, nil, orgAdmin, domain.ProgramPatch{Skills: []string{}}, field("skills"), nil},
		{"draft: past dates allowed", draft, nil, orgAdmin, domain.ProgramPatch{OpensAt: ptr(now.Add(-30 * day))}, ok, nil},
		{"draft: dates out of order", draft, nil, orgAdmin, domain.ProgramPatch{EndsAt: ptr(now)}, field("endsAt"), nil},
		{"mentor cannot edit", draft, nil, mentor, domain.ProgramPatch{Title: ptr("x")}, is(domain.ErrNotAllowed), nil},
		{"open: description", open, nil, orgAdmin, domain.ProgramPatch{Description: ptr("Updated")}, ok,
			func(t *testing.T, p domain.Program) {
				if p.Description != "Updated" {
					t.Errorf("description = %q", p.Description)
				}
			}},
		{"open: title frozen", open, nil, orgAdmin, domain.ProgramPatch{Title: ptr("Other")}, field("title"), nil},
		{"open: same title is no change", open, nil, orgAdmin, domain.ProgramPatch{Title: ptr("Backend internship")}, ok, nil},
		{"open: capacity frozen", open, nil, orgAdmin, domain.ProgramPatch{Capacity: ptr(9)}, field("capacity"), nil},
		{"open: skills frozen", open, nil, orgAdmin, domain.ProgramPatch{Skills: []string{"rust"}}, field("skills"), nil},
		{"open: same skills is no change", open, nil, orgAdmin, domain.ProgramPatch{Skills: []string{"GO", "aws"}}, ok, nil},
		{"open: extend closesAt", open, nil, orgAdmin, domain.ProgramPatch{ClosesAt: ptr(now.Add(12 * day))}, ok, nil},
		{"open: closesAt into past", open, nil, orgAdmin, domain.ProgramPatch{ClosesAt: ptr(now.Add(-time.Hour))}, field("closesAt"), nil},
		{"open: opensAt passed", open, nil, orgAdmin, domain.ProgramPatch{OpensAt: ptr(now.Add(time.Hour))}, field("opensAt"), nil},
		{"open: opensAt still future", open, future, orgAdmin, domain.ProgramPatch{OpensAt: ptr(now.Add(2 * day))}, ok, nil},
		{"open: opensAt future into past", open, future, orgAdmin, domain.ProgramPatch{OpensAt: ptr(now.Add(-time.Hour))}, field("opensAt"), nil},
		{"open: move start and end", open, nil, orgAdmin, domain.ProgramPatch{StartsAt: ptr(now.Add(20 * day)), EndsAt: ptr(now.Add(120 * day))}, ok, nil},
		{"open: start before close", open, nil, orgAdmin, domain.ProgramPatch{StartsAt: ptr(now.Add(5 * day))}, field("startsAt"), nil},
		{"closed: frozen", closed, nil, orgAdmin, domain.ProgramPatch{Description: ptr("x")}, is(domain.ErrInvalidTransition), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.program(t)
			if tc.prepare != nil {
				tc.prepare(&p)
			}
			before := p
			before.Skills = slices.Clone(p.Skills)
			err := p.Update(tc.actor, tc.patch, now)
			tc.want.check(t, err)
			if err != nil && !equalPrograms(p, before) {
				t.Fatalf("failed update changed the program: %+v", p)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func equalPrograms(a, b domain.Program) bool { return reflect.DeepEqual(a, b) }

func TestProgramPermissions(t *testing.T) {
	p, _ := mustOpen(t)
	d := mustDraft(t)
	tests := []struct {
		name  string
		got   bool
		want  bool
		check string
	}{
		{"open accepts applications", p.AcceptingApplications(now), true, ""},
		{"not before opensAt", p.AcceptingApplications(p.OpensAt.Add(-time.Nanosecond)), false, ""},
		{"at opensAt", p.AcceptingApplications(p.OpensAt), true, ""},
		{"not at closesAt", p.AcceptingApplications(p.ClosesAt), false, ""},
		{"draft does not accept", d.AcceptingApplications(now), false, ""},
		{"draft visible to org mentor", d.VisibleTo(&mentor), true, ""},
		{"draft visible to platform admin", d.VisibleTo(&admin), true, ""},
		{"draft hidden from anonymous", d.VisibleTo(nil), false, ""},
		{"draft hidden from intern", d.VisibleTo(&intern), false, ""},
		{"draft hidden from other org", d.VisibleTo(&otherAdmin), false, ""},
		{"open visible to anonymous", p.VisibleTo(nil), true, ""},
		{"open listed", p.Listed(""), true, ""},
		{"open listed by skill", p.Listed("go"), true, ""},
		{"not listed by other skill", p.Listed("rust"), false, ""},
		{"draft not listed", d.Listed(""), false, ""},
		{"draft tasks editable", d.CanEditTasks(), true, ""},
		{"open tasks editable", p.CanEditTasks(), true, ""},
		{"open tasks not deletable", p.CanDeleteTasks(), false, ""},
		{"draft cannot decide", d.CanDecideApplications(), false, ""},
		{"open can decide", p.CanDecideApplications(), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if got := p.EditableFields(); !slices.Equal(got, []string{"description", "opensAt", "closesAt", "startsAt", "endsAt"}) {
		t.Errorf("open editable fields = %v", got)
	}
}

func TestNormalizeSkill(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Go", "go", true},
		{"  Machine \t Learning ", "machine-learning", true},
		{"C#", "c#", true},
		{"", "", false},
		{"-go", "", false},
		{"go/rust", "", false},
		{"ünicode", "", false},
		{strings.Repeat("a", 32), strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := domain.NormalizeSkill(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("NormalizeSkill(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
