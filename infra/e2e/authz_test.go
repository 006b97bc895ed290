package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vip-platform/backend/infra/templatecheck"
)

// principal is one caller of the matrix, with spare sessions for the routes
// that end a session.
type principal struct {
	name    string
	acct    *account // nil for anonymous
	spare   []tokens // extra sessions: [0] revoked by DELETE, [1] by logout, [2] by logout-all
	spareID string   // session ID of spare[0]
}

func (p *principal) role() string {
	if p.acct == nil {
		return ""
	}
	return p.acct.Role
}

// matrixWorld holds the resources every route is called against.
type matrixWorld struct {
	orgA, orgB       *org
	internA, internB *account
	programA         program
	taskA            task
	appA             application
	enrA             string
	subA             submission
	notifA           string
}

func buildMatrixWorld(t *testing.T) *matrixWorld {
	t.Helper()
	w := &matrixWorld{orgA: newOrg(t, "Matrix A"), orgB: newOrg(t, "Matrix B")}
	var tasks []task
	w.programA, tasks = w.orgA.openProgram(t, "Matrix program", 5, 2, 0)
	w.taskA = tasks[0]
	w.internA = registerAs(t, "matrix-intern-a", "")
	w.internB = registerAs(t, "matrix-intern-b", "")
	w.internA.expect(http.StatusCreated, w.internA.do("POST", "/v1/programs/"+w.programA.ID+"/applications", map[string]string{"motivation": motivation})).json(t, &w.appA)
	w.orgA.Admin.expect(http.StatusOK, w.orgA.Admin.do("POST", "/v1/applications/"+w.appA.ID+"/decision",
		map[string]string{"decision": "accepted", "mentorId": w.orgA.Mentor.ID}, ifMatch(w.appA.Version)...)).json(t, &w.appA)
	w.enrA = w.appA.EnrollmentID
	w.internA.expect(http.StatusCreated, w.internA.do("POST", "/v1/enrollments/"+w.enrA+"/tasks/"+tasks[1].ID+"/submissions",
		map[string]any{"text": "Matrix work."})).json(t, &w.subA)
	var inbox notificationList
	w.internA.expect(http.StatusOK, w.internA.do("GET", "/v1/notifications", nil)).json(t, &inbox)
	if len(inbox.Items) == 0 {
		t.Fatal("intern A has no notification")
	}
	w.notifA = inbox.Items[0].ID
	return w
}

// spareSessions logs a principal in three more times.
func spareSessions(t *testing.T, p *principal) {
	t.Helper()
	if p.acct == nil {
		return
	}
	for range 3 {
		p.spare = append(p.spare, login(t, p.acct.client, p.acct.Email, worldPassword))
	}
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	spare := withToken(p.acct.client, p.spare[0])
	spare.expect(http.StatusOK, spare.do("GET", "/v1/me/sessions", nil)).json(t, &list)
	for _, s := range list.Sessions {
		if s.Current {
			p.spareID = s.ID
		}
	}
}

type matrixCall struct {
	method, path string
	body         any
	headers      []string
	// session picks which of the principal's tokens to use: -1 main,
	// otherwise an index into spare.
	session int
}

// calls builds the request for each route of the matrix. Mutating calls
// that an allowed caller would complete harmlessly carry a stale If-Match,
// so they prove the authorization decision without changing the world.
func (w *matrixWorld) call(route string, p *principal) (matrixCall, bool) {
	stale := ifMatch(987654)
	sessionID := p.spareID
	if sessionID == "" {
		sessionID = "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	}
	fresh := email("matrix-invitee")
	task := map[string]any{"title": "Matrix task", "instructions": "Do it.", "dueOffsetDays": 3, "required": false, "maxScore": 10, "passMark": 5}
	c := map[string]matrixCall{
		"GET /v1/health":                                                 {method: "GET", path: "/v1/health"},
		"POST /v1/auth/register":                                         {method: "POST", path: "/v1/auth/register", body: map[string]string{}},
		"POST /v1/auth/login":                                            {method: "POST", path: "/v1/auth/login", body: map[string]string{}},
		"POST /v1/auth/login/mfa":                                        {method: "POST", path: "/v1/auth/login/mfa", body: map[string]string{}},
		"POST /v1/auth/refresh":                                          {method: "POST", path: "/v1/auth/refresh", body: map[string]string{}},
		"POST /v1/auth/password":                                         {method: "POST", path: "/v1/auth/password", body: map[string]string{}},
		"POST /v1/auth/mfa/totp":                                         {method: "POST", path: "/v1/auth/mfa/totp", body: map[string]string{}},
		"POST /v1/auth/mfa/totp/confirm":                                 {method: "POST", path: "/v1/auth/mfa/totp/confirm", body: map[string]string{}},
		"GET /v1/me":                                                     {method: "GET", path: "/v1/me"},
		"PATCH /v1/me":                                                   {method: "PATCH", path: "/v1/me", body: map[string]string{"displayName": "Matrix"}},
		"GET /v1/me/sessions":                                            {method: "GET", path: "/v1/me/sessions"},
		"DELETE /v1/me/sessions/{sessionId}":                             {method: "DELETE", path: "/v1/me/sessions/" + sessionID},
		"POST /v1/auth/logout":                                           {method: "POST", path: "/v1/auth/logout", session: 1},
		"POST /v1/auth/logout-all":                                       {method: "POST", path: "/v1/auth/logout-all", session: 2},
		"POST /v1/orgs/{orgId}/invites":                                  {method: "POST", path: "/v1/orgs/" + w.orgA.ID + "/invites", body: map[string]string{"email": fresh, "role": "mentor"}},
		"GET /v1/orgs/{orgId}/members":                                   {method: "GET", path: "/v1/orgs/" + w.orgA.ID + "/members"},
		"POST /v1/orgs/{orgId}/programs":                                 {method: "POST", path: "/v1/orgs/" + w.orgA.ID + "/programs", body: programBody("Matrix extra", 1)},
		"GET /v1/orgs/{orgId}/programs":                                  {method: "GET", path: "/v1/orgs/" + w.orgA.ID + "/programs"},
		"GET /v1/programs":                                               {method: "GET", path: "/v1/programs"},
		"GET /v1/programs/{programId}":                                   {method: "GET", path: "/v1/programs/" + w.programA.ID},
		"PATCH /v1/programs/{programId}":                                 {method: "PATCH", path: "/v1/programs/" + w.programA.ID, body: map[string]string{"description": "Changed."}, headers: stale},
		"POST /v1/programs/{programId}/transitions":                      {method: "POST", path: "/v1/programs/" + w.programA.ID + "/transitions", body: map[string]string{"to": "closed"}, headers: stale},
		"POST /v1/programs/{programId}/tasks":                            {method: "POST", path: "/v1/programs/" + w.programA.ID + "/tasks", body: task},
		"GET /v1/programs/{programId}/tasks":                             {method: "GET", path: "/v1/programs/" + w.programA.ID + "/tasks"},
		"PATCH /v1/programs/{programId}/tasks/{taskId}":                  {method: "PATCH", path: "/v1/programs/" + w.programA.ID + "/tasks/" + w.taskA.ID, body: map[string]string{"title": "Renamed"}, headers: stale},
		"POST /v1/programs/{programId}/applications":                     {method: "POST", path: "/v1/programs/" + w.programA.ID + "/applications", body: map[string]string{"motivation": motivation}},
		"GET /v1/programs/{programId}/applications":                      {method: "GET", path: "/v1/programs/" + w.programA.ID + "/applications"},
		"GET /v1/me/applications":                                        {method: "GET", path: "/v1/me/applications"},
		"POST /v1/applications/{applicationId}/withdraw":                 {method: "POST", path: "/v1/applications/" + w.appA.ID + "/withdraw", headers: stale},
		"POST /v1/applications/{applicationId}/decision":                 {method: "POST", path: "/v1/applications/" + w.appA.ID + "/decision", body: map[string]string{"decision": "rejected", "reason": "matrix"}, headers: stale},
		"GET /v1/me/enrollments":                                         {method: "GET", path: "/v1/me/enrollments"},
		"GET /v1/enrollments/{enrollmentId}":                             {method: "GET", path: "/v1/enrollments/" + w.enrA},
		"POST /v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions": {method: "POST", path: "/v1/enrollments/" + w.enrA + "/tasks/" + w.taskA.ID + "/submissions", body: map[string]any{"text": "Matrix submission."}},
		"GET /v1/enrollments/{enrollmentId}/submissions":                 {method: "GET", path: "/v1/enrollments/" + w.enrA + "/submissions"},
		"POST /v1/submissions/{submissionId}/reviews":                    {method: "POST", path: "/v1/submissions/" + w.subA.ID + "/reviews", body: map[string]any{"score": 7, "feedback": "Matrix.", "decision": "accepted"}},
		"GET /v1/notifications":                                          {method: "GET", path: "/v1/notifications"},
		"POST /v1/notifications/{notificationId}/read":                   {method: "POST", path: "/v1/notifications/" + w.notifA + "/read"},
	}
	mc, ok := c[route]
	if ok && mc.session == 0 && !strings.Contains(route, "sessionId") {
		mc.session = -1
	}
	if route == "DELETE /v1/me/sessions/{sessionId}" {
		mc.session = -1
	}
	return mc, ok
}

// allowed says what api-docs/authorization.yaml promises for p on a route of
// the matrix world.
func (w *matrixWorld) allowed(t *testing.T, rule templatecheck.Rule, p *principal) bool {
	if rule.Ownership == "public" {
		return true
	}
	if p.acct == nil || !slices.Contains(rule.Roles, p.role()) {
		return false
	}
	is := func(accts ...*account) bool { return slices.Contains(accts, p.acct) }
	switch rule.Ownership {
	case "self", "any":
		// A "self" route naming a resource by ID is the owner's only: the
		// matrix's notification belongs to intern A.
		if strings.Contains(rule.Path, "{notificationId}") {
			return is(w.internA)
		}
		return true
	case "org_admin_of_org", "program_org_admin":
		return is(w.orgA.Admin)
	case "org_member":
		return is(w.orgA.Admin, w.orgA.Mentor, w.orgA.Mentor2)
	case "program_member":
		return is(w.orgA.Admin, w.orgA.Mentor, w.orgA.Mentor2, w.internA)
	case "application_owner", "enrolled_intern":
		return is(w.internA)
	case "enrollment_party":
		return is(w.internA, w.orgA.Mentor, w.orgA.Admin)
	case "assigned_mentor":
		return is(w.orgA.Mentor)
	}
	t.Fatalf("authorization.yaml uses ownership rule %q the matrix does not know", rule.Ownership)
	return false
}

// sessionEnders run last, in this order, so a principal's other calls keep
// a live session.
var sessionEnders = []string{"DELETE /v1/me/sessions/{sessionId}", "POST /v1/auth/logout", "POST /v1/auth/logout-all"}

// TestAuthorizationMatrix runs every route of template.yaml as each kind of
// caller — anonymous, every role, owner and non-owner, inside and outside
// the organization — and checks the answer against api-docs/authorization.yaml.
// A route without a rule, or without a matrix case, fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	m, err := templatecheck.LoadAuthorization("../..")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]templatecheck.Rule{}
	for _, r := range m.Routes {
		rules[r.Method+" "+r.Path] = r
	}
	routes, err := devstack.Template.Routes()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range routes {
		keys = append(keys, r.Method+" "+r.Path)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ai, bi := slices.Index(sessionEnders, a), slices.Index(sessionEnders, b)
		if ai != bi {
			return ai - bi
		}
		return strings.Compare(a, b)
	})

	w := buildMatrixWorld(t)
	anon := &principal{name: "anonymous"}
	anonClient := newClient(t, "127.0.0.1")
	principals := []*principal{
		anon,
		{name: "intern A (enrolled, applicant)", acct: w.internA},
		{name: "intern B (not enrolled)", acct: w.internB},
		{name: "mentor A (assigned)", acct: w.orgA.Mentor},
		{name: "mentor A2 (same org, not assigned)", acct: w.orgA.Mentor2},
		{name: "org admin A", acct: w.orgA.Admin},
		{name: "org admin B (other org)", acct: w.orgB.Admin},
		{name: "mentor B (other org)", acct: w.orgB.Mentor},
	}
	if admin, err := platformAdmin(); err == nil {
		c := newClient(t, "127.0.0.1")
		principals = append(principals, &principal{name: "platform admin", acct: &account{
			client: withToken(c, adminTokens(t, c, admin)), ID: admin.ID, Email: admin.Email, Role: "admin",
		}})
	}
	for _, p := range principals {
		if p.acct != nil && p.role() != "admin" {
			spareSessions(t, p)
		}
	}

	deniedBefore := countAudit(t, "authz.denied")
	handlerDenials := 0
	for _, p := range principals {
		for _, route := range keys {
			rule, ok := rules[route]
			if !ok {
				t.Errorf("%s: no rule in api-docs/authorization.yaml", route)
				continue
			}
			mc, ok := w.call(route, p)
			if !ok {
				t.Errorf("%s: no matrix case — add one to authz_test.go", route)
				continue
			}
			if p.role() == "admin" && slices.Contains(sessionEnders, route) {
				continue // the admin has no spare sessions (MFA logins)
			}
			c := anonClient
			if p.acct != nil {
				c = p.acct.client
				if mc.session >= 0 {
					c = withToken(p.acct.client, p.spare[mc.session])
				}
			}
			r := c.do(mc.method, mc.path, mc.body, mc.headers...)
			want := w.allowed(t, rule, p)
			denied := r.status == http.StatusUnauthorized || r.status == http.StatusForbidden || r.status == http.StatusNotFound
			switch {
			case want && denied:
				t.Errorf("%s as %s: allowed by the matrix but answered %d %s", route, p.name, r.status, r.body)
			case !want && p.acct == nil && r.status != http.StatusUnauthorized:
				t.Errorf("%s as %s: want 401, got %d", route, p.name, r.status)
			case !want && p.acct != nil && !denied:
				t.Errorf("%s as %s: denied by the matrix but answered %d %s", route, p.name, r.status, r.body)
			case !want && p.acct != nil && slices.Contains(rule.Roles, p.role()) && rule.NotVisible != 0 && r.status != rule.NotVisible:
				t.Errorf("%s as %s: a caller with the role but not the ownership must get %d (authorization.yaml notVisible), got %d", route, p.name, rule.NotVisible, r.status)
			}
			if !want && p.acct != nil && denied {
				handlerDenials++
			}
		}
	}
	if got := countAudit(t, "authz.denied") - deniedBefore; got < handlerDenials {
		t.Errorf("%d denials answered by handlers, only %d audited as authz.denied", handlerDenials, got)
	}
	t.Logf("matrix: %d routes × %d principals, %d handler denials", len(keys), len(principals), handlerDenials)
}
