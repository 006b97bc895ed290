package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// subFixture is an active enrollment with one task, ready for submissions.
type subFixture struct {
	env
	enr  store.Enrollment
	task string
}

func newSubFixture(t *testing.T) subFixture {
	t.Helper()
	e := newEnv(t)
	task := ids.New(ids.Task)
	enr := store.Enrollment{
		ID: ids.New(ids.Enrollment), ProgramID: ids.New(ids.Program), OrgID: ids.New(ids.Org),
		InternID: ids.New(ids.User), MentorID: ids.New(ids.User), ApplicationID: ids.New(ids.Application),
		Status: store.EnrollmentActive, Tasks: map[string]store.TaskProgress{task: {Status: store.TaskNotStarted}},
		CreatedAt: base, Version: 1,
	}
	if err := store.PutEnrollmentForTest(ctx(t), e.st, enr); err != nil {
		t.Fatal(err)
	}
	return subFixture{env: e, enr: enr, task: task}
}

func (f subFixture) submission(version int) store.Submission {
	return store.Submission{
		ID: ids.New(ids.Submission), EnrollmentID: f.enr.ID, TaskID: f.task, Version: version,
		Text: "Here is my work.", Links: []string{"https://example.com/pr/1"}, UploadIDs: []string{}, Status: store.SubmissionSubmitted,
		InternID: f.enr.InternID, MentorID: f.enr.MentorID, OrgID: f.enr.OrgID, ProgramID: f.enr.ProgramID,
		CreatedAt: base,
	}
}

func (f subFixture) submitChange(version int, expected int64) store.EnrollmentChange {
	return store.EnrollmentChange{
		EnrollmentID: f.enr.ID, ExpectedVersion: expected, TaskID: f.task,
		Task: store.TaskProgress{Status: store.TaskSubmitted, LatestVersion: version},
	}
}

func (f subFixture) notifyMentor(sub store.Submission) store.Notification {
	return store.Notification{UserID: f.enr.MentorID, Kind: store.KindSubmissionCreated,
		Data: store.NotificationData{EnrollmentID: f.enr.ID, SubmissionID: sub.ID, TaskID: f.task, Version: sub.Version}}
}

func (f subFixture) notifyIntern(kind string) store.Notification {
	return store.Notification{UserID: f.enr.InternID, Kind: kind, Data: store.NotificationData{EnrollmentID: f.enr.ID}}
}

func (f subFixture) mustSubmit(t *testing.T, version int, expected int64) store.Submission {
	t.Helper()
	sub := f.submission(version)
	if err := f.st.CreateSubmission(ctx(t), sub, f.submitChange(version, expected), f.notifyMentor(sub)); err != nil {
		t.Fatalf("CreateSubmission v%d: %v", version, err)
	}
	return sub
}

func (f subFixture) review(decision string) store.Review {
	return store.Review{ID: ids.New(ids.Review), MentorID: f.enr.MentorID, Score: 7, Feedback: "Good.", Decision: decision, CreatedAt: base}
}

func (f subFixture) reviewChange(sub store.Submission, decision string, expected int64) store.EnrollmentChange {
	return store.EnrollmentChange{
		EnrollmentID: f.enr.ID, ExpectedVersion: expected, TaskID: sub.TaskID,
		Task: store.TaskProgress{Status: decision, LatestVersion: sub.Version},
	}
}

func (f subFixture) enrollment(t *testing.T) store.Enrollment {
	t.Helper()
	e, err := f.st.GetEnrollment(ctx(t), f.enr.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCreateSubmissionWritesEverything(t *testing.T) {
	f := newSubFixture(t)
	sub := f.mustSubmit(t, 1, 1)

	got, err := f.st.GetSubmission(ctx(t), sub.ID)
	if err != nil {
		t.Fatalf("GetSubmission: %v", err)
	}
	if got.ID != sub.ID || got.Version != 1 || got.Status != store.SubmissionSubmitted || got.Review != nil ||
		got.Text != sub.Text || len(got.Links) != 1 || got.UploadIDs == nil || len(got.UploadIDs) != 0 ||
		got.InternID != f.enr.InternID || got.MentorID != f.enr.MentorID || !got.CreatedAt.Equal(base) {
		t.Fatalf("GetSubmission = %+v", got)
	}
	enr := f.enrollment(t)
	if enr.Version != 2 || enr.Tasks[f.task] != (store.TaskProgress{Status: store.TaskSubmitted, LatestVersion: 1}) || !enr.Active() {
		t.Fatalf("enrollment = %+v", enr)
	}
	inbox := listAll(t, f.env, f.enr.MentorID, false, 10)
	if len(inbox) != 1 || inbox[0].Kind != store.KindSubmissionCreated || inbox[0].Data.SubmissionID != sub.ID {
		t.Fatalf("mentor inbox = %+v", inbox)
	}
}

func TestCreateSubmissionRefusals(t *testing.T) {
	cases := []struct {
		name string
		// prepare runs before the refused write and returns it.
		prepare func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange)
		wantErr error
	}{
		{"version already taken", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			f.mustSubmit(t, 1, 1)
			// Even with the current enrollment version, v1 cannot be
			// written twice.
			return f.submission(1), f.submitChange(1, 2)
		}, store.ErrConflict},
		{"stale enrollment version", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			f.mustSubmit(t, 1, 1)
			return f.submission(2), f.submitChange(2, 1)
		}, store.ErrConflict},
		{"enrollment missing", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			sub := f.submission(1)
			sub.EnrollmentID = ids.New(ids.Enrollment)
			c := f.submitChange(1, 1)
			c.EnrollmentID = sub.EnrollmentID
			return sub, c
		}, store.ErrConflict},
		{"change of another task", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			c := f.submitChange(1, 1)
			c.TaskID = ids.New(ids.Task)
			return f.submission(1), c
		}, nil},
		{"change with another version", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			return f.submission(1), f.submitChange(2, 1)
		}, nil},
		{"submission with a status", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			sub := f.submission(1)
			sub.Status = store.SubmissionAccepted
			return sub, f.submitChange(1, 1)
		}, nil},
		{"version zero", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			return f.submission(0), f.submitChange(0, 1)
		}, nil},
		{"malformed upload id", func(t *testing.T, f subFixture) (store.Submission, store.EnrollmentChange) {
			sub := f.submission(1)
			sub.UploadIDs = []string{"upl_#x"}
			return sub, f.submitChange(1, 1)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newSubFixture(t)
			sub, change := tc.prepare(t, f)
			before := f.enrollment(t)
			beforeInbox := len(listAll(t, f.env, f.enr.MentorID, false, 50))
			err := f.st.CreateSubmission(ctx(t), sub, change, f.notifyMentor(sub))
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if _, err := f.st.GetSubmission(ctx(t), sub.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("refused submission was stored: %v", err)
			}
			if after := f.enrollment(t); after.Version != before.Version {
				t.Fatalf("enrollment version %d → %d", before.Version, after.Version)
			}
			if n := len(listAll(t, f.env, f.enr.MentorID, false, 50)); n != beforeInbox {
				t.Fatalf("notifications %d → %d", beforeInbox, n)
			}
		})
	}
}

func TestReviewSubmissionOnce(t *testing.T) {
	f := newSubFixture(t)
	sub := f.mustSubmit(t, 1, 1)
	rev := f.review(store.SubmissionChangesRequested)
	if err := f.st.ReviewSubmission(ctx(t), sub, rev, f.reviewChange(sub, store.SubmissionChangesRequested, 2),
		f.notifyIntern(store.KindReviewPosted)); err != nil {
		t.Fatalf("ReviewSubmission: %v", err)
	}
	got, err := f.st.GetSubmission(ctx(t), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.SubmissionChangesRequested || got.Review == nil || *got.Review != rev {
		t.Fatalf("reviewed submission = %+v (review %+v)", got, got.Review)
	}
	enr := f.enrollment(t)
	if enr.Version != 3 || enr.Tasks[f.task].Status != store.TaskChangesRequested || !enr.Active() {
		t.Fatalf("enrollment = %+v", enr)
	}
	if inbox := listAll(t, f.env, f.enr.InternID, false, 10); len(inbox) != 1 || inbox[0].Kind != store.KindReviewPosted {
		t.Fatalf("intern inbox = %+v", inbox)
	}

	// A second review, even against the current enrollment version, is
	// refused: one decision per version.
	second := f.review(store.SubmissionAccepted)
	err = f.st.ReviewSubmission(ctx(t), sub, second, f.reviewChange(sub, store.SubmissionAccepted, 3),
		f.notifyIntern(store.KindReviewPosted))
	if !errors.Is(err, store.ErrAlreadyReviewed) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second review err = %v", err)
	}
	if got, _ := f.st.GetSubmission(ctx(t), sub.ID); got.Review.ID != rev.ID || got.Status != store.SubmissionChangesRequested {
		t.Fatalf("second review overwrote the first: %+v", got.Review)
	}
	if enr := f.enrollment(t); enr.Version != 3 {
		t.Fatalf("enrollment written by the refused review: %+v", enr)
	}
	if inbox := listAll(t, f.env, f.enr.InternID, false, 10); len(inbox) != 1 {
		t.Fatalf("refused review notified: %+v", inbox)
	}

	// Every version is kept: v2 after changes requested, then listed in order.
	v2 := f.mustSubmit(t, 2, 3)
	subs, err := f.st.ListSubmissions(ctx(t), f.enr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].ID != sub.ID || subs[1].ID != v2.ID || subs[0].Review == nil || subs[1].Review != nil {
		t.Fatalf("ListSubmissions = %+v", subs)
	}
}

func TestReviewSubmissionCompletesEnrollment(t *testing.T) {
	f := newSubFixture(t)
	sub := f.mustSubmit(t, 1, 1)
	change := f.reviewChange(sub, store.SubmissionAccepted, 2)
	done := base.Add(time.Hour)
	change.CompletedAt = done
	err := f.st.ReviewSubmission(ctx(t), sub, f.review(store.SubmissionAccepted), change,
		f.notifyIntern(store.KindReviewPosted), f.notifyIntern(store.KindEnrollmentCompleted))
	if err != nil {
		t.Fatalf("ReviewSubmission: %v", err)
	}
	enr := f.enrollment(t)
	if enr.Status != store.EnrollmentCompleted || !enr.CompletedAt.Equal(done) || enr.Tasks[f.task].Status != store.TaskAccepted {
		t.Fatalf("enrollment = %+v", enr)
	}
	if inbox := listAll(t, f.env, f.enr.InternID, false, 10); len(inbox) != 2 {
		t.Fatalf("intern inbox = %+v", inbox)
	}
	// A completed enrollment takes no more submissions.
	next := f.submission(2)
	if err := f.st.CreateSubmission(ctx(t), next, f.submitChange(2, enr.Version), f.notifyMentor(next)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("submission to a completed enrollment: %v", err)
	}
}

func TestReviewSubmissionStaleEnrollment(t *testing.T) {
	f := newSubFixture(t)
	sub := f.mustSubmit(t, 1, 1)
	err := f.st.ReviewSubmission(ctx(t), sub, f.review(store.SubmissionAccepted), f.reviewChange(sub, store.SubmissionAccepted, 1),
		f.notifyIntern(store.KindReviewPosted))
	if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyReviewed) {
		t.Fatalf("err = %v, want a plain ErrConflict", err)
	}
	if got, _ := f.st.GetSubmission(ctx(t), sub.ID); got.Review != nil || got.Status != store.SubmissionSubmitted {
		t.Fatalf("review written despite a stale enrollment: %+v", got)
	}
}

func TestSubmissionLookupsNotFound(t *testing.T) {
	e := newEnv(t)
	for name, id := range map[string]string{"unknown": ids.New(ids.Submission), "malformed": "sub_#", "other type": ids.New(ids.Task)} {
		t.Run(name, func(t *testing.T) {
			if _, err := e.st.GetSubmission(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if subs, err := e.st.ListSubmissions(ctx(t), ids.New(ids.Enrollment)); err != nil || len(subs) != 0 {
		t.Fatalf("ListSubmissions(unknown) = %v, %v", subs, err)
	}
	if _, err := e.st.ListSubmissions(ctx(t), "enr_bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ListSubmissions(malformed) err = %v", err)
	}
}
