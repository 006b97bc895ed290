package enrollment_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// enrolled accepts a fresh application of each intern with w's mentor and
// returns the enrollment IDs in order.
func (e *env) enrolled(t *testing.T, w world, interns ...store.User) []string {
	t.Helper()
	var out []string
	for _, in := range interns {
		app := e.apply(t, w, in)
		got, err := e.decider.Decide(ctx(t), caller(w.Admin), app.ID, 1, accept(w.Mentor.ID))
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		out = append(out, got.EnrollmentID)
		e.Clock.Advance(time.Millisecond)
	}
	return out
}

func TestGetEnrollment(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 2)
	intern, other := w.Interns[0], w.Interns[1]
	enrID := e.enrolled(t, w, intern)[0]
	e.SetTask(t, enrID, w.Tasks[0].ID, store.TaskAccepted, 2)
	e.SetTask(t, enrID, w.Tasks[2].ID, store.TaskSubmitted, 1)

	for name, c := range map[string]enrollment.Caller{"intern": caller(intern), "mentor": caller(w.Mentor), "org admin": caller(w.Admin)} {
		t.Run(name, func(t *testing.T) {
			v, err := e.reader.Get(ctx(t), c, enrID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if v.ID != enrID || v.InternID != intern.ID || v.MentorID != w.Mentor.ID || v.ProgramID != w.Program.ID ||
				v.Status != "active" || v.Version != 3 || v.CompletedAt != nil {
				t.Fatalf("enrollment = %+v", v)
			}
			if v.Progress != (enrollment.ProgressView{RequiredTotal: 2, RequiredAccepted: 1, Percent: 50}) {
				t.Fatalf("progress = %+v", v.Progress)
			}
			want := []enrollment.TaskProgressView{
				{TaskID: w.Tasks[0].ID, Title: "Write a handler", Required: true, Status: "accepted", LatestVersion: 2},
				{TaskID: w.Tasks[1].ID, Title: "Add tests", Required: true, Status: "not_started"},
				{TaskID: w.Tasks[2].ID, Title: "Bonus: docs", Required: false, Status: "submitted", LatestVersion: 1},
			}
			if fmt.Sprint(v.Tasks) != fmt.Sprint(want) {
				t.Fatalf("tasks = %+v\nwant %+v", v.Tasks, want)
			}
		})
	}

	otherMentor := e.User(t, apigw.RoleMentor, w.Org)
	movedMentor := caller(w.Mentor)
	movedMentor.OrgID = ids.New(ids.Org)
	admin := e.User(t, apigw.RoleAdmin, "")
	for name, c := range map[string]enrollment.Caller{
		"another intern":            caller(other),
		"another mentor of the org": caller(otherMentor),
		"mentor of another org":     movedMentor,
		"org admin of another org":  caller(w.Outsider),
		"platform admin":            caller(admin),
	} {
		t.Run(name, func(t *testing.T) {
			e.Audit.Reset()
			_, err := e.reader.Get(ctx(t), c, enrID)
			if !errors.Is(err, enrollment.ErrNotFound) || statusOf(enrollment.ToHTTP(err)) != 404 {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if d := e.denials(); len(d) != 1 || d[0].Target != enrID || d[0].Details["route"] != enrollment.RouteGetEnrollment {
				t.Fatalf("denials %+v", d)
			}
		})
	}
	if _, err := e.reader.Get(ctx(t), caller(intern), ids.New(ids.Enrollment)); !errors.Is(err, enrollment.ErrNotFound) {
		t.Fatalf("unknown enrollment: %v", err)
	}
}

func TestMyEnrollmentsPaged(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 10, 4)
	intern := w.Interns[0]
	// The intern is enrolled in one program; the mentor mentors four.
	ids4 := e.enrolled(t, w, w.Interns...)

	var got []string
	cur := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		l, err := e.reader.Mine(ctx(t), caller(w.Mentor), enrollment.Page{Limit: 3, Cursor: cur})
		if err != nil {
			t.Fatalf("Mine: %v", err)
		}
		if len(l.Items) > 3 {
			t.Fatalf("page of %d", len(l.Items))
		}
		for _, v := range l.Items {
			if len(v.Tasks) != 3 || v.Progress.RequiredTotal != 2 {
				t.Fatalf("listed enrollment without tasks: %+v", v)
			}
			got = append(got, v.ID)
		}
		if l.NextCursor == "" {
			break
		}
		cur = l.NextCursor
	}
	want := []string{ids4[3], ids4[2], ids4[1], ids4[0]} // newest first
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("mentor listing %v, want %v", got, want)
	}

	mine, err := e.reader.Mine(ctx(t), caller(intern), enrollment.Page{})
	if err != nil || len(mine.Items) != 1 || mine.Items[0].ID != ids4[0] || mine.NextCursor != "" {
		t.Fatalf("intern listing %+v, %v", mine, err)
	}

	first, err := e.reader.Mine(ctx(t), caller(w.Mentor), enrollment.Page{Limit: 1})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	tampered := []byte(first.NextCursor)
	tampered[len(tampered)/2] ^= 1
	cursorCases := map[string]struct {
		c   enrollment.Caller
		cur string
	}{
		"tampered":       {caller(w.Mentor), string(tampered)},
		"garbage":        {caller(w.Mentor), "not-a-cursor"},
		"another user's": {caller(intern), first.NextCursor},
		"truncated":      {caller(w.Mentor), first.NextCursor[:20]},
	}
	for name, tc := range cursorCases {
		t.Run(name, func(t *testing.T) {
			_, err := e.reader.Mine(ctx(t), tc.c, enrollment.Page{Limit: 1, Cursor: tc.cur})
			if !errors.Is(err, enrollment.ErrInvalidCursor) || statusOf(enrollment.ToHTTP(err)) != 400 {
				t.Fatalf("err = %v, want ErrInvalidCursor (400)", err)
			}
		})
	}
	t.Run("limit out of range", func(t *testing.T) {
		for _, l := range []int{-1, 51} {
			_, err := e.reader.Mine(ctx(t), caller(intern), enrollment.Page{Limit: l})
			var ve validate.Errors
			if !errors.As(err, &ve) || ve[0].Field != "limit" {
				t.Errorf("limit %d: %v", l, err)
			}
		}
	})
	t.Run("roles without enrollments", func(t *testing.T) {
		e.Audit.Reset()
		_, err := e.reader.Mine(ctx(t), caller(w.Admin), enrollment.Page{})
		if !errors.Is(err, enrollment.ErrForbidden) || statusOf(enrollment.ToHTTP(err)) != 403 || len(e.denials()) != 1 {
			t.Fatalf("org admin: err = %v, denials %d", err, len(e.denials()))
		}
	})
}

func TestListApplications(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 5, 5)
	var apps []string
	for _, in := range w.Interns {
		apps = append(apps, e.apply(t, w, in).ID)
		e.Clock.Advance(time.Millisecond)
	}
	if _, err := e.decider.Decide(ctx(t), caller(w.Admin), apps[1], 1, reject("Not this time.")); err != nil {
		t.Fatal(err)
	}
	listAll := func(t *testing.T, status string, limit int) []string {
		t.Helper()
		var got []string
		cur := ""
		for page := 0; page < 20; page++ {
			l, err := e.lister.ForProgram(ctx(t), caller(w.Admin), w.Program.ID, status, enrollment.Page{Limit: limit, Cursor: cur})
			if err != nil {
				t.Fatalf("ForProgram: %v", err)
			}
			for _, a := range l.Items {
				got = append(got, a.ID)
				if a.Status == "rejected" && a.Reason == "" {
					t.Fatalf("rejected application without its reason: %+v", a)
				}
			}
			if l.NextCursor == "" {
				return got
			}
			cur = l.NextCursor
		}
		t.Fatal("pagination does not end")
		return nil
	}
	for _, limit := range []int{1, 2, 0} {
		if got := listAll(t, "", limit); fmt.Sprint(got) != fmt.Sprint(apps) {
			t.Fatalf("limit %d: %v, want oldest first %v", limit, got, apps)
		}
	}
	pending := []string{apps[0], apps[2], apps[3], apps[4]}
	if got := listAll(t, "pending", 2); fmt.Sprint(got) != fmt.Sprint(pending) {
		t.Fatalf("pending: %v, want %v", got, pending)
	}
	if got := listAll(t, "rejected", 2); fmt.Sprint(got) != fmt.Sprint([]string{apps[1]}) {
		t.Fatalf("rejected: %v", got)
	}

	first, err := e.lister.ForProgram(ctx(t), caller(w.Admin), w.Program.ID, "", enrollment.Page{Limit: 1})
	if err != nil || first.NextCursor == "" {
		t.Fatal(first, err)
	}
	t.Run("cursor of another filter", func(t *testing.T) {
		_, err := e.lister.ForProgram(ctx(t), caller(w.Admin), w.Program.ID, "pending", enrollment.Page{Limit: 1, Cursor: first.NextCursor})
		if !errors.Is(err, enrollment.ErrInvalidCursor) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("cursor of another admin", func(t *testing.T) {
		admin2 := e.User(t, apigw.RoleOrgAdmin, w.Org)
		_, err := e.lister.ForProgram(ctx(t), caller(admin2), w.Program.ID, "", enrollment.Page{Limit: 1, Cursor: first.NextCursor})
		if !errors.Is(err, enrollment.ErrInvalidCursor) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown status", func(t *testing.T) {
		_, err := e.lister.ForProgram(ctx(t), caller(w.Admin), w.Program.ID, "done", enrollment.Page{})
		var ve validate.Errors
		if !errors.As(err, &ve) || ve[0].Field != "status" {
			t.Fatalf("err = %v", err)
		}
	})
	moved := e.User(t, apigw.RoleOrgAdmin, w.Org)
	e.MoveUser(t, moved, ids.New(ids.Org))
	for name, c := range map[string]enrollment.Caller{
		"org admin of another org": caller(w.Outsider),
		"mentor of the org":        caller(w.Mentor),
		"an applicant":             caller(w.Interns[0]),
		"org admin moved away":     caller(moved),
	} {
		t.Run(name, func(t *testing.T) {
			e.Audit.Reset()
			_, err := e.lister.ForProgram(ctx(t), c, w.Program.ID, "", enrollment.Page{})
			if !errors.Is(err, enrollment.ErrNotFound) || len(e.denials()) != 1 {
				t.Fatalf("err = %v, denials %+v", err, e.denials())
			}
		})
	}

	t.Run("mine", func(t *testing.T) {
		intern := w.Interns[1]
		again := e.apply(t, w, intern) // after the rejection
		l, err := e.lister.Mine(ctx(t), caller(intern), enrollment.Page{})
		if err != nil || len(l.Items) != 2 || l.Items[0].ID != again.ID || l.Items[1].ID != apps[1] {
			t.Fatalf("mine = %+v, %v", l, err)
		}
		e.Audit.Reset()
		if _, err := e.lister.Mine(ctx(t), caller(w.Mentor), enrollment.Page{}); !errors.Is(err, enrollment.ErrForbidden) || len(e.denials()) != 1 {
			t.Fatalf("mentor: %v", err)
		}
	})
}
