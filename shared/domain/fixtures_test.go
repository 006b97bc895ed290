package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

var (
	now     = time.Date(2030, 1, 10, 12, 0, 0, 0, time.UTC)
	day     = 24 * time.Hour
	orgID   = ids.New(ids.Org)
	otherID = ids.New(ids.Org)

	admin      = domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleAdmin}
	orgAdmin   = domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleOrgAdmin, OrgID: orgID}
	otherAdmin = domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleOrgAdmin, OrgID: otherID}
	mentor     = domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleMentor, OrgID: orgID}
	intern     = domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleIntern}
	intern2    = domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleIntern}

	mentorMember = domain.Member{UserID: mentor.UserID, Role: domain.RoleMentor, OrgID: orgID, Active: true}
)

func programInput() domain.ProgramInput {
	return domain.ProgramInput{
		Title: "Backend internship", Description: "Build services in Go.", Skills: []string{"Go", "AWS"},
		Capacity: 2, OpensAt: now.Add(-day), ClosesAt: now.Add(10 * day), StartsAt: now.Add(15 * day), EndsAt: now.Add(100 * day),
	}
}

func ptr[T any](v T) *T { return &v }

func taskInput(required bool) domain.TaskInput {
	return domain.TaskInput{
		Title: "Write a handler", Instructions: "Implement GET /health.", DueOffsetDays: ptr(7),
		Required: required, MaxScore: 100, PassMark: 60,
	}
}

func mustDraft(t *testing.T) domain.Program {
	t.Helper()
	p, err := domain.NewProgram(orgAdmin, orgID, programInput(), now)
	if err != nil {
		t.Fatalf("NewProgram: %v", err)
	}
	return p
}

func mustTask(t *testing.T, p domain.Program, existing int, in domain.TaskInput) domain.Task {
	t.Helper()
	task, err := domain.NewTask(orgAdmin, p, existing, in, now)
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	return task
}

// mustOpen returns an open program with one required and one optional task.
func mustOpen(t *testing.T) (domain.Program, []domain.Task) {
	t.Helper()
	p := mustDraft(t)
	tasks := []domain.Task{mustTask(t, p, 0, taskInput(true)), mustTask(t, p, 1, taskInput(false))}
	if err := p.Publish(orgAdmin, tasks, now); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return p, tasks
}

const motivation = "I have been writing Go for two years and want to learn serverless systems properly."

// mustEnrollment returns an open program, its tasks and an active enrollment
// of intern with mentor.
func mustEnrollment(t *testing.T) (domain.Program, []domain.Task, domain.Enrollment) {
	t.Helper()
	p, tasks := mustOpen(t)
	a, err := domain.NewApplication(intern, p, motivation, now)
	if err != nil {
		t.Fatalf("NewApplication: %v", err)
	}
	e, err := a.Accept(orgAdmin, &p, mentorMember, now)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return p, tasks, e
}

// wantErr checks err against want: nil means success, a validate field name
// (prefixed "field:") means a validation failure naming that field, anything
// else an errors.Is match.
type wantErr struct {
	is    error
	field string
}

func (w wantErr) check(t *testing.T, err error) {
	t.Helper()
	switch {
	case w.is == nil && w.field == "":
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case w.field != "":
		var ve validate.Errors
		if !errors.As(err, &ve) {
			t.Fatalf("error = %v, want validation failure on %q", err, w.field)
		}
		if !slices.ContainsFunc(ve, func(f validate.FieldError) bool { return f.Field == w.field }) {
			t.Fatalf("validation failures %v do not name %q", ve, w.field)
		}
	default:
		if !errors.Is(err, w.is) {
			t.Fatalf("error = %v, want %v", err, w.is)
		}
	}
}

var ok = wantErr{}

func field(f string) wantErr { return wantErr{field: f} }

func is(err error) wantErr { return wantErr{is: err} }
