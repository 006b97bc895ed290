package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// openProgram stores an open program of a fresh org with capacity seats.
func openProgram(t *testing.T, e env, capacity int) store.Program {
	t.Helper()
	p := newProgram(ids.New(ids.Org), 0)
	p.Status, p.Capacity = domain.ProgramOpen, capacity
	return mustProgram(t, e, p)
}

func newApplication(p store.Program, intern string, createdAt time.Time) store.Application {
	return store.Application{
		ID: ids.New(ids.Application), ProgramID: p.ID, OrgID: p.OrgID, InternID: intern,
		Motivation: "I would like to learn how production services are built and run.",
		Status:     domain.ApplicationPending, CreatedAt: createdAt, UpdatedAt: createdAt,
	}
}

func mustApply(t *testing.T, e env, p store.Program, intern string, createdAt time.Time) store.Application {
	t.Helper()
	a, err := e.st.CreateApplication(ctx(t), newApplication(p, intern, createdAt))
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	return a
}

func decidedNotification(a store.Application) store.Notification {
	return store.Notification{
		UserID: a.InternID, Kind: store.KindApplicationDecided,
		Data: store.NotificationData{ProgramID: a.ProgramID, ApplicationID: a.ID, Decision: string(a.Status), EnrollmentID: a.EnrollmentID},
	}
}

// accepted returns a accepted with a fresh enrollment, as the service builds
// them from domain.Application.Accept.
func accepted(a store.Application, mentor string, now time.Time) (store.Application, store.Enrollment) {
	enr := store.Enrollment{
		ID: ids.New(ids.Enrollment), ProgramID: a.ProgramID, OrgID: a.OrgID, InternID: a.InternID, MentorID: mentor,
		ApplicationID: a.ID, Status: store.EnrollmentActive, CreatedAt: now,
		Tasks: map[string]store.TaskProgress{ids.New(ids.Task): {Status: store.TaskNotStarted}},
	}
	a.Status, a.DecidedBy, a.DecidedAt, a.MentorID, a.EnrollmentID, a.UpdatedAt =
		domain.ApplicationAccepted, ids.New(ids.User), now, mentor, enr.ID, now
	return a, enr
}

func TestApplicationRoundTripAndLock(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 3)
	intern := ids.New(ids.User)
	a := mustApply(t, e, p, intern, base)
	if a.Version != 1 {
		t.Fatalf("version = %d, want 1", a.Version)
	}
	got, err := e.st.GetApplication(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.ProgramID != p.ID || got.OrgID != p.OrgID || got.InternID != intern ||
		got.Motivation != a.Motivation || got.Status != domain.ApplicationPending || !got.CreatedAt.Equal(base) ||
		got.Version != 1 || !got.DecidedAt.IsZero() {
		t.Fatalf("GetApplication = %+v, want %+v", got, a)
	}
	if _, err := e.st.CreateApplication(ctx(t), newApplication(p, intern, base)); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Fatalf("second application: err = %v, want ErrAlreadyApplied", err)
	}
	// Another intern is not blocked.
	mustApply(t, e, p, ids.New(ids.User), base)

	for name, id := range map[string]string{"unknown": ids.New(ids.Application), "malformed": "app_x#PROFILE", "other prefix": ids.New(ids.Enrollment)} {
		if _, err := e.st.GetApplication(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
}

func TestCreateApplicationRefusals(t *testing.T) {
	e := newEnv(t)
	draft := mustProgram(t, e, newProgram(ids.New(ids.Org), 0))
	open := openProgram(t, e, 3)
	tests := []struct {
		name string
		app  store.Application
		want error
	}{
		{"program not open", newApplication(draft, ids.New(ids.User), base), store.ErrProgramNotAccepting},
		{"program missing", newApplication(store.Program{ID: ids.New(ids.Program), OrgID: open.OrgID}, ids.New(ids.User), base), store.ErrProgramNotAccepting},
		{"org mismatch", func() store.Application {
			a := newApplication(open, ids.New(ids.User), base)
			a.OrgID = ids.New(ids.Org)
			return a
		}(), store.ErrProgramNotAccepting},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.st.CreateApplication(ctx(t), tc.app); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err := e.st.GetApplication(ctx(t), tc.app.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("refused application was stored: %v", err)
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		for name, mut := range map[string]func(*store.Application){
			"bad id":        func(a *store.Application) { a.ID = "app_1" },
			"bad intern":    func(a *store.Application) { a.InternID = "usr_#" },
			"not pending":   func(a *store.Application) { a.Status = domain.ApplicationAccepted },
			"no created at": func(a *store.Application) { a.CreatedAt = time.Time{} },
		} {
			a := newApplication(open, ids.New(ids.User), base)
			mut(&a)
			if _, err := e.st.CreateApplication(ctx(t), a); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

func TestCreateApplicationExtraItem(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 3)
	// A condition on an item that does not exist stands for an idempotency
	// lease that was lost meanwhile.
	lost := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "IDEM#applications-create#00"}, "SK": &types.AttributeValueMemberS{Value: "IDEM"},
		},
		ConditionExpression: aws.String("attribute_exists(PK)"),
	}}
	a := newApplication(p, ids.New(ids.User), base)
	if _, err := e.st.CreateApplication(ctx(t), a, lost); !errors.Is(err, store.ErrExtraItemFailed) {
		t.Fatalf("err = %v, want ErrExtraItemFailed", err)
	}
	if _, err := e.st.GetApplication(ctx(t), a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("application written despite the failed extra item: %v", err)
	}
	// Nothing was locked either: the same intern applies now.
	if _, err := e.st.CreateApplication(ctx(t), a); err != nil {
		t.Fatalf("apply after the failed transaction: %v", err)
	}
}

func TestCreateApplicationConcurrentSameIntern(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 3)
	intern := ids.New(ids.User)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.st.CreateApplication(ctx(t), newApplication(p, intern, base))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrAlreadyApplied), errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	apps, _, err := e.st.ListInternApplications(ctx(t), intern, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(apps) != 1 {
		t.Fatalf("%d succeeded, %d stored; want exactly 1", ok, len(apps))
	}
}

func TestWithdrawAndRejectReleaseLock(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 3)
	intern := ids.New(ids.User)
	now := base.Add(time.Hour)

	a := mustApply(t, e, p, intern, base)
	w := a
	w.Status, w.WithdrawnAt, w.UpdatedAt = domain.ApplicationWithdrawn, now, now
	if _, err := e.st.WithdrawApplication(ctx(t), w, a.Version+1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale version: err = %v, want ErrConflict", err)
	}
	got, err := e.st.WithdrawApplication(ctx(t), w, a.Version)
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	if got.Version != 2 || got.Status != domain.ApplicationWithdrawn {
		t.Fatalf("withdrawn = %+v", got)
	}
	stored, err := e.st.GetApplication(ctx(t), a.ID)
	if err != nil || stored.Status != domain.ApplicationWithdrawn || stored.Version != 2 || !stored.WithdrawnAt.Equal(now) {
		t.Fatalf("stored after withdraw = %+v, %v", stored, err)
	}
	if _, err := e.st.WithdrawApplication(ctx(t), w, 2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("withdrawing a withdrawn application: err = %v, want ErrConflict", err)
	}

	// The lock is released: the intern may apply again; then reject it.
	b := mustApply(t, e, p, intern, base.Add(time.Minute))
	r := b
	r.Status, r.DecidedBy, r.DecidedAt, r.RejectReason, r.UpdatedAt = domain.ApplicationRejected, ids.New(ids.User), now, "The cohort is full of backend profiles.", now
	if _, err := e.st.RejectApplication(ctx(t), r, b.Version, decidedNotification(r)); err != nil {
		t.Fatalf("RejectApplication: %v", err)
	}
	stored, err = e.st.GetApplication(ctx(t), b.ID)
	if err != nil || stored.Status != domain.ApplicationRejected || stored.RejectReason != r.RejectReason || stored.DecidedBy != r.DecidedBy {
		t.Fatalf("stored after reject = %+v, %v", stored, err)
	}
	inbox, _, err := e.st.ListNotifications(ctx(t), intern, false, 10, nil)
	if err != nil || len(inbox) != 1 || inbox[0].Kind != store.KindApplicationDecided || inbox[0].Data.ApplicationID != b.ID {
		t.Fatalf("inbox after reject = %+v, %v", inbox, err)
	}
	if _, err := e.st.RejectApplication(ctx(t), r, b.Version, decidedNotification(r)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second reject: err = %v, want ErrConflict", err)
	}
	if inbox, _, _ := e.st.ListNotifications(ctx(t), intern, false, 10, nil); len(inbox) != 1 {
		t.Fatalf("a refused reject notified: %d notifications", len(inbox))
	}
	mustApply(t, e, p, intern, base.Add(2*time.Minute))
}

func TestAcceptApplication(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 1)
	mentor := ids.New(ids.User)
	a := mustApply(t, e, p, ids.New(ids.User), base)
	acc, enr := accepted(a, mentor, base.Add(time.Hour))

	bad := enr
	bad.InternID = ids.New(ids.User)
	if _, err := e.st.AcceptApplication(ctx(t), acc, 1, bad, decidedNotification(acc)); err == nil {
		t.Fatal("enrollment of another intern accepted")
	}
	got, err := e.st.AcceptApplication(ctx(t), acc, 1, enr, decidedNotification(acc))
	if err != nil {
		t.Fatalf("AcceptApplication: %v", err)
	}
	if got.Version != 2 || got.EnrollmentID != enr.ID {
		t.Fatalf("accepted = %+v", got)
	}
	stored, err := e.st.GetEnrollment(ctx(t), enr.ID)
	if err != nil || stored.MentorID != mentor || stored.ApplicationID != a.ID || stored.Version != 1 || len(stored.Tasks) != 1 {
		t.Fatalf("enrollment = %+v, %v", stored, err)
	}
	prog, err := e.st.GetProgram(ctx(t), p.ID)
	if err != nil || prog.Enrolled != 1 || prog.Version != p.Version {
		t.Fatalf("program after accept = enrolled %d version %d (was %d), %v", prog.Enrolled, prog.Version, p.Version, err)
	}
	app, _ := e.st.GetApplication(ctx(t), a.ID)
	if app.Status != domain.ApplicationAccepted || app.MentorID != mentor || app.EnrollmentID != enr.ID {
		t.Fatalf("stored application = %+v", app)
	}
	// The accepted application keeps its lock: no second application.
	if _, err := e.st.CreateApplication(ctx(t), newApplication(p, a.InternID, base)); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Fatalf("apply after accept: err = %v, want ErrAlreadyApplied", err)
	}

	// The program is full now.
	b := mustApply(t, e, p, ids.New(ids.User), base)
	accB, enrB := accepted(b, mentor, base.Add(time.Hour))
	if _, err := e.st.AcceptApplication(ctx(t), accB, 1, enrB, decidedNotification(accB)); !errors.Is(err, store.ErrProgramFull) {
		t.Fatalf("accept past capacity: err = %v, want ErrProgramFull", err)
	}
	if _, err := e.st.GetEnrollment(ctx(t), enrB.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused accept stored its enrollment: %v", err)
	}
	if inbox, _, _ := e.st.ListNotifications(ctx(t), b.InternID, false, 10, nil); len(inbox) != 0 {
		t.Fatalf("refused accept notified: %+v", inbox)
	}
}

func TestAcceptApplicationProgramState(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 5)
	a := mustApply(t, e, p, ids.New(ids.User), base)
	// Archive the program behind the caller's back.
	p.Status = domain.ProgramArchived
	if _, err := e.st.UpdateProgram(ctx(t), p, p.Version); err != nil {
		t.Fatal(err)
	}
	acc, enr := accepted(a, ids.New(ids.User), base)
	if _, err := e.st.AcceptApplication(ctx(t), acc, 1, enr, decidedNotification(acc)); !errors.Is(err, store.ErrProgramNotAccepting) {
		t.Fatalf("accept in archived program: err = %v, want ErrProgramNotAccepting", err)
	}
}

func TestConcurrentAcceptsNeverExceedCapacity(t *testing.T) {
	e := newEnv(t)
	const capacity, n = 3, 10
	p := openProgram(t, e, capacity)
	mentor := ids.New(ids.User)
	apps := make([]store.Application, n)
	for i := range apps {
		apps[i] = mustApply(t, e, p, ids.New(ids.User), base.Add(time.Duration(i)*time.Millisecond))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc, enr := accepted(apps[i], mentor, base.Add(time.Hour))
			_, errs[i] = e.st.AcceptApplication(ctx(t), acc, 1, enr, decidedNotification(acc))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrProgramFull):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	mentees, _, err := e.st.ListMentorEnrollments(ctx(t), mentor, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := e.st.GetProgram(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != capacity || len(mentees) != capacity || prog.Enrolled != capacity {
		t.Fatalf("accepted %d, enrollments %d, enrolledCount %d; want %d each", ok, len(mentees), prog.Enrolled, capacity)
	}
}

func TestListApplications(t *testing.T) {
	e := newEnv(t)
	p := openProgram(t, e, 5)
	other := openProgram(t, e, 5)
	intern := ids.New(ids.User)
	var all []store.Application
	for i := range 7 {
		prog := p
		if i%2 == 1 {
			prog = other
		}
		who := ids.New(ids.User)
		if i < 2 {
			who = intern
		}
		all = append(all, mustApply(t, e, prog, who, base.Add(time.Duration(i)*10*time.Millisecond)))
	}
	// Withdraw the first one (of p).
	w := all[0]
	w.Status, w.WithdrawnAt, w.UpdatedAt = domain.ApplicationWithdrawn, base, base
	if _, err := e.st.WithdrawApplication(ctx(t), w, 1); err != nil {
		t.Fatal(err)
	}
	pageAll := func(t *testing.T, list func(int32, store.StartKey) ([]store.Application, store.StartKey, error), limit int32) []string {
		t.Helper()
		var got []string
		var start store.StartKey
		for page := 0; ; page++ {
			if page > 20 {
				t.Fatal("pagination does not end")
			}
			items, next, err := list(limit, start)
			if err != nil {
				t.Fatal(err)
			}
			if int32(len(items)) > limit {
				t.Fatalf("page of %d, limit %d", len(items), limit)
			}
			for _, a := range items {
				got = append(got, a.ID)
			}
			if next == nil {
				return got
			}
			start = next
		}
	}
	ids := func(idx ...int) []string {
		out := make([]string, len(idx))
		for i, j := range idx {
			out[i] = all[j].ID
		}
		return out
	}
	tests := []struct {
		name   string
		status domain.ApplicationStatus
		want   []string
	}{
		{"all, oldest first", "", ids(0, 2, 4, 6)},
		{"pending", domain.ApplicationPending, ids(2, 4, 6)},
		{"withdrawn", domain.ApplicationWithdrawn, ids(0)},
		{"accepted", domain.ApplicationAccepted, nil},
	}
	for _, tc := range tests {
		for _, limit := range []int32{1, 2, 50} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				got := pageAll(t, func(l int32, s store.StartKey) ([]store.Application, store.StartKey, error) {
					return e.st.ListProgramApplications(ctx(t), p.ID, tc.status, l, s)
				}, limit)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
	}
	t.Run("intern, newest first", func(t *testing.T) {
		got := pageAll(t, func(l int32, s store.StartKey) ([]store.Application, store.StartKey, error) {
			return e.st.ListInternApplications(ctx(t), intern, l, s)
		}, 1)
		if want := ids(1, 0); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("foreign start keys", func(t *testing.T) {
		_, next, err := e.st.ListProgramApplications(ctx(t), p.ID, "", 1, nil)
		if err != nil || next == nil {
			t.Fatalf("first page: %v %v", next, err)
		}
		if _, _, err := e.st.ListProgramApplications(ctx(t), other.ID, "", 1, next); !errors.Is(err, store.ErrInvalidStartKey) {
			t.Errorf("another program's key: err = %v", err)
		}
		if _, _, err := e.st.ListInternApplications(ctx(t), intern, 1, next); !errors.Is(err, store.ErrInvalidStartKey) {
			t.Errorf("GSI1 key on GSI2 listing: err = %v", err)
		}
		bad := store.StartKey{"PK": next["PK"], "SK": next["SK"], "GSI1PK": next["GSI1PK"], "GSI1SK": &types.AttributeValueMemberN{Value: "1"}}
		if _, _, err := e.st.ListProgramApplications(ctx(t), p.ID, "", 1, bad); !errors.Is(err, store.ErrInvalidStartKey) {
			t.Errorf("non-string sort key: err = %v", err)
		}
	})
	t.Run("unknown status", func(t *testing.T) {
		if _, _, err := e.st.ListProgramApplications(ctx(t), p.ID, "done", 1, nil); err == nil {
			t.Error("unknown status accepted")
		}
	})
}
