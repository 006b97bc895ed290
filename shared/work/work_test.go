package work_test

import (
	"encoding/json/v2"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
	"github.com/vip-platform/backend/shared/work"
)

func decodeSubmission(t *testing.T, body []byte) work.SubmissionView {
	t.Helper()
	var v work.SubmissionView
	if err := json.Unmarshal(body, &v, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("decode submission %s: %v", body, err)
	}
	return v
}

func fieldsOf(err error) map[string]bool {
	var ve validate.Errors
	if !errors.As(err, &ve) {
		return nil
	}
	out := map[string]bool{}
	for _, fe := range ve {
		out[fe.Field] = true
	}
	return out
}

// The whole life of an enrollment: versions, reviews, notifications for
// each party, completion when every required task is accepted (the
// optional one ignored), and the completion hook.
func TestSubmitReviewUntilCompleted(t *testing.T) {
	f := newFixture(t)
	a, b := f.tasks[0], f.tasks[1]

	v1 := f.submit(t, a)
	if v1.Version != 1 || v1.Status != store.SubmissionSubmitted || v1.TaskID != a.ID || v1.Review != nil ||
		len(v1.Links) != 1 || v1.UploadIDs == nil {
		t.Fatalf("v1 = %+v", v1)
	}
	if got := kinds(f.inbox(t, f.mentor.ID)); got[store.KindSubmissionCreated] != 1 {
		t.Fatalf("mentor inbox after v1 = %v", got)
	}
	if e := f.enrollment(t); e.Tasks[a.ID] != (store.TaskProgress{Status: store.TaskSubmitted, LatestVersion: 1}) {
		t.Fatalf("task progress after v1 = %+v", e.Tasks[a.ID])
	}

	r1 := f.review(t, v1.ID, store.SubmissionChangesRequested, 3)
	if r1.Review.Decision != store.SubmissionChangesRequested || r1.Review.MentorID != f.mentor.ID || r1.Review.SubmissionID != v1.ID || r1.Completed != nil {
		t.Fatalf("r1 = %+v", r1)
	}
	v2 := f.submit(t, a)
	if v2.Version != 2 || v2.ID == v1.ID {
		t.Fatalf("v2 = %+v", v2)
	}
	f.review(t, v2.ID, store.SubmissionAccepted, 8)
	if e := f.enrollment(t); !e.Active() || e.Tasks[a.ID].Status != store.TaskAccepted {
		t.Fatalf("one of two required tasks accepted: %+v", e)
	}

	vb := f.submit(t, b)
	last := f.review(t, vb.ID, store.SubmissionAccepted, 10)
	if last.Completed == nil || last.Completed.EnrollmentID != f.enr.ID || last.Completed.InternID != f.intern.ID {
		t.Fatalf("the last required acceptance did not complete: %+v", last)
	}
	e := f.enrollment(t)
	if e.Status != store.EnrollmentCompleted || e.CompletedAt.IsZero() {
		t.Fatalf("enrollment = %+v", e)
	}
	if ev := f.hook.Events(); len(ev) != 1 || ev[0].EnrollmentID != f.enr.ID || ev[0].ProgramID != f.program.ID {
		t.Fatalf("hook events = %+v", ev)
	}
	intern := kinds(f.inbox(t, f.intern.ID))
	if intern[store.KindReviewPosted] != 3 || intern[store.KindEnrollmentCompleted] != 1 || intern[store.KindApplicationDecided] != 1 {
		t.Fatalf("intern inbox = %v", intern)
	}
	if got := kinds(f.inbox(t, f.mentor.ID)); got[store.KindSubmissionCreated] != 3 || len(got) != 1 {
		t.Fatalf("mentor inbox = %v", got)
	}
	// Every version is kept, each with its own review.
	list, err := f.lister.List(ctx(t), caller(f.intern), f.enr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 3 {
		t.Fatalf("list = %+v", list)
	}
	byID := map[string]work.SubmissionView{}
	for _, s := range list.Items {
		byID[s.ID] = s
		if s.Review == nil {
			t.Fatalf("version without its review: %+v", s)
		}
	}
	if byID[v1.ID].Review.Decision != store.SubmissionChangesRequested || byID[v1.ID].Status != store.SubmissionChangesRequested ||
		byID[v2.ID].Review.Score != 8 || byID[vb.ID].Review.Score != 10 {
		t.Fatalf("list = %+v", list.Items)
	}

	// A completed enrollment takes no more work, not even the optional task.
	_, err = f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[2].ID, goodInput(), work.Idem{})
	if !errors.Is(err, work.ErrEnrollmentClosed) {
		t.Fatalf("submit after completion: %v", err)
	}
}

func TestOptionalTaskDoesNotComplete(t *testing.T) {
	f := newFixture(t)
	opt := f.submit(t, f.tasks[2])
	if res := f.review(t, opt.ID, store.SubmissionAccepted, 10); res.Completed != nil {
		t.Fatal("accepting the optional task completed the enrollment")
	}
	a := f.submit(t, f.tasks[0])
	if res := f.review(t, a.ID, store.SubmissionAccepted, 10); res.Completed != nil {
		t.Fatal("completed with one required task left")
	}
	if e := f.enrollment(t); !e.Active() || len(f.hook.Events()) != 0 {
		t.Fatalf("enrollment %+v, hook %+v", e, f.hook.Events())
	}
}

func TestSubmitVersionRules(t *testing.T) {
	f := newFixture(t)
	a := f.tasks[0]
	v1 := f.submit(t, a)
	if _, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, a.ID, goodInput(), work.Idem{}); !errors.Is(err, work.ErrNotSubmittable) {
		t.Fatalf("second version while the first is under review: %v", err)
	}
	f.review(t, v1.ID, store.SubmissionAccepted, 9)
	if _, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, a.ID, goodInput(), work.Idem{}); !errors.Is(err, work.ErrNotSubmittable) {
		t.Fatalf("new version after accepted: %v", err)
	}
	if err := work.ToHTTP(work.ErrNotSubmittable); !isStatus(err, 409) {
		t.Fatalf("ErrNotSubmittable answered %v", err)
	}
}

func isStatus(err error, status int) bool {
	var ae *apigw.Error
	return errors.As(err, &ae) && ae.Status == status
}

func TestSubmitRefusals(t *testing.T) {
	cases := []struct {
		name      string
		as        func(f *fixture) store.User
		enr, task func(f *fixture) string
		in        work.SubmitInput
		prepare   func(t *testing.T, f *fixture)
		want      error
		fields    []string
		denied    bool
	}{
		{name: "mentor of the enrollment", as: func(f *fixture) store.User { return f.mentor }, want: work.ErrForbidden, denied: true},
		{name: "org admin", as: func(f *fixture) store.User { return f.orgAdmin }, want: work.ErrForbidden, denied: true},
		{name: "another intern", as: func(f *fixture) store.User { return f.otherIntern }, want: work.ErrNotFound, denied: true},
		{name: "unknown enrollment", enr: func(*fixture) string { return "enr_aaaaaaaaaaaaaaaaaaaaaaaaaa" }, want: work.ErrNotFound},
		{name: "task of another program", task: func(*fixture) string { return "tsk_aaaaaaaaaaaaaaaaaaaaaaaaaa" }, want: work.ErrNotFound},
		{name: "ended enrollment", prepare: func(t *testing.T, f *fixture) { f.endEnrollment(t) }, want: work.ErrEnrollmentClosed},
		{name: "http link", in: work.SubmitInput{Text: "x", Links: []string{"http://example.com"}}, fields: []string{"links[0]"}},
		{name: "javascript link", in: work.SubmitInput{Text: "x", Links: []string{"javascript:alert(1)"}}, fields: []string{"links[0]"}},
		{name: "bad upload id", in: work.SubmitInput{Text: "x", UploadIDs: []string{"sub_aaaaaaaaaaaaaaaaaaaaaaaaaa"}}, fields: []string{"uploadIds"}},
		{name: "upload ids refused until uploads exist", in: work.SubmitInput{Text: "x", UploadIDs: []string{"upl_aaaaaaaaaaaaaaaaaaaaaaaaaa"}}, fields: []string{"uploadIds"}},
		{name: "blank text", in: work.SubmitInput{Text: "  \n"}, fields: []string{"text"}},
		{name: "too many links", in: work.SubmitInput{Text: "x", Links: []string{
			"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4", "https://a.example/5", "https://a.example/6",
			"https://a.example/7", "https://a.example/8", "https://a.example/9", "https://a.example/10", "https://a.example/11"}}, fields: []string{"links"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.prepare != nil {
				tc.prepare(t, f)
			}
			as, enr, task, in := f.intern, f.enr.ID, f.tasks[0].ID, goodInput()
			if tc.as != nil {
				as = tc.as(f)
			}
			if tc.enr != nil {
				enr = tc.enr(f)
			}
			if tc.task != nil {
				task = tc.task(f)
			}
			if tc.in.Text != "" {
				in = tc.in
			}
			before := f.enrollment(t)
			_, err := f.submitter.Submit(ctx(t), caller(as), enr, task, in, work.Idem{})
			switch {
			case tc.fields != nil:
				got := fieldsOf(err)
				for _, fl := range tc.fields {
					if !got[fl] {
						t.Fatalf("err = %v, want field %s", err, fl)
					}
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := f.denials() > 0; got != tc.denied {
				t.Fatalf("denial audited = %v, want %v (%v)", got, tc.denied, f.rec.Entries())
			}
			if tc.denied {
				d := f.rec.Find(work.ActionDenied)[0]
				if d.Details["route"] != work.RouteSubmit || d.Actor != as.ID || d.RequestID != "req-test" || d.SourceIP != "192.0.2.7" {
					t.Fatalf("denial entry = %+v", d)
				}
			}
			// Nothing written.
			if after := f.enrollment(t); after.Version != before.Version {
				t.Fatalf("enrollment version %d → %d", before.Version, after.Version)
			}
			if subs, _ := f.st.ListSubmissions(ctx(t), f.enr.ID); len(subs) != 0 {
				t.Fatalf("submissions written: %+v", subs)
			}
			if n := len(f.inbox(t, f.mentor.ID)); n != 0 {
				t.Fatalf("%d mentor notifications", n)
			}
		})
	}
}

// Five mentors' worth of concurrent reviews of one version: exactly one
// decision, the rest 409.
func TestConcurrentReviewsDecideOnce(t *testing.T) {
	f := newFixture(t)
	sub := f.submit(t, f.tasks[0])
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decision := store.SubmissionAccepted
			if i%2 == 1 {
				decision = store.SubmissionChangesRequested
			}
			_, errs[i] = f.reviewer.Review(ctx(t), caller(f.mentor), sub.ID,
				work.ReviewInput{Score: 7, Feedback: fmt.Sprintf("review %d", i), Decision: decision})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, work.ErrAlreadyReviewed):
			if !isStatus(work.ToHTTP(err), 409) {
				t.Fatalf("loser answered %v", work.ToHTTP(err))
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d reviews succeeded: %v", ok, errs)
	}
	stored, err := f.st.GetSubmission(ctx(t), sub.ID)
	if err != nil || stored.Review == nil || stored.Status != stored.Review.Decision {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if got := kinds(f.inbox(t, f.intern.ID)); got[store.KindReviewPosted] != 1 {
		t.Fatalf("intern inbox = %v", got)
	}
	if e := f.enrollment(t); e.Tasks[sub.TaskID].Status != stored.Review.Decision || e.Version != 3 {
		t.Fatalf("enrollment = %+v", e)
	}
}

// Concurrent submissions of one task make exactly one version; concurrent
// submissions of different tasks all succeed (the loser of the enrollment
// version race re-decides).
func TestConcurrentSubmissions(t *testing.T) {
	t.Run("same task", func(t *testing.T) {
		f := newFixture(t)
		const n = 5
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[0].ID, goodInput(), work.Idem{})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, work.ErrNotSubmittable), errors.Is(err, work.ErrConflict):
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		subs, err := f.st.ListSubmissions(ctx(t), f.enr.ID)
		if err != nil || ok != 1 || len(subs) != 1 || subs[0].Version != 1 {
			t.Fatalf("%d succeeded, stored %+v (%v)", ok, subs, err)
		}
		if got := len(f.inbox(t, f.mentor.ID)); got != 1 {
			t.Fatalf("%d mentor notifications", got)
		}
	})
	t.Run("resubmissions after changes requested", func(t *testing.T) {
		f := newFixture(t)
		v1 := f.submit(t, f.tasks[0])
		f.review(t, v1.ID, store.SubmissionChangesRequested, 2)
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[0].ID, goodInput(), work.Idem{})
			}()
		}
		wg.Wait()
		subs, _ := f.st.ListSubmissions(ctx(t), f.enr.ID)
		versions := map[int]int{}
		for _, s := range subs {
			versions[s.Version]++
		}
		if len(subs) != 2 || versions[1] != 1 || versions[2] != 1 {
			t.Fatalf("versions = %v (%v)", versions, errs)
		}
	})
	t.Run("different tasks", func(t *testing.T) {
		f := newFixture(t)
		errs := make([]error, len(f.tasks))
		var wg sync.WaitGroup
		for i, task := range f.tasks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, task.ID, goodInput(), work.Idem{})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("errs = %v", errs)
			}
		}
		e := f.enrollment(t)
		for _, task := range f.tasks {
			if e.Tasks[task.ID].Status != store.TaskSubmitted {
				t.Fatalf("task %s = %+v", task.ID, e.Tasks[task.ID])
			}
		}
	})
}

// A mentor whose stored user no longer qualifies loses review access at
// once, whatever the token says.
func TestReviewRechecksStoredMentor(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, f *fixture)
	}{
		{"moved to another organization", func(t *testing.T, f *fixture) {
			f.setUser(t, f.mentor.ID, map[string]string{"orgId": "org_aaaaaaaaaaaaaaaaaaaaaaaaaa"})
		}},
		{"no longer a mentor", func(t *testing.T, f *fixture) {
			f.setUser(t, f.mentor.ID, map[string]string{"role": "intern"})
		}},
		{"suspended", func(t *testing.T, f *fixture) {
			if _, err := f.st.SetStatus(ctx(t), f.mentor.ID, store.UserSuspended, f.mentor.Version); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sub := f.submit(t, f.tasks[0])
			tc.change(t, f)
			// The caller still presents the old token: mentor of the org.
			_, err := f.reviewer.Review(ctx(t), caller(f.mentor), sub.ID, work.ReviewInput{Score: 9, Feedback: "ok", Decision: "accepted"})
			if !errors.Is(err, work.ErrNotFound) || !isStatus(work.ToHTTP(err), 404) {
				t.Fatalf("err = %v", err)
			}
			if f.denials() != 1 || f.rec.Find(work.ActionDenied)[0].Details["route"] != work.RouteReview {
				t.Fatalf("audit = %+v", f.rec.Entries())
			}
			if got, _ := f.st.GetSubmission(ctx(t), sub.ID); got.Review != nil {
				t.Fatal("review written")
			}
			// Listing is refused too.
			if _, err := f.lister.List(ctx(t), caller(f.mentor), f.enr.ID); !errors.Is(err, work.ErrNotFound) {
				t.Fatalf("list: %v", err)
			}
		})
	}
}

func TestReviewRefusals(t *testing.T) {
	cases := []struct {
		name   string
		as     func(f *fixture) store.User
		sub    string // "" = the submission under review
		in     work.ReviewInput
		want   error
		fields []string
		denied bool
	}{
		{name: "the intern", as: func(f *fixture) store.User { return f.intern }, want: work.ErrForbidden, denied: true},
		{name: "org admin", as: func(f *fixture) store.User { return f.orgAdmin }, want: work.ErrForbidden, denied: true},
		{name: "another mentor of the org", as: func(f *fixture) store.User { return f.mentor2 }, want: work.ErrNotFound, denied: true},
		{name: "mentor of another org", as: func(f *fixture) store.User { return f.outsiderMentor }, want: work.ErrNotFound, denied: true},
		{name: "unknown submission", sub: "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", want: work.ErrNotFound},
		{name: "score above maxScore", in: work.ReviewInput{Score: 11, Feedback: "x", Decision: "accepted"}, fields: []string{"score"}},
		{name: "accepted below pass mark", in: work.ReviewInput{Score: 5, Feedback: "x", Decision: "accepted"}, fields: []string{"score"}},
		{name: "negative score", in: work.ReviewInput{Score: -1, Feedback: "x", Decision: "changes_requested"}, fields: []string{"score"}},
		{name: "unknown decision", in: work.ReviewInput{Score: 5, Feedback: "x", Decision: "rejected"}, fields: []string{"decision"}},
		{name: "blank feedback", in: work.ReviewInput{Score: 5, Feedback: " ", Decision: "changes_requested"}, fields: []string{"feedback"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sub := f.submit(t, f.tasks[0])
			as, id, in := f.mentor, sub.ID, work.ReviewInput{Score: 9, Feedback: "fine", Decision: "accepted"}
			if tc.as != nil {
				as = tc.as(f)
			}
			if tc.sub != "" {
				id = tc.sub
			}
			if tc.in.Decision != "" {
				in = tc.in
			}
			_, err := f.reviewer.Review(ctx(t), caller(as), id, in)
			switch {
			case tc.fields != nil:
				got := fieldsOf(err)
				for _, fl := range tc.fields {
					if !got[fl] {
						t.Fatalf("err = %v, want field %s", err, fl)
					}
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := f.denials() > 0; got != tc.denied {
				t.Fatalf("denial audited = %v, want %v", got, tc.denied)
			}
			if got, _ := f.st.GetSubmission(ctx(t), sub.ID); got.Review != nil || got.Status != store.SubmissionSubmitted {
				t.Fatalf("submission changed: %+v", got)
			}
			if got := kinds(f.inbox(t, f.intern.ID)); got[store.KindReviewPosted] != 0 {
				t.Fatalf("intern notified: %v", got)
			}
		})
	}
}

func TestReviewOfClosedEnrollment(t *testing.T) {
	f := newFixture(t)
	sub := f.submit(t, f.tasks[0])
	f.endEnrollment(t)
	_, err := f.reviewer.Review(ctx(t), caller(f.mentor), sub.ID, work.ReviewInput{Score: 9, Feedback: "ok", Decision: "accepted"})
	if !errors.Is(err, work.ErrEnrollmentClosed) {
		t.Fatalf("err = %v", err)
	}
}

func TestListAuthorization(t *testing.T) {
	cases := []struct {
		name   string
		as     func(f *fixture) store.User
		want   error
		denied bool
	}{
		{"intern", func(f *fixture) store.User { return f.intern }, nil, false},
		{"assigned mentor", func(f *fixture) store.User { return f.mentor }, nil, false},
		{"org admin", func(f *fixture) store.User { return f.orgAdmin }, nil, false},
		{"another intern", func(f *fixture) store.User { return f.otherIntern }, work.ErrNotFound, true},
		{"another mentor of the org", func(f *fixture) store.User { return f.mentor2 }, work.ErrNotFound, true},
		{"mentor of another org", func(f *fixture) store.User { return f.outsiderMentor }, work.ErrNotFound, true},
		{"platform admin", func(f *fixture) store.User { return f.platAdmin }, work.ErrForbidden, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.submit(t, f.tasks[0])
			list, err := f.lister.List(ctx(t), caller(tc.as(f)), f.enr.ID)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && len(list.Items) != 1 {
				t.Fatalf("list = %+v", list)
			}
			if got := f.denials() > 0; got != tc.denied {
				t.Fatalf("denial audited = %v", got)
			}
		})
	}
	f := newFixture(t)
	if _, err := f.lister.List(ctx(t), caller(f.intern), "enr_aaaaaaaaaaaaaaaaaaaaaaaaaa"); !errors.Is(err, work.ErrNotFound) {
		t.Fatalf("unknown enrollment: %v", err)
	}
}

func TestSubmitIdempotency(t *testing.T) {
	f := newFixture(t)
	idem := work.Idem{Key: "retry-1", RequestHash: idempotency.RequestHash("POST", "/p", []byte(`{"text":"a"}`))}
	first, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[0].ID, goodInput(), idem)
	if err != nil || first.Replayed || first.Status != 201 {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[0].ID, goodInput(), idem)
	if err != nil || !again.Replayed || string(again.Body) != string(first.Body) || again.Status != 201 {
		t.Fatalf("replay = %+v, %v", again, err)
	}
	if subs, _ := f.st.ListSubmissions(ctx(t), f.enr.ID); len(subs) != 1 {
		t.Fatalf("replay wrote: %+v", subs)
	}
	if n := len(f.inbox(t, f.mentor.ID)); n != 1 {
		t.Fatalf("%d notifications", n)
	}
	other := work.Idem{Key: "retry-1", RequestHash: idempotency.RequestHash("POST", "/p", []byte(`{"text":"b"}`))}
	if _, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[0].ID, goodInput(), other); !errors.Is(err, work.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other body: %v", err)
	}
	if !isStatus(work.ToHTTP(work.ErrIdempotencyMismatch), 422) {
		t.Fatal("mismatch is not 422")
	}

	// A refused request leaves its key free: after fixing the cause the same
	// key runs again.
	fresh := work.Idem{Key: "retry-2", RequestHash: idempotency.RequestHash("POST", "/q", nil)}
	if _, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[0].ID, goodInput(), fresh); !errors.Is(err, work.ErrNotSubmittable) {
		t.Fatalf("refused: %v", err)
	}
	if _, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[1].ID, goodInput(), fresh); err != nil {
		t.Fatalf("key reused after a refusal: %v", err)
	}
	bad := work.Idem{Key: "bad\x01key", RequestHash: fresh.RequestHash}
	if _, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, f.tasks[2].ID, goodInput(), bad); !errors.Is(err, work.ErrInvalidIdempotencyKey) {
		t.Fatalf("bad key: %v", err)
	}
}

func TestConstructorsRefuseMissingDependencies(t *testing.T) {
	if _, err := work.NewSubmitter(nil, nil, nil, nil, nil); err == nil {
		t.Fatal("NewSubmitter accepted nils")
	}
	if _, err := work.NewLister(nil, nil); err == nil {
		t.Fatal("NewLister accepted nils")
	}
	if _, err := work.NewReviewer(nil, nil, nil, nil, nil); err == nil {
		t.Fatal("NewReviewer accepted nils")
	}
}
