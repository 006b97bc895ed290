package enrollment_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

func accept(mentor string) enrollment.DecisionInput {
	return enrollment.DecisionInput{Decision: enrollment.DecisionAccepted, MentorID: mentor}
}

func reject(reason string) enrollment.DecisionInput {
	return enrollment.DecisionInput{Decision: enrollment.DecisionRejected, Reason: reason}
}

func TestWithdraw(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 2)
	intern, other := w.Interns[0], w.Interns[1]
	app := e.apply(t, w, intern)

	tests := []struct {
		name    string
		c       enrollment.Caller
		version int64
		want    error
		audited bool
		status  int
	}{
		{"another intern", caller(other), 1, enrollment.ErrNotFound, true, 404},
		{"the org admin", caller(w.Admin), 1, enrollment.ErrNotFound, true, 404},
		{"stale version", caller(intern), 2, enrollment.ErrStale, false, 412},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Audit.Reset()
			_, err := e.withdr.Withdraw(ctx(t), tc.c, app.ID, tc.version)
			if !errors.Is(err, tc.want) || statusOf(enrollment.ToHTTP(err)) != tc.status {
				t.Fatalf("err = %v, want %v (%d)", err, tc.want, tc.status)
			}
			if got := len(e.denials()) == 1; got != tc.audited {
				t.Fatalf("denials %+v", e.denials())
			}
			if a, _ := e.Store.GetApplication(ctx(t), app.ID); a.Status != domain.ApplicationPending || a.Version != 1 {
				t.Fatalf("refused withdrawal changed the application: %+v", a)
			}
		})
	}
	if _, err := e.withdr.Withdraw(ctx(t), caller(intern), ids.New(ids.Application), 1); !errors.Is(err, enrollment.ErrNotFound) {
		t.Fatalf("unknown application: %v", err)
	}

	got, err := e.withdr.Withdraw(ctx(t), caller(intern), app.ID, 1)
	if err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	if got.Status != domain.ApplicationWithdrawn || got.Version != 2 {
		t.Fatalf("withdrawn = %+v", got)
	}
	if _, err := e.withdr.Withdraw(ctx(t), caller(intern), app.ID, 2); !errors.Is(err, enrollment.ErrNotPending) || statusOf(enrollment.ToHTTP(err)) != 409 {
		t.Fatalf("withdrawing twice: %v", err)
	}
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 2, accept(w.Mentor.ID)); !errors.Is(err, enrollment.ErrNotPending) {
		t.Fatalf("accepting a withdrawn application: %v", err)
	}
	// The lock is released: the intern applies again.
	e.apply(t, w, intern)
}

func TestWithdrawBySuspendedIntern(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 1)
	intern := w.Interns[0]
	app := e.apply(t, w, intern)
	if _, err := e.Store.SetStatus(ctx(t), intern.ID, store.UserSuspended, intern.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := e.withdr.Withdraw(ctx(t), caller(intern), app.ID, 1); !errors.Is(err, enrollment.ErrForbidden) || len(e.denials()) != 1 {
		t.Fatalf("suspended intern: err = %v, denials %d", err, len(e.denials()))
	}
}

func TestDecideValidation(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 1)
	app := e.apply(t, w, w.Interns[0])
	otherMentor := e.User(t, apigw.RoleMentor, ids.New(ids.Org))
	suspendedMentor := e.User(t, apigw.RoleMentor, w.Org)
	if _, err := e.Store.SetStatus(ctx(t), suspendedMentor.ID, store.UserSuspended, suspendedMentor.Version); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		in     enrollment.DecisionInput
		fields []string
	}{
		{"no decision", enrollment.DecisionInput{}, []string{"decision"}},
		{"unknown decision", enrollment.DecisionInput{Decision: "maybe"}, []string{"decision"}},
		{"accept without mentor", enrollment.DecisionInput{Decision: "accepted"}, []string{"mentorId"}},
		{"accept with malformed mentor", accept("usr_nope"), []string{"mentorId"}},
		{"accept with a reason", enrollment.DecisionInput{Decision: "accepted", MentorID: w.Mentor.ID, Reason: "x"}, []string{"reason"}},
		{"reject without reason", enrollment.DecisionInput{Decision: "rejected"}, []string{"reason"}},
		{"reject with mentor", enrollment.DecisionInput{Decision: "rejected", Reason: "Full.", MentorID: w.Mentor.ID}, []string{"mentorId"}},
		{"reject with oversize reason", reject(strings.Repeat("r", enrollment.MaxDecisionReasonLen+1)), []string{"reason"}},
		{"reject with control characters", reject("no\x1b[31m"), []string{"reason"}},
		{"mentor of another org", accept(otherMentor.ID), []string{"mentorId"}},
		{"suspended mentor", accept(suspendedMentor.ID), []string{"mentorId"}},
		{"an org admin as mentor", accept(w.Admin.ID), []string{"mentorId"}},
		{"an intern as mentor", accept(w.Interns[0].ID), []string{"mentorId"}},
		{"unknown mentor", accept(ids.New(ids.User)), []string{"mentorId"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 1, tc.in)
			var ve validate.Errors
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want field errors %v", err, tc.fields)
			}
			var got []string
			for _, f := range ve {
				got = append(got, f.Field)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.fields) {
				t.Fatalf("fields %v, want %v", got, tc.fields)
			}
			if a, _ := e.Store.GetApplication(ctx(t), app.ID); a.Status != domain.ApplicationPending || a.Version != 1 {
				t.Fatalf("invalid decision changed the application: %+v", a)
			}
		})
	}
}

func TestDecideAuthorization(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 1)
	app := e.apply(t, w, w.Interns[0])
	moved := e.User(t, apigw.RoleOrgAdmin, w.Org)
	e.MoveUser(t, moved, ids.New(ids.Org)) // token still says w.Org
	suspended := e.User(t, apigw.RoleOrgAdmin, w.Org)
	if _, err := e.Store.SetStatus(ctx(t), suspended.ID, store.UserSuspended, suspended.Version); err != nil {
		t.Fatal(err)
	}
	demoted := caller(w.Mentor) // a mentor presenting an org_admin role
	demoted.Role = apigw.RoleOrgAdmin
	tests := []struct {
		name string
		c    enrollment.Caller
	}{
		{"org admin of another org", caller(w.Outsider)},
		{"mentor of the org", caller(w.Mentor)},
		{"the applicant", caller(w.Interns[0])},
		{"org admin moved out of the org", caller(moved)},
		{"suspended org admin", caller(suspended)},
		{"stored role is not org admin", demoted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Audit.Reset()
			_, err := e.decider.Decide(ctx(t), tc.c, app.ID, 1, accept(w.Mentor.ID))
			if !errors.Is(err, enrollment.ErrNotFound) || statusOf(enrollment.ToHTTP(err)) != http.StatusNotFound {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			d := e.denials()
			if len(d) != 1 || d[0].Details["route"] != enrollment.RouteDecideApplication || d[0].Target != app.ID || d[0].Actor != tc.c.UserID {
				t.Fatalf("denials %+v", d)
			}
		})
	}
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), ids.New(ids.Application), 1, accept(w.Mentor.ID)); !errors.Is(err, enrollment.ErrNotFound) {
		t.Fatalf("unknown application: %v", err)
	}
	prog, _ := e.Store.GetProgram(ctx(t), w.Program.ID)
	if a, _ := e.Store.GetApplication(ctx(t), app.ID); a.Status != domain.ApplicationPending || prog.Enrolled != 0 {
		t.Fatalf("denied decisions wrote: %+v, enrolled %d", a, prog.Enrolled)
	}
}

func TestDecideAccept(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 1, 2)
	intern := w.Interns[0]
	app := e.apply(t, w, intern)
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 2, accept(w.Mentor.ID)); !errors.Is(err, enrollment.ErrStale) || statusOf(enrollment.ToHTTP(err)) != 412 {
		t.Fatalf("stale If-Match: %v", err)
	}
	got, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 1, accept(w.Mentor.ID))
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if got.Status != domain.ApplicationAccepted || got.Version != 2 || !ids.Valid(got.EnrollmentID, ids.Enrollment) || !got.DecidedAt.Equal(base) {
		t.Fatalf("accepted = %+v", got)
	}
	enr, err := e.Store.GetEnrollment(ctx(t), got.EnrollmentID)
	if err != nil {
		t.Fatal(err)
	}
	if enr.InternID != intern.ID || enr.MentorID != w.Mentor.ID || enr.OrgID != w.Org || enr.ProgramID != w.Program.ID ||
		enr.ApplicationID != app.ID || enr.Status != store.EnrollmentActive || len(enr.Tasks) != len(w.Tasks) {
		t.Fatalf("enrollment = %+v", enr)
	}
	for _, task := range w.Tasks {
		if tp, ok := enr.Tasks[task.ID]; !ok || tp.Status != store.TaskNotStarted || tp.LatestVersion != 0 {
			t.Fatalf("task %s progress %+v (present %v)", task.ID, tp, ok)
		}
	}
	prog, _ := e.Store.GetProgram(ctx(t), w.Program.ID)
	if prog.Enrolled != 1 {
		t.Fatalf("enrolledCount %d, want 1", prog.Enrolled)
	}
	inbox, _, err := e.Store.ListNotifications(ctx(t), intern.ID, false, 10, nil)
	if err != nil || len(inbox) != 1 || inbox[0].Kind != store.KindApplicationDecided ||
		inbox[0].Data.Decision != "accepted" || inbox[0].Data.EnrollmentID != enr.ID || inbox[0].Data.ApplicationID != app.ID {
		t.Fatalf("inbox = %+v, %v", inbox, err)
	}
	if d := e.Audit.Find(enrollment.ActionApplicationDecided); len(d) != 1 || d[0].Details["decision"] != "accepted" || d[0].Actor != w.Admin.ID {
		t.Fatalf("decision audit %+v", d)
	}
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 2, reject("Changed my mind.")); !errors.Is(err, enrollment.ErrNotPending) {
		t.Fatalf("deciding twice: %v", err)
	}

	// The program is full now.
	second := e.apply(t, w, w.Interns[1])
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), second.ID, 1, accept(w.Mentor.ID)); !errors.Is(err, enrollment.ErrFull) || statusOf(enrollment.ToHTTP(err)) != 409 {
		t.Fatalf("accept past capacity: %v", err)
	}
	if inbox, _, _ := e.Store.ListNotifications(ctx(t), w.Interns[1].ID, false, 10, nil); len(inbox) != 0 {
		t.Fatalf("refused accept notified %+v", inbox)
	}
}

func TestDecideReject(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 1)
	intern := w.Interns[0]
	app := e.apply(t, w, intern)
	got, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 1, reject("We are looking for more experience with SQL."))
	if err != nil {
		t.Fatalf("reject: %v", err)
	}
	if got.Status != domain.ApplicationRejected || got.RejectReason == "" || got.Version != 2 || got.EnrollmentID != "" {
		t.Fatalf("rejected = %+v", got)
	}
	inbox, _, _ := e.Store.ListNotifications(ctx(t), intern.ID, false, 10, nil)
	if len(inbox) != 1 || inbox[0].Data.Decision != "rejected" {
		t.Fatalf("inbox %+v", inbox)
	}
	// Notifications never carry the reason.
	if strings.Contains(fmt.Sprintf("%+v", inbox[0]), "SQL") {
		t.Fatalf("notification leaks the reason: %+v", inbox[0])
	}
	// The lock is released: the intern may apply again.
	e.apply(t, w, intern)
}

func TestDecideProgramStates(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 2)
	a1 := e.apply(t, w, w.Interns[0])
	a2 := e.apply(t, w, w.Interns[1])
	// Closed programs still take decisions.
	p, _ := e.Store.GetProgram(ctx(t), w.Program.ID)
	p.Status = domain.ProgramClosed
	p, err := e.Store.UpdateProgram(ctx(t), p, p.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), a1.ID, 1, accept(w.Mentor.ID)); err != nil {
		t.Fatalf("accept in a closed program: %v", err)
	}
	p.Status = domain.ProgramArchived
	if _, err := e.Store.UpdateProgram(ctx(t), p, p.Version); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]enrollment.DecisionInput{"accept": accept(w.Mentor.ID), "reject": reject("Archived.")} {
		if _, err := e.decider.Decide(ctx(t), caller(w.Admin), a2.ID, 1, in); !errors.Is(err, enrollment.ErrNotAccepting) {
			t.Errorf("%s in an archived program: %v", name, err)
		}
	}
}

func TestConcurrentAcceptsRespectCapacity(t *testing.T) {
	e := newEnv(t)
	const capacity, n = 3, 10
	w := e.World(t, capacity, n)
	apps := make([]enrollment.ApplicationView, n)
	for i, intern := range w.Interns {
		apps[i] = e.apply(t, w, intern)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.decider.Decide(ctx(t), caller(w.Admin), apps[i].ID, 1, accept(w.Mentor.ID))
		}()
	}
	wg.Wait()
	accepted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, enrollment.ErrFull):
		default:
			t.Errorf("accept %d: unexpected error %v", i, err)
		}
	}
	// Count the stored items, not the answers.
	enrollments, notified := 0, 0
	for _, intern := range w.Interns {
		items, _, err := e.Store.ListInternEnrollments(ctx(t), intern.ID, 50, nil)
		if err != nil {
			t.Fatal(err)
		}
		enrollments += len(items)
		inbox, _, _ := e.Store.ListNotifications(ctx(t), intern.ID, false, 50, nil)
		notified += len(inbox)
	}
	mentees, _, _ := e.Store.ListMentorEnrollments(ctx(t), w.Mentor.ID, 50, nil)
	prog, err := e.Store.GetProgram(ctx(t), w.Program.ID)
	if err != nil {
		t.Fatal(err)
	}
	if accepted != capacity || enrollments != capacity || len(mentees) != capacity || prog.Enrolled != capacity || notified != capacity {
		t.Fatalf("accepted %d, enrollments %d, mentees %d, enrolledCount %d, notified %d; want %d each",
			accepted, enrollments, len(mentees), prog.Enrolled, notified, capacity)
	}
	pending, _, _ := e.Store.ListProgramApplications(ctx(t), w.Program.ID, domain.ApplicationPending, 50, nil)
	if len(pending) != n-capacity {
		t.Fatalf("%d applications still pending, want %d", len(pending), n-capacity)
	}
}
