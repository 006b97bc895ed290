package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

type enrollment struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	MentorID string `json:"mentorId"`
	Progress struct {
		RequiredTotal    int `json:"requiredTotal"`
		RequiredAccepted int `json:"requiredAccepted"`
		Percent          int `json:"percent"`
	} `json:"progress"`
}

type submission struct {
	ID      string `json:"id"`
	TaskID  string `json:"taskId"`
	Version int    `json:"version"`
	Status  string `json:"status"`
}

type notificationList struct {
	Items []struct {
		ID   string         `json:"id"`
		Kind string         `json:"kind"`
		Read bool           `json:"read"`
		Data map[string]any `json:"data"`
	} `json:"items"`
	NextCursor string `json:"nextCursor"`
}

func kinds(t *testing.T, a *account) []string {
	t.Helper()
	var l notificationList
	a.expect(http.StatusOK, a.do("GET", "/v1/notifications", nil)).json(t, &l)
	var out []string
	for _, n := range l.Items {
		out = append(out, n.Kind)
	}
	return out
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestInternshipFlow drives the whole product flow over HTTP as four users:
// platform admin (CLI), org admin, mentor and intern.
func TestInternshipFlow(t *testing.T) {
	o := newOrg(t, "Acme Labs")
	anon := newClient(t, "127.0.0.1")

	// The org admin creates a program idempotently, adds tasks, publishes.
	body := programBody("Backend internship", 2)
	first := o.Admin.expect(http.StatusCreated, o.Admin.do("POST", "/v1/orgs/"+o.ID+"/programs", body, "Idempotency-Key", "create-backend-1"))
	retry := o.Admin.expect(http.StatusCreated, o.Admin.do("POST", "/v1/orgs/"+o.ID+"/programs", body, "Idempotency-Key", "create-backend-1"))
	var p1, p2 program
	first.json(t, &p1)
	retry.json(t, &p2)
	if p1.ID != p2.ID {
		t.Fatalf("idempotent retry created a second program: %s and %s", p1.ID, p2.ID)
	}
	other := programBody("Another title", 2)
	if r := o.Admin.do("POST", "/v1/orgs/"+o.ID+"/programs", other, "Idempotency-Key", "create-backend-1"); r.status != http.StatusUnprocessableEntity {
		t.Errorf("same key, different body: %d %s", r.status, r.body)
	}

	// Drafts are invisible to the public.
	anon.expect(http.StatusNotFound, anon.do("GET", "/v1/programs/"+p1.ID, nil))

	p, tasks := o.openProgram(t, "Cloud internship", 2, 2, 1)

	t.Run("public listing shows only what the public may see", func(t *testing.T) {
		r := anon.expect(http.StatusOK, anon.do("GET", "/v1/programs?skill=go", nil))
		raw := string(r.body)
		if !strings.Contains(raw, p.ID) {
			t.Fatalf("open program missing from the public listing: %s", raw)
		}
		for _, leak := range []string{o.ID, o.Admin.Email, "enrolledCount", "orgId", "capacity"} {
			if strings.Contains(raw, leak) {
				t.Errorf("public listing leaks %q", leak)
			}
		}
		anon.expect(http.StatusOK, anon.do("GET", "/v1/programs/"+p.ID, nil))
		anon.expect(http.StatusBadRequest, anon.do("GET", "/v1/programs?cursor=AAAAtampered", nil))
		anon.expect(http.StatusBadRequest, anon.do("GET", "/v1/programs?limit=500", nil))
	})

	// An intern applies, once.
	intern := registerAs(t, "intern", "")
	var app application
	intern.expect(http.StatusCreated, intern.do("POST", "/v1/programs/"+p.ID+"/applications", map[string]string{"motivation": motivation})).json(t, &app)
	intern.expect(http.StatusConflict, intern.do("POST", "/v1/programs/"+p.ID+"/applications", map[string]string{"motivation": motivation}))

	// Another org's admin cannot see the applications.
	rival := newOrg(t, "Rival Corp")
	rival.Admin.expect(http.StatusNotFound, rival.Admin.do("GET", "/v1/programs/"+p.ID+"/applications", nil))

	// The org admin accepts with a mentor of the same org; a stale version
	// and a mentor of another org are refused.
	var apps struct{ Items []application }
	o.Admin.expect(http.StatusOK, o.Admin.do("GET", "/v1/programs/"+p.ID+"/applications?status=pending", nil)).json(t, &apps)
	if len(apps.Items) != 1 || apps.Items[0].ID != app.ID {
		t.Fatalf("applications %+v", apps.Items)
	}
	o.Admin.expect(http.StatusPreconditionFailed, o.Admin.do("POST", "/v1/applications/"+app.ID+"/decision",
		map[string]string{"decision": "accepted", "mentorId": o.Mentor.ID}, ifMatch(app.Version+7)...))
	o.Admin.expect(http.StatusBadRequest, o.Admin.do("POST", "/v1/applications/"+app.ID+"/decision",
		map[string]string{"decision": "accepted", "mentorId": rival.Mentor.ID}, ifMatch(app.Version)...))
	o.Admin.expect(http.StatusOK, o.Admin.do("POST", "/v1/applications/"+app.ID+"/decision",
		map[string]string{"decision": "accepted", "mentorId": o.Mentor.ID}, ifMatch(app.Version)...)).json(t, &app)
	if app.Status != "accepted" || app.EnrollmentID == "" {
		t.Fatalf("decision gave %+v", app)
	}
	if !has(kinds(t, intern), "application.decided") {
		t.Error("intern not notified of the decision")
	}

	// The intern sees the enrollment and its progress.
	var enr enrollment
	intern.expect(http.StatusOK, intern.do("GET", "/v1/enrollments/"+app.EnrollmentID, nil)).json(t, &enr)
	if enr.Status != "active" || enr.Progress.RequiredTotal != 2 || enr.Progress.Percent != 0 || enr.MentorID != o.Mentor.ID {
		t.Fatalf("enrollment %+v", enr)
	}
	intern.expect(http.StatusOK, intern.do("GET", "/v1/programs/"+p.ID+"/tasks", nil))
	o.Mentor2.expect(http.StatusNotFound, o.Mentor2.do("POST", "/v1/submissions/sub_aaaaaaaaaaaaaaaaaaaaaaaaaa/reviews",
		map[string]any{"score": 90, "feedback": "x", "decision": "accepted"}))

	submit := func(taskID string) submission {
		var s submission
		intern.expect(http.StatusCreated, intern.do("POST", "/v1/enrollments/"+enr.ID+"/tasks/"+taskID+"/submissions",
			map[string]any{"text": "Here is my work.", "links": []string{"https://example.org/pr/1"}})).json(t, &s)
		return s
	}
	review := func(who *account, s submission, score int, decision string) reply {
		return who.do("POST", "/v1/submissions/"+s.ID+"/reviews", map[string]any{"score": score, "feedback": "Reviewed.", "decision": decision})
	}

	// Task 1: changes requested, resubmitted, accepted.
	s1 := submit(tasks[0].ID)
	if !has(kinds(t, o.Mentor), "submission.created") {
		t.Error("mentor not notified of the submission")
	}
	intern.expect(http.StatusConflict, intern.do("POST", "/v1/enrollments/"+enr.ID+"/tasks/"+tasks[0].ID+"/submissions",
		map[string]any{"text": "Again while under review."}))
	o.Mentor2.expect(http.StatusNotFound, review(o.Mentor2, s1, 90, "accepted"))
	o.Mentor.expect(http.StatusCreated, review(o.Mentor, s1, 40, "changes_requested"))
	o.Mentor.expect(http.StatusConflict, review(o.Mentor, s1, 95, "accepted"))
	if !has(kinds(t, intern), "review.posted") {
		t.Error("intern not notified of the review")
	}
	s1v2 := submit(tasks[0].ID)
	if s1v2.Version != 2 {
		t.Fatalf("resubmission version %d, want 2", s1v2.Version)
	}
	o.Mentor.expect(http.StatusCreated, review(o.Mentor, s1v2, 90, "accepted"))

	// Concurrent reviews of one submission leave exactly one decision.
	s2 := submit(tasks[1].ID)
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = review(o.Mentor, s2, 80, "accepted").status
		}()
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Fatalf("concurrent review answered %d", st)
		}
	}
	if created != 1 {
		t.Fatalf("%d of 4 concurrent reviews succeeded, want exactly 1", created)
	}

	// Every required task accepted: the enrollment is complete.
	intern.expect(http.StatusOK, intern.do("GET", "/v1/enrollments/"+enr.ID, nil)).json(t, &enr)
	if enr.Status != "completed" || enr.Progress.Percent != 100 {
		t.Fatalf("after all required tasks accepted: %+v", enr)
	}
	if !has(kinds(t, intern), "enrollment.completed") {
		t.Error("intern not notified of completion")
	}

	// Every version is kept.
	var subs struct{ Items []submission }
	o.Mentor.expect(http.StatusOK, o.Mentor.do("GET", "/v1/enrollments/"+enr.ID+"/submissions", nil)).json(t, &subs)
	versions := 0
	for _, s := range subs.Items {
		if s.TaskID == tasks[0].ID {
			versions++
		}
	}
	if versions != 2 {
		t.Errorf("task 1 has %d stored versions, want 2", versions)
	}

	// Notifications can be marked read; another user's cannot.
	var inbox notificationList
	intern.expect(http.StatusOK, intern.do("GET", "/v1/notifications", nil)).json(t, &inbox)
	if len(inbox.Items) == 0 {
		t.Fatal("empty inbox")
	}
	o.Mentor.expect(http.StatusNotFound, o.Mentor.do("POST", "/v1/notifications/"+inbox.Items[0].ID+"/read", nil))
	intern.expect(http.StatusNoContent, intern.do("POST", "/v1/notifications/"+inbox.Items[0].ID+"/read", nil))

	// Closing the program freezes its tasks.
	var cur program
	o.Admin.expect(http.StatusOK, o.Admin.do("GET", "/v1/orgs/"+o.ID+"/programs", nil))
	cur = p
	o.Admin.expect(http.StatusOK, o.Admin.do("POST", "/v1/programs/"+p.ID+"/transitions", map[string]string{"to": "closed"}, ifMatch(currentVersion(t, o, p.ID))...)).json(t, &cur)
	o.Admin.expect(http.StatusConflict, o.Admin.do("POST", "/v1/programs/"+p.ID+"/tasks", map[string]any{
		"title": "Late task", "instructions": "Too late.", "dueOffsetDays": 1, "required": false, "maxScore": 10, "passMark": 5,
	}))
}

// currentVersion reads a program's version from its org listing.
func currentVersion(t *testing.T, o *org, programID string) int {
	t.Helper()
	var list struct {
		Items []program `json:"items"`
	}
	r := o.Admin.expect(http.StatusOK, o.Admin.do("GET", "/v1/orgs/"+o.ID+"/programs?limit=50", nil))
	r.json(t, &list)
	for _, p := range list.Items {
		if p.ID == programID {
			return p.Version
		}
	}
	t.Fatalf("program %s not in its org's listing", programID)
	return 0
}

// TestCapacityUnderConcurrentAccepts: concurrent accepts never exceed the
// program's capacity.
func TestCapacityUnderConcurrentAccepts(t *testing.T) {
	o := newOrg(t, "Capacity Inc")
	p, _ := o.openProgram(t, "Tiny program", 2, 1, 0)
	const applicants = 6
	apps := make([]application, applicants)
	for i := range applicants {
		in := registerAs(t, "applicant", "")
		in.expect(http.StatusCreated, in.do("POST", "/v1/programs/"+p.ID+"/applications", map[string]string{"motivation": motivation})).json(t, &apps[i])
	}
	var wg sync.WaitGroup
	statuses := make([]int, applicants)
	for i := range applicants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = o.Admin.do("POST", "/v1/applications/"+apps[i].ID+"/decision",
				map[string]string{"decision": "accepted", "mentorId": o.Mentor.ID}, ifMatch(apps[i].Version)...).status
		}()
	}
	wg.Wait()
	accepted := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			accepted++
		case http.StatusConflict:
		default:
			t.Fatalf("concurrent accept answered %d", st)
		}
	}
	if accepted != 2 {
		t.Fatalf("%d accepted for capacity 2", accepted)
	}
	// Reconcile from the API: exactly two accepted applications.
	var list struct{ Items []application }
	o.Admin.expect(http.StatusOK, o.Admin.do("GET", "/v1/programs/"+p.ID+"/applications?status=accepted&limit=50", nil)).json(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("API shows %d accepted applications, want 2", len(list.Items))
	}
}

// TestPaginationIsStableAndSealed pages through an org's programs.
func TestPaginationIsStableAndSealed(t *testing.T) {
	o := newOrg(t, "Pager Ltd")
	for range 5 {
		o.Admin.expect(http.StatusCreated, o.Admin.do("POST", "/v1/orgs/"+o.ID+"/programs", programBody("Paged", 3)))
	}
	seen := map[string]bool{}
	path := "/v1/orgs/" + o.ID + "/programs?limit=2"
	pages := 0
	for {
		var page struct {
			Items      []program `json:"items"`
			NextCursor string    `json:"nextCursor"`
		}
		o.Admin.expect(http.StatusOK, o.Admin.do("GET", path, nil)).json(t, &page)
		pages++
		for _, p := range page.Items {
			if seen[p.ID] {
				t.Fatalf("program %s seen twice", p.ID)
			}
			seen[p.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		// A cursor is bound to its caller and listing: another org admin
		// cannot reuse it, and a flipped character is refused.
		rival := newOrgOnce(t)
		rival.Admin.expect(http.StatusBadRequest, rival.Admin.do("GET", "/v1/orgs/"+rival.ID+"/programs?cursor="+url.QueryEscape(page.NextCursor), nil))
		tampered := []byte(page.NextCursor)
		tampered[len(tampered)/2] ^= 1
		o.Admin.expect(http.StatusBadRequest, o.Admin.do("GET", "/v1/orgs/"+o.ID+"/programs?limit=2&cursor="+url.QueryEscape(string(tampered)), nil))
		path = "/v1/orgs/" + o.ID + "/programs?limit=2&cursor=" + url.QueryEscape(page.NextCursor)
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("paged %d programs over %d pages, want 5 over 3", len(seen), pages)
	}
}

var rivalOrg = struct {
	once sync.Once
	org  *org
}{}

func newOrgOnce(t *testing.T) *org {
	rivalOrg.once.Do(func() { rivalOrg.org = newOrg(t, "Shared Rival") })
	if rivalOrg.org == nil {
		t.Fatal("rival org setup failed")
	}
	return rivalOrg.org
}
