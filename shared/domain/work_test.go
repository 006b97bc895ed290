package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

func submissionInput() domain.SubmissionInput {
	return domain.SubmissionInput{Text: "Done, see the repository.", Links: []string{"https://example.com/repo"}}
}

func TestSubmissionInput(t *testing.T) {
	tests := []struct {
		name string
		in   domain.SubmissionInput
		want wantErr
	}{
		{"text and link", submissionInput(), ok},
		{"text only", domain.SubmissionInput{Text: "x"}, ok},
		{"upload only", domain.SubmissionInput{UploadIDs: []string{ids.New(ids.Upload)}}, ok},
		{"empty", domain.SubmissionInput{Text: "  "}, field("text")},
		{"text too long", domain.SubmissionInput{Text: strings.Repeat("x", domain.MaxSubmissionTextLen+1)}, field("text")},
		{"http link", domain.SubmissionInput{Links: []string{"http://example.com"}}, field("links[0]")},
		{"javascript link", domain.SubmissionInput{Links: []string{"javascript:alert(1)"}}, field("links[0]")},
		{"credentials in link", domain.SubmissionInput{Links: []string{"https://u:p@example.com/"}}, field("links[0]")},
		{"link without host", domain.SubmissionInput{Links: []string{"https:///path"}}, field("links[0]")},
		{"link with space", domain.SubmissionInput{Links: []string{"https://example.com/a b"}}, field("links[0]")},
		{"link too long", domain.SubmissionInput{Links: []string{"https://example.com/" + strings.Repeat("a", 2048)}}, field("links[0]")},
		{"duplicate link", domain.SubmissionInput{Links: []string{"https://a.example", "https://a.example"}}, field("links[1]")},
		{"10 links", domain.SubmissionInput{Links: nLinks(10)}, ok},
		{"11 links", domain.SubmissionInput{Links: nLinks(11)}, field("links")},
		{"bad upload id", domain.SubmissionInput{UploadIDs: []string{ids.New(ids.Submission)}}, field("uploadIds[0]")},
		{"duplicate upload", func() domain.SubmissionInput {
			u := ids.New(ids.Upload)
			return domain.SubmissionInput{UploadIDs: []string{u, u}}
		}(), field("uploadIds[1]")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, tasks, e := mustEnrollment(t)
			s, err := domain.NewSubmission(intern, e, tasks[0], nil, tc.in, now)
			tc.want.check(t, err)
			if err == nil && (s.Version != 1 || s.Status != domain.SubmissionPending || s.MentorID != mentor.UserID || s.TaskID != tasks[0].ID) {
				t.Fatalf("submission = %+v", s)
			}
		})
	}
}

func nLinks(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "https://example.com/" + strings.Repeat("x", i+1)
	}
	return out
}

func TestSubmissionVersions(t *testing.T) {
	sub := func(v int, st domain.SubmissionStatus) *domain.Submission {
		return &domain.Submission{Version: v, Status: st}
	}
	tests := []struct {
		name   string
		latest *domain.Submission
		want   int
		err    wantErr
	}{
		{"first", nil, 1, ok},
		{"after changes requested", sub(1, domain.SubmissionChangesRequested), 2, ok},
		{"while pending", sub(1, domain.SubmissionPending), 0, is(domain.ErrInvalidTransition)},
		{"after accepted", sub(3, domain.SubmissionAccepted), 0, is(domain.ErrInvalidTransition)},
		{"at limit", sub(domain.MaxSubmissionVersions, domain.SubmissionChangesRequested), 0, is(domain.ErrTooManyVersions)},
		{"unknown state", sub(1, "bogus"), 0, is(domain.ErrInvalidTransition)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.NextSubmissionVersion(tc.latest)
			tc.err.check(t, err)
			if got != tc.want {
				t.Fatalf("version = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNewSubmissionRules(t *testing.T) {
	tests := []struct {
		name    string
		actor   domain.Actor
		prepare func(t *testing.T, e *domain.Enrollment, task *domain.Task, latest **domain.Submission)
		want    wantErr
	}{
		{"intern", intern, nil, ok},
		{"other intern", intern2, nil, is(domain.ErrNotAllowed)},
		{"mentor", mentor, nil, is(domain.ErrNotAllowed)},
		{"task of other program", intern, func(t *testing.T, _ *domain.Enrollment, task *domain.Task, _ **domain.Submission) {
			*task = mustTask(t, mustDraft(t), 0, taskInput(true))
		}, is(domain.ErrNotAllowed)},
		{"latest of other task", intern, func(_ *testing.T, e *domain.Enrollment, _ *domain.Task, latest **domain.Submission) {
			*latest = &domain.Submission{EnrollmentID: e.ID, TaskID: ids.New(ids.Task), Version: 1, Status: domain.SubmissionChangesRequested}
		}, is(domain.ErrNotAllowed)},
		{"enrollment ended", intern, func(t *testing.T, e *domain.Enrollment, _ *domain.Task, _ **domain.Submission) {
			if err := e.End(orgAdmin, "Left the program.", now); err != nil {
				t.Fatal(err)
			}
		}, is(domain.ErrInvalidTransition)},
		{"pending version exists", intern, func(_ *testing.T, e *domain.Enrollment, task *domain.Task, latest **domain.Submission) {
			*latest = &domain.Submission{EnrollmentID: e.ID, TaskID: task.ID, Version: 1, Status: domain.SubmissionPending}
		}, is(domain.ErrInvalidTransition)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, tasks, e := mustEnrollment(t)
			task := tasks[0]
			var latest *domain.Submission
			if tc.prepare != nil {
				tc.prepare(t, &e, &task, &latest)
			}
			_, err := domain.NewSubmission(tc.actor, e, task, latest, submissionInput(), now)
			tc.want.check(t, err)
		})
	}
}

func TestNewReview(t *testing.T) {
	tests := []struct {
		name   string
		actor  domain.Actor
		in     domain.ReviewInput
		want   wantErr
		status domain.SubmissionStatus
	}{
		{"accept at pass mark", mentor, domain.ReviewInput{Score: 60, Decision: domain.ReviewAccepted}, ok, domain.SubmissionAccepted},
		{"accept at max", mentor, domain.ReviewInput{Score: 100, Decision: domain.ReviewAccepted, Feedback: "Great."}, ok, domain.SubmissionAccepted},
		{"accept below pass mark", mentor, domain.ReviewInput{Score: 59, Decision: domain.ReviewAccepted}, field("score"), domain.SubmissionPending},
		{"score above max", mentor, domain.ReviewInput{Score: 101, Decision: domain.ReviewAccepted}, field("score"), domain.SubmissionPending},
		{"negative score", mentor, domain.ReviewInput{Score: -1, Decision: domain.ReviewChangesRequested, Feedback: "x"}, field("score"), domain.SubmissionPending},
		{"changes requested", mentor, domain.ReviewInput{Score: 30, Decision: domain.ReviewChangesRequested, Feedback: "Add tests."}, ok, domain.SubmissionChangesRequested},
		{"changes requested at high score", mentor, domain.ReviewInput{Score: 95, Decision: domain.ReviewChangesRequested, Feedback: "One gap."}, ok, domain.SubmissionChangesRequested},
		{"changes requested without feedback", mentor, domain.ReviewInput{Score: 30, Decision: domain.ReviewChangesRequested}, field("feedback"), domain.SubmissionPending},
		{"feedback too long", mentor, domain.ReviewInput{Score: 80, Decision: domain.ReviewAccepted, Feedback: strings.Repeat("f", 5001)}, field("feedback"), domain.SubmissionPending},
		{"unknown decision", mentor, domain.ReviewInput{Score: 80, Decision: "maybe"}, field("decision"), domain.SubmissionPending},
		{"other mentor", domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleMentor, OrgID: orgID}, domain.ReviewInput{Score: 80, Decision: domain.ReviewAccepted}, is(domain.ErrNotAllowed), domain.SubmissionPending},
		{"org admin", orgAdmin, domain.ReviewInput{Score: 80, Decision: domain.ReviewAccepted}, is(domain.ErrNotAllowed), domain.SubmissionPending},
		{"intern", intern, domain.ReviewInput{Score: 80, Decision: domain.ReviewAccepted}, is(domain.ErrNotAllowed), domain.SubmissionPending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, tasks, e := mustEnrollment(t)
			s, err := domain.NewSubmission(intern, e, tasks[0], nil, submissionInput(), now)
			if err != nil {
				t.Fatal(err)
			}
			r, err := domain.NewReview(tc.actor, e, tasks[0], &s, tc.in, now.Add(time.Hour))
			tc.want.check(t, err)
			if s.Status != tc.status {
				t.Fatalf("submission status = %s, want %s", s.Status, tc.status)
			}
			if err == nil && (r.SubmissionID != s.ID || r.SubmissionVersion != 1 || r.Score != tc.in.Score || r.InternID != intern.UserID || s.ReviewedAt.IsZero()) {
				t.Fatalf("review = %+v, submission = %+v", r, s)
			}
		})
	}
}

func TestReviewExactlyOncePerVersion(t *testing.T) {
	_, tasks, e := mustEnrollment(t)
	s, err := domain.NewSubmission(intern, e, tasks[0], nil, submissionInput(), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := domain.NewReview(mentor, e, tasks[0], &s, domain.ReviewInput{Score: 10, Decision: domain.ReviewChangesRequested, Feedback: "Redo."}, now); err != nil {
		t.Fatal(err)
	}
	is(domain.ErrInvalidTransition).check(t, func() error {
		_, err := domain.NewReview(mentor, e, tasks[0], &s, domain.ReviewInput{Score: 90, Decision: domain.ReviewAccepted}, now)
		return err
	}())
	// The intern resubmits; version 2 is reviewed and accepted; no version 3.
	s2, err := domain.NewSubmission(intern, e, tasks[0], &s, submissionInput(), now)
	if err != nil || s2.Version != 2 || s2.ID == s.ID {
		t.Fatalf("resubmission = %+v, %v", s2, err)
	}
	is(domain.ErrInvalidTransition).check(t, func() error {
		_, err := domain.NewSubmission(intern, e, tasks[0], &s2, submissionInput(), now)
		return err
	}())
	if _, err := domain.NewReview(mentor, e, tasks[0], &s2, domain.ReviewInput{Score: 90, Decision: domain.ReviewAccepted}, now); err != nil {
		t.Fatal(err)
	}
	is(domain.ErrInvalidTransition).check(t, func() error {
		_, err := domain.NewSubmission(intern, e, tasks[0], &s2, submissionInput(), now)
		return err
	}())
	// Reviewing with a task of another enrollment's program is refused.
	other := mustTask(t, mustDraft(t), 0, taskInput(true))
	is(domain.ErrNotAllowed).check(t, func() error {
		_, err := domain.NewReview(mentor, e, other, &s2, domain.ReviewInput{Score: 90, Decision: domain.ReviewAccepted}, now)
		return err
	}())
}

func TestComputeProgress(t *testing.T) {
	req1, req2, opt := domain.Task{ID: "t1", Required: true}, domain.Task{ID: "t2", Required: true}, domain.Task{ID: "t3"}
	tasks := []domain.Task{req1, req2, opt}
	s := func(task string, v int, st domain.SubmissionStatus) domain.Submission {
		return domain.Submission{TaskID: task, Version: v, Status: st}
	}
	tests := []struct {
		name     string
		tasks    []domain.Task
		subs     []domain.Submission
		accepted int
		percent  int
		complete bool
		states   []domain.TaskState
	}{
		{"nothing", tasks, nil, 0, 0, false, []domain.TaskState{domain.TaskNotStarted, domain.TaskNotStarted, domain.TaskNotStarted}},
		{"one pending", tasks, []domain.Submission{s("t1", 1, domain.SubmissionPending)}, 0, 0, false,
			[]domain.TaskState{domain.TaskSubmitted, domain.TaskNotStarted, domain.TaskNotStarted}},
		{"one of two required", tasks, []domain.Submission{s("t1", 1, domain.SubmissionAccepted)}, 1, 50, false,
			[]domain.TaskState{domain.TaskAccepted, domain.TaskNotStarted, domain.TaskNotStarted}},
		{"optional does not count", tasks, []domain.Submission{s("t1", 1, domain.SubmissionAccepted), s("t3", 1, domain.SubmissionAccepted)}, 1, 50, false,
			[]domain.TaskState{domain.TaskAccepted, domain.TaskNotStarted, domain.TaskAccepted}},
		{"all required, latest version counts, any order", tasks, []domain.Submission{
			s("t2", 2, domain.SubmissionAccepted), s("t1", 1, domain.SubmissionAccepted), s("t2", 1, domain.SubmissionChangesRequested),
		}, 2, 100, true, []domain.TaskState{domain.TaskAccepted, domain.TaskAccepted, domain.TaskNotStarted}},
		{"resubmission pending", tasks, []domain.Submission{
			s("t1", 1, domain.SubmissionAccepted), s("t2", 1, domain.SubmissionChangesRequested), s("t2", 2, domain.SubmissionPending),
		}, 1, 50, false, []domain.TaskState{domain.TaskAccepted, domain.TaskSubmitted, domain.TaskNotStarted}},
		{"changes requested", tasks, []domain.Submission{s("t2", 1, domain.SubmissionChangesRequested)}, 0, 0, false,
			[]domain.TaskState{domain.TaskNotStarted, domain.TaskChangesRequested, domain.TaskNotStarted}},
		{"unknown task ignored", tasks, []domain.Submission{s("gone", 1, domain.SubmissionAccepted)}, 0, 0, false,
			[]domain.TaskState{domain.TaskNotStarted, domain.TaskNotStarted, domain.TaskNotStarted}},
		{"no required tasks never completes", []domain.Task{opt}, []domain.Submission{s("t3", 1, domain.SubmissionAccepted)}, 0, 0, false,
			[]domain.TaskState{domain.TaskAccepted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr := domain.ComputeProgress(tc.tasks, tc.subs)
			if pr.RequiredAccepted != tc.accepted || pr.Percent() != tc.percent || pr.Complete() != tc.complete {
				t.Fatalf("progress = %+v percent %d complete %v", pr, pr.Percent(), pr.Complete())
			}
			for i, st := range tc.states {
				if pr.Tasks[i].State != st {
					t.Errorf("task %d state = %s, want %s", i, pr.Tasks[i].State, st)
				}
			}
		})
	}
}

func TestEnrollmentCompletion(t *testing.T) {
	_, tasks, e := mustEnrollment(t)
	var subs []domain.Submission
	review := func(task domain.Task, dec domain.ReviewDecision) *domain.EnrollmentCompleted {
		t.Helper()
		var latest *domain.Submission
		if l, ok := domain.LatestSubmissions(subs)[task.ID]; ok {
			latest = &l
		}
		s, err := domain.NewSubmission(intern, e, task, latest, submissionInput(), now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := domain.NewReview(mentor, e, task, &s, domain.ReviewInput{Score: 80, Decision: dec, Feedback: "ok"}, now); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
		return e.UpdateProgress(domain.ComputeProgress(tasks, subs), now)
	}
	if ev := review(tasks[1], domain.ReviewAccepted); ev != nil { // optional
		t.Fatal("optional task completed the enrollment")
	}
	if _, err := e.Complete(domain.ComputeProgress(tasks, subs), now); err == nil {
		t.Fatal("Complete without the required task")
	}
	if ev := review(tasks[0], domain.ReviewChangesRequested); ev != nil {
		t.Fatal("changes requested completed the enrollment")
	}
	ev := review(tasks[0], domain.ReviewAccepted)
	if ev == nil {
		t.Fatal("no completion event")
	}
	want := domain.EnrollmentCompleted{EnrollmentID: e.ID, ProgramID: e.ProgramID, InternID: intern.UserID, CompletedAt: e.CompletedAt}
	if *ev != want || e.Status != domain.EnrollmentStatusCompleted || e.RequiredAccepted != 1 || e.RequiredTotal != 1 {
		t.Fatalf("event %+v, enrollment %+v", ev, e)
	}
	// Pending optional work submitted before completion is still reviewed;
	// no new work is accepted.
	pendingOpt := domain.Submission{ID: ids.New(ids.Submission), EnrollmentID: e.ID, TaskID: tasks[1].ID, Version: 2, Status: domain.SubmissionPending}
	if _, err := domain.NewReview(mentor, e, tasks[1], &pendingOpt, domain.ReviewInput{Score: 80, Decision: domain.ReviewAccepted}, now); err != nil {
		t.Fatalf("review after completion: %v", err)
	}
	is(domain.ErrInvalidTransition).check(t, func() error {
		_, err := domain.NewSubmission(intern, e, tasks[0], nil, submissionInput(), now)
		return err
	}())
	if again := e.UpdateProgress(domain.ComputeProgress(tasks, subs), now); again != nil {
		t.Fatal("completion emitted twice")
	}
	is(domain.ErrInvalidTransition).check(t, e.End(orgAdmin, "late", now))
}

func TestEnrollmentEnd(t *testing.T) {
	tests := []struct {
		name   string
		actor  domain.Actor
		reason string
		want   wantErr
	}{
		{"org admin", orgAdmin, "Stopped responding.", ok},
		{"needs reason", orgAdmin, "", field("reason")},
		{"mentor", mentor, "x", is(domain.ErrNotAllowed)},
		{"other org", otherAdmin, "x", is(domain.ErrNotAllowed)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, tasks, e := mustEnrollment(t)
			err := e.End(tc.actor, tc.reason, now)
			tc.want.check(t, err)
			if (err == nil) != (e.Status == domain.EnrollmentStatusEnded) {
				t.Fatalf("status = %s", e.Status)
			}
			if err == nil {
				s := domain.Submission{EnrollmentID: e.ID, TaskID: tasks[0].ID, Version: 1, Status: domain.SubmissionPending}
				if _, err := domain.NewReview(mentor, e, tasks[0], &s, domain.ReviewInput{Score: 80, Decision: domain.ReviewAccepted}, now); !errors.Is(err, domain.ErrInvalidTransition) {
					t.Fatalf("review of an ended enrollment: %v", err)
				}
				if ev, err := e.Complete(domain.Progress{RequiredTotal: 1, RequiredAccepted: 1, Tasks: nil}, now); err == nil {
					t.Fatalf("ended enrollment completed: %+v (%d tasks)", ev, len(tasks))
				}
			}
		})
	}
}

func TestEnrollmentVisibility(t *testing.T) {
	_, _, e := mustEnrollment(t)
	otherMentor := domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleMentor, OrgID: orgID}
	for _, tc := range []struct {
		name  string
		actor domain.Actor
		want  bool
	}{
		{"intern", intern, true},
		{"other intern", intern2, false},
		{"assigned mentor", mentor, true},
		{"other mentor of org", otherMentor, false},
		{"org admin", orgAdmin, true},
		{"other org admin", otherAdmin, false},
		{"platform admin", admin, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.VisibleTo(tc.actor); got != tc.want {
				t.Fatalf("VisibleTo = %v", got)
			}
		})
	}
}
