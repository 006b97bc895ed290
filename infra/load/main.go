// Command load drives the devstack with the internship flow at once: 50
// interns apply, are accepted, submit work and are reviewed by 5 mentors,
// all concurrently. It reports requests/s, p50/p99 per route, the error
// count (any 5xx or transport error is a failure), a reconciliation of what
// the API reports against what was sent, and DynamoDB calls per request for
// the five busiest routes, counted by the devstack's DynamoDB.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/vip-platform/backend/infra/devstack/stack"
)

func main() {
	if err := realMain(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type config struct {
	interns, mentors int
	template         string
}

func realMain() error {
	var cfg config
	flag.IntVar(&cfg.interns, "interns", 50, "concurrent interns")
	flag.IntVar(&cfg.mentors, "mentors", 5, "mentors reviewing")
	flag.StringVar(&cfg.template, "template", "template.yaml", "SAM template")
	flag.Parse()

	ctx := context.Background()
	work, err := os.MkdirTemp("", "vip-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Println("starting the devstack ...")
	s, err := stack.Start(ctx, stack.Options{
		TemplatePath: cfg.template, WorkDir: work,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		DisableThrottling: true,
	})
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	r := &runner{base: s.APIURL, lambda: s.LambdaURL, stats: map[string]*routeStats{}}
	r.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}

	fmt.Println("setting up: admin, organization, mentors, program ...")
	w, err := r.setup(cfg)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.reset()
	start := time.Now()
	sent, err := r.run(w, cfg)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	elapsed := time.Since(start)
	r.report(os.Stdout, elapsed)
	if err := r.reconcile(w, sent); err != nil {
		return err
	}
	if err := r.dynamoCalls(s, w); err != nil {
		return err
	}
	if n := r.faults.Load(); n > 0 {
		return fmt.Errorf("%d non-4xx errors", n)
	}
	return nil
}

type routeStats struct {
	mu        sync.Mutex
	latencies []time.Duration
	statuses  map[int]int
}

type runner struct {
	base, lambda string
	http         *http.Client
	mu           sync.Mutex
	stats        map[string]*routeStats
	faults       atomic.Int64
	requests     atomic.Int64
}

func (r *runner) reset() {
	r.mu.Lock()
	r.stats = map[string]*routeStats{}
	r.mu.Unlock()
	r.faults.Store(0)
	r.requests.Store(0)
}

// call sends one request and records it under its route template.
func (r *runner) call(route, method, path, token string, body any, headers ...string) (int, []byte, error) {
	return r.callWith(r.http, route, method, path, token, body, headers...)
}

var sourceIPs atomic.Int64

// fromNewAddress returns a client whose connections come from a fresh
// loopback address: the platform limits registrations per source IP (as it
// should), so the load's users register from distinct clients, as real ones do.
func fromNewAddress() *http.Client {
	n := sourceIPs.Add(1)
	ip := net.ParseIP(fmt.Sprintf("127.2.%d.%d", n/250, n%250+1))
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}, Timeout: 60 * time.Second}
}

// register registers one user from a fresh source address.
func (r *runner) register(body map[string]string) error {
	status, out, err := r.callWith(fromNewAddress(), "POST /v1/auth/register", "POST", "/v1/auth/register", "", body)
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("register: %d %s", status, out)
	}
	return nil
}

func (r *runner) callWith(client *http.Client, route, method, path, token string, body any, headers ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := client.Do(req)
	d := time.Since(start)
	r.requests.Add(1)
	status := 0
	var out []byte
	if err == nil {
		out, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	r.mu.Lock()
	st, ok := r.stats[route]
	if !ok {
		st = &routeStats{statuses: map[int]int{}}
		r.stats[route] = st
	}
	r.mu.Unlock()
	st.mu.Lock()
	st.latencies = append(st.latencies, d)
	st.statuses[status]++
	st.mu.Unlock()
	if err != nil || status >= 500 {
		r.faults.Add(1)
		if err == nil {
			err = fmt.Errorf("%s %s: %d %s", method, path, status, out)
		}
		return status, out, err
	}
	return status, out, nil
}

func (r *runner) must(want int, route, method, path, token string, body any, v any, headers ...string) error {
	status, out, err := r.call(route, method, path, token, body, headers...)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: %d, want %d: %s", method, path, status, want, out)
	}
	if v != nil {
		return json.Unmarshal(out, v)
	}
	return nil
}

func (r *runner) invoke(function string, payload any, v any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	resp, err := r.http.Post(r.lambda+"/2015-03-31/functions/"+function+"/invocations", "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" || resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", function, out)
	}
	return json.Unmarshal(out, v)
}

type user struct {
	ID, Email, Token string
}

type world struct {
	orgID, programID string
	orgAdmin         user
	mentors          []user
	tasks            []string // required first
	interns          []user
	enrollmentIDs    []string
}

const password = "violet harbor engine 9731 drift"

func (r *runner) registerLogin(prefix, invite string) (user, error) {
	u := user{Email: fmt.Sprintf("%s.%d@load.example.org", prefix, time.Now().UnixNano())}
	body := map[string]string{"email": u.Email, "password": password, "displayName": "Load " + prefix}
	if invite != "" {
		body["inviteCode"] = invite
	}
	if err := r.register(body); err != nil {
		return u, err
	}
	var tk struct{ AccessToken string }
	if err := r.must(200, "POST /v1/auth/login", "POST", "/v1/auth/login", "", map[string]string{"email": u.Email, "password": password}, &tk); err != nil {
		return u, err
	}
	u.Token = tk.AccessToken
	var me struct{ ID string }
	if err := r.must(200, "GET /v1/me", "GET", "/v1/me", u.Token, nil, &me); err != nil {
		return u, err
	}
	u.ID = me.ID
	return u, nil
}

func (r *runner) setup(cfg config) (*world, error) {
	w := &world{}
	var boot struct{ UserID string }
	if err := r.invoke("AdminBootstrapFunction", map[string]string{
		"email": "load-admin@load.example.org", "password": "quiet lantern orbit 58 meadow", "displayName": "Load Admin",
	}, &boot); err != nil {
		return nil, err
	}
	adminEmail := fmt.Sprintf("orgadmin.%d@load.example.org", time.Now().UnixNano())
	var org struct {
		OrgID  string
		Invite struct{ Code string }
	}
	if err := r.invoke("AdminCreateOrgFunction", map[string]string{
		"actorId": boot.UserID, "reason": "load test", "name": "Load Org", "adminEmail": adminEmail,
	}, &org); err != nil {
		return nil, err
	}
	w.orgID = org.OrgID
	w.orgAdmin = user{Email: adminEmail}
	if err := r.register(map[string]string{
		"email": adminEmail, "password": password, "displayName": "Load Org Admin", "inviteCode": org.Invite.Code,
	}); err != nil {
		return nil, err
	}
	var tk struct{ AccessToken string }
	if err := r.must(200, "POST /v1/auth/login", "POST", "/v1/auth/login", "", map[string]string{"email": adminEmail, "password": password}, &tk); err != nil {
		return nil, err
	}
	w.orgAdmin.Token = tk.AccessToken
	for i := range cfg.mentors {
		email := fmt.Sprintf("mentor%d.%d@load.example.org", i, time.Now().UnixNano())
		var inv struct{ Code string }
		if err := r.must(201, "POST /v1/orgs/{orgId}/invites", "POST", "/v1/orgs/"+w.orgID+"/invites", w.orgAdmin.Token, map[string]string{"email": email, "role": "mentor"}, &inv); err != nil {
			return nil, err
		}
		if err := r.register(map[string]string{
			"email": email, "password": password, "displayName": fmt.Sprintf("Load Mentor %d", i), "inviteCode": inv.Code,
		}); err != nil {
			return nil, err
		}
		var mt struct{ AccessToken string }
		if err := r.must(200, "POST /v1/auth/login", "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password}, &mt); err != nil {
			return nil, err
		}
		var me struct{ ID string }
		if err := r.must(200, "GET /v1/me", "GET", "/v1/me", mt.AccessToken, nil, &me); err != nil {
			return nil, err
		}
		w.mentors = append(w.mentors, user{ID: me.ID, Email: email, Token: mt.AccessToken})
	}
	now := time.Now().UTC()
	var p struct {
		ID      string
		Version int
	}
	if err := r.must(201, "POST /v1/orgs/{orgId}/programs", "POST", "/v1/orgs/"+w.orgID+"/programs", w.orgAdmin.Token, map[string]any{
		"title": "Load program", "description": "Load.", "skills": []string{"go"}, "capacity": cfg.interns + 10,
		"applicationOpensAt":  now.Add(-time.Hour).Format(time.RFC3339),
		"applicationClosesAt": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"startsAt":            now.Add(31 * 24 * time.Hour).Format(time.RFC3339),
		"endsAt":              now.Add(90 * 24 * time.Hour).Format(time.RFC3339),
	}, &p); err != nil {
		return nil, err
	}
	w.programID = p.ID
	for i := range 3 {
		var t struct{ ID string }
		if err := r.must(201, "POST /v1/programs/{programId}/tasks", "POST", "/v1/programs/"+p.ID+"/tasks", w.orgAdmin.Token, map[string]any{
			"title": fmt.Sprintf("Task %d", i+1), "instructions": "Work.", "dueOffsetDays": 7, "required": i < 2, "maxScore": 100, "passMark": 50,
		}, &t); err != nil {
			return nil, err
		}
		w.tasks = append(w.tasks, t.ID)
	}
	if err := r.must(200, "POST /v1/programs/{programId}/transitions", "POST", "/v1/programs/"+p.ID+"/transitions", w.orgAdmin.Token,
		map[string]string{"to": "open"}, nil, "If-Match", fmt.Sprintf("%q", fmt.Sprint(p.Version))); err != nil {
		return nil, err
	}
	// Interns register in parallel (8 at a time).
	w.interns = make([]user, cfg.interns)
	errs := make([]error, cfg.interns)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range cfg.interns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			w.interns[i], errs[i] = r.registerLogin(fmt.Sprintf("intern%d", i), "")
		}()
	}
	wg.Wait()
	return w, errors.Join(errs...)
}

// sent counts what the run asked for, to reconcile against the API.
type sent struct {
	applications, enrollments, submissions, reviews atomic.Int64
}

type reviewJob struct {
	submissionID string
	intern       int
	task         int
	version      int
}

// run: every intern applies; the org admin accepts each with a mentor
// round-robin; every intern then submits each required task; the mentors
// review from a queue, asking for changes on every task's first version of
// every third intern, who then resubmits.
func (r *runner) run(w *world, cfg config) (*sent, error) {
	var out sent
	queue := make(chan reviewJob, 4*cfg.interns)
	resubmit := make(chan reviewJob, 4*cfg.interns)
	enrollments := make([]string, len(w.interns))
	var pending sync.WaitGroup // reviews outstanding

	var mentorsWG sync.WaitGroup
	errCh := make(chan error, 1024)
	report := func(err error) {
		select {
		case errCh <- err:
		default:
		}
	}
	for range cfg.mentors {
		mentorsWG.Add(1)
		go func() {
			defer mentorsWG.Done()
			for job := range queue {
				decision, score := "accepted", 80
				if job.intern%3 == 0 && job.version == 1 {
					decision, score = "changes_requested", 30
				}
				mentor := w.mentors[job.intern%cfg.mentors]
				if err := r.must(201, "POST /v1/submissions/{submissionId}/reviews", "POST", "/v1/submissions/"+job.submissionID+"/reviews", mentor.Token,
					map[string]any{"score": score, "feedback": "Load review.", "decision": decision}, nil); err != nil {
					report(err)
					pending.Done()
					continue
				}
				out.reviews.Add(1)
				if decision == "changes_requested" {
					// The resubmission's review takes over this job's place in
					// pending, so pending cannot reach zero in between.
					pending.Add(1)
					resubmit <- job
				}
				pending.Done()
			}
		}()
	}

	// submit sends one version; counted says pending already holds a place
	// for its review (a resubmission).
	submit := func(i, task, version int, counted bool) error {
		var s struct{ ID string }
		if err := r.must(201, "POST /v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions", "POST",
			"/v1/enrollments/"+enrollments[i]+"/tasks/"+w.tasks[task]+"/submissions", w.interns[i].Token,
			map[string]any{"text": fmt.Sprintf("Work v%d", version), "links": []string{"https://example.org/w"}}, &s); err != nil {
			return err
		}
		out.submissions.Add(1)
		if !counted {
			pending.Add(1)
		}
		queue <- reviewJob{submissionID: s.ID, intern: i, task: task, version: version}
		return nil
	}

	var internsWG sync.WaitGroup
	for i := range w.interns {
		internsWG.Add(1)
		go func() {
			defer internsWG.Done()
			in := w.interns[i]
			var app struct {
				ID      string
				Version int
			}
			if err := r.must(201, "POST /v1/programs/{programId}/applications", "POST", "/v1/programs/"+w.programID+"/applications", in.Token,
				map[string]string{"motivation": "I would like to learn how serverless systems are built and operated."}, &app,
				"Idempotency-Key", "apply-"+in.ID); err != nil {
				report(err)
				return
			}
			out.applications.Add(1)
			mentor := w.mentors[i%cfg.mentors]
			var decided struct{ EnrollmentID string }
			if err := r.must(200, "POST /v1/applications/{applicationId}/decision", "POST", "/v1/applications/"+app.ID+"/decision", w.orgAdmin.Token,
				map[string]string{"decision": "accepted", "mentorId": mentor.ID}, &decided, "If-Match", fmt.Sprintf("%q", fmt.Sprint(app.Version))); err != nil {
				report(err)
				return
			}
			out.enrollments.Add(1)
			enrollments[i] = decided.EnrollmentID
			if err := r.must(200, "GET /v1/enrollments/{enrollmentId}", "GET", "/v1/enrollments/"+decided.EnrollmentID, in.Token, nil, nil); err != nil {
				report(err)
				return
			}
			// Required tasks one after the other: a task's next version waits
			// for its review, the other task proceeds meanwhile.
			for task := range 2 {
				if err := submit(i, task, 1, false); err != nil {
					report(err)
					return
				}
			}
			_ = r.must(200, "GET /v1/notifications", "GET", "/v1/notifications", in.Token, nil, nil)
		}()
	}
	done := make(chan struct{})
	go func() {
		for job := range resubmit {
			if err := submit(job.intern, job.task, job.version+1, true); err != nil {
				report(err)
				pending.Done()
			}
		}
		close(done)
	}()
	internsWG.Wait()
	// Every review, and every resubmission a review asked for, is done.
	pending.Wait()
	close(resubmit)
	<-done
	close(queue)
	mentorsWG.Wait()
	close(errCh)
	var errs []error
	for err := range errCh {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return &out, fmt.Errorf("%d failed steps, first: %w", len(errs), errs[0])
	}
	w.enrollmentIDs = enrollments
	return &out, nil
}

func (r *runner) report(out io.Writer, elapsed time.Duration) {
	n := r.requests.Load()
	fmt.Fprintf(out, "\n%d requests in %.2f s: %.0f requests/s; non-4xx errors: %d\n\n", n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), r.faults.Load())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "route\trequests\tp50 ms\tp99 ms\tstatuses")
	r.mu.Lock()
	routes := make([]string, 0, len(r.stats))
	for k := range r.stats {
		routes = append(routes, k)
	}
	r.mu.Unlock()
	sort.Strings(routes)
	for _, route := range routes {
		st := r.stats[route]
		st.mu.Lock()
		l := slices.Clone(st.latencies)
		codes := make([]string, 0, len(st.statuses))
		for c, k := range st.statuses {
			codes = append(codes, fmt.Sprintf("%d×%d", k, c))
		}
		st.mu.Unlock()
		slices.Sort(l)
		sort.Strings(codes)
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%s\n", route, len(l), ms(pct(l, 50)), ms(pct(l, 99)), strings.Join(codes, " "))
	}
	tw.Flush()
}

func (r *runner) reconcile(w *world, s *sent) error {
	apps, accepted := 0, 0
	cursor := ""
	for {
		path := "/v1/programs/" + w.programID + "/applications?limit=50"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var page struct {
			Items      []struct{ Status string }
			NextCursor string
		}
		if err := r.must(200, "reconcile", "GET", path, w.orgAdmin.Token, nil, &page); err != nil {
			return err
		}
		for _, a := range page.Items {
			apps++
			if a.Status == "accepted" {
				accepted++
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	subs, reviews := 0, 0
	for _, id := range w.enrollmentIDs {
		var page struct {
			Items []struct {
				Review *struct{ Decision string }
			}
		}
		if err := r.must(200, "reconcile", "GET", "/v1/enrollments/"+id+"/submissions", w.orgAdmin.Token, nil, &page); err != nil {
			return err
		}
		for _, sub := range page.Items {
			subs++
			if sub.Review != nil {
				reviews++
			}
		}
	}
	fmt.Printf("\nreconciliation (sent → counted back from the API): applications %d → %d, enrollments %d → %d, submissions %d → %d, reviews %d → %d\n",
		s.applications.Load(), apps, s.enrollments.Load(), accepted, s.submissions.Load(), subs, s.reviews.Load(), reviews)
	if int64(apps) != s.applications.Load() || int64(accepted) != s.enrollments.Load() || int64(subs) != s.submissions.Load() || int64(reviews) != s.reviews.Load() {
		return errors.New("reconciliation failed")
	}
	return nil
}

// dynamoCalls replays one request of each of the five busiest routes,
// sequentially, and diffs the devstack's DynamoDB operation counters.
func (r *runner) dynamoCalls(s *stack.Stack, w *world) error {
	type probe struct {
		route string
		do    func() error
	}
	intern := w.interns[0]
	fresh, err := r.registerLogin("probe", "")
	if err != nil {
		return err
	}
	var app struct {
		ID      string
		Version int
	}
	var enr struct{ EnrollmentID string }
	var sub struct{ ID string }
	probes := []probe{
		{"POST /v1/programs/{programId}/applications", func() error {
			return r.must(201, "probe", "POST", "/v1/programs/"+w.programID+"/applications", fresh.Token,
				map[string]string{"motivation": "I would like to learn how serverless systems are built and operated."}, &app, "Idempotency-Key", "probe-apply")
		}},
		{"POST /v1/applications/{applicationId}/decision", func() error {
			return r.must(200, "probe", "POST", "/v1/applications/"+app.ID+"/decision", w.orgAdmin.Token,
				map[string]string{"decision": "accepted", "mentorId": w.mentors[0].ID}, &enr, "If-Match", fmt.Sprintf("%q", fmt.Sprint(app.Version)))
		}},
		{"POST /v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions", func() error {
			return r.must(201, "probe", "POST", "/v1/enrollments/"+enr.EnrollmentID+"/tasks/"+w.tasks[0]+"/submissions", fresh.Token,
				map[string]any{"text": "Probe work."}, &sub)
		}},
		{"POST /v1/submissions/{submissionId}/reviews", func() error {
			return r.must(201, "probe", "POST", "/v1/submissions/"+sub.ID+"/reviews", w.mentors[0].Token,
				map[string]any{"score": 70, "feedback": "Probe.", "decision": "accepted"}, nil)
		}},
		{"GET /v1/enrollments/{enrollmentId}", func() error {
			return r.must(200, "probe", "GET", "/v1/enrollments/"+w.enrollmentIDs[0], intern.Token, nil, nil)
		}},
	}
	fmt.Println("\nDynamoDB calls per request (one request each, authorizer included):")
	for _, p := range probes {
		before := s.Emulators.DynamoDBCalls()
		if err := p.do(); err != nil {
			return fmt.Errorf("%s: %w", p.route, err)
		}
		after := s.Emulators.DynamoDBCalls()
		var parts []string
		total := int64(0)
		for op, n := range after {
			if d := n - before[op]; d > 0 {
				parts = append(parts, fmt.Sprintf("%s×%d", op, d))
				total += d
			}
		}
		sort.Strings(parts)
		fmt.Printf("  %-66s %2d  (%s)\n", p.route, total, strings.Join(parts, ", "))
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
