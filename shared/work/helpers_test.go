package work_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work"
	"github.com/vip-platform/backend/shared/work/worktest"
)

// fixture is a worktest world with the three services, under short names.
type fixture struct {
	env  *worktest.Env
	st   *store.Store
	db   *dynamodb.Client
	rec  *audittest.Recorder
	hook *worktest.Hook

	intern, mentor, mentor2, orgAdmin      store.User
	otherIntern, outsiderMentor, platAdmin store.User
	program                                store.Program
	tasks                                  []store.Task
	enr                                    store.Enrollment

	submitter *work.Submitter
	lister    *work.Lister
	reviewer  *work.Reviewer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := worktest.New(t)
	return &fixture{
		env: e, st: e.Store, db: e.DB, rec: e.Audit, hook: e.Hook,
		intern: e.Intern, mentor: e.Mentor, mentor2: e.Mentor2, orgAdmin: e.OrgAdmin,
		otherIntern: e.OtherIntern, outsiderMentor: e.OutsiderMentor, platAdmin: e.PlatformAdmin,
		program: e.Program, tasks: e.Tasks, enr: e.Enrollment,
		submitter: e.Submitter(t), lister: e.Lister(t), reviewer: e.Reviewer(t),
	}
}

func ctx(t *testing.T) context.Context { return worktest.Ctx(t) }

func caller(u store.User) work.Caller {
	c := worktest.Caller(u)
	c.RequestID, c.SourceIP = "req-test", "192.0.2.7"
	return c
}

func goodInput() work.SubmitInput {
	return work.SubmitInput{Text: "My solution, with tests.", Links: []string{"https://github.com/example/pr/1"}}
}

func (f *fixture) submit(t *testing.T, task store.Task) work.SubmissionView {
	t.Helper()
	res, err := f.submitter.Submit(ctx(t), caller(f.intern), f.enr.ID, task.ID, goodInput(), work.Idem{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return decodeSubmission(t, res.Body)
}

func (f *fixture) review(t *testing.T, subID, decision string, score int) work.Reviewed {
	t.Helper()
	res, err := f.reviewer.Review(ctx(t), caller(f.mentor), subID, work.ReviewInput{Score: score, Feedback: "Feedback.", Decision: decision})
	if err != nil {
		t.Fatalf("Review: %v", err)
	}
	return res
}

func (f *fixture) enrollment(t *testing.T) store.Enrollment {
	t.Helper()
	e, err := f.st.GetEnrollment(ctx(t), f.enr.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) inbox(t *testing.T, userID string) []store.Notification {
	return f.env.Inbox(t, userID)
}

func kinds(ns []store.Notification) map[string]int { return worktest.Kinds(ns) }

func (f *fixture) setUser(t *testing.T, userID string, attrs map[string]string) {
	f.env.SetUser(t, userID, attrs)
}

func (f *fixture) endEnrollment(t *testing.T) { f.env.EndEnrollment(t, f.enr.ID) }

// denials counts the authz.denied entries recorded so far.
func (f *fixture) denials() int { return len(f.rec.Find(work.ActionDenied)) }
