package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// platformAdmin bootstraps the one platform admin of the test stack (the
// bootstrap function refuses a second time) and logs it in with MFA.
var platformAdmin = sync.OnceValues(func() (adminAccount, error) {
	return bootstrapAdmin()
})

type adminAccount struct {
	ID, Email, Password, TOTPSecret string
}

func bootstrapAdmin() (adminAccount, error) {
	a := adminAccount{Email: email("admin"), Password: "quiet lantern orbit 58 meadow"}
	b, _ := json.Marshal(map[string]string{"email": a.Email, "password": a.Password, "displayName": "Platform Admin"})
	resp, err := http.Post(devstack.LambdaURL+"/2015-03-31/functions/AdminBootstrapFunction/invocations", "application/json", strings.NewReader(string(b)))
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	var out struct {
		UserID     string `json:"userId"`
		TOTPSecret string `json:"totpSecret"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.TOTPSecret == "" || resp.Header.Get("X-Amz-Function-Error") != "" {
		return a, fmt.Errorf("bootstrap failed (%v)", err)
	}
	a.ID, a.TOTPSecret = out.UserID, out.TOTPSecret
	return a, nil
}

// adminTokens logs the platform admin in (password, then TOTP).
func adminTokens(t *testing.T, c *client, a adminAccount) tokens {
	t.Helper()
	var ch challenge
	c.expect(http.StatusOK, c.do("POST", "/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})).json(t, &ch)
	// A TOTP step can be used once: wait for a fresh one if this account
	// already used the current step.
	code := freshCode(t, a.TOTPSecret)
	var tk tokens
	c.expect(http.StatusOK, c.do("POST", "/v1/auth/login/mfa", map[string]string{"challenge": ch.Challenge, "code": code})).json(t, &tk)
	return tk
}

var usedSteps sync.Map

func freshCode(t *testing.T, secret string) string {
	t.Helper()
	for {
		now := time.Now()
		step := now.Unix() / 30
		key := fmt.Sprintf("%s/%d", secret, step)
		if _, used := usedSteps.LoadOrStore(key, true); !used {
			code, err := totp.GenerateCode(secret, now)
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
		time.Sleep(time.Until(time.Unix((step+1)*30, 0)) + 50*time.Millisecond)
	}
}

// account is a logged-in user of the test world.
type account struct {
	*client
	ID, Email, Role, OrgID string
}

const worldPassword = "violet harbor engine 9731 drift"

// registerAs registers (with an invite code when given), logs in, and reads
// the profile.
func registerAs(t *testing.T, prefix, inviteCode string) *account {
	t.Helper()
	c := newClient(t, registrationIP())
	addr := email(prefix)
	body := map[string]string{"email": addr, "password": worldPassword, "displayName": "World " + prefix}
	if inviteCode != "" {
		body["inviteCode"] = inviteCode
	}
	c.expect(http.StatusAccepted, c.do("POST", "/v1/auth/register", body))
	authed := withToken(c, login(t, c, addr, worldPassword))
	var m struct {
		ID    string `json:"id"`
		Role  string `json:"role"`
		OrgID string `json:"orgId"`
	}
	authed.expect(http.StatusOK, authed.do("GET", "/v1/me", nil)).json(t, &m)
	return &account{client: authed, ID: m.ID, Email: addr, Role: m.Role, OrgID: m.OrgID}
}

// org is an organization with its first org admin and a mentor.
type org struct {
	ID       string
	Admin    *account
	Mentor   *account
	Mentor2  *account
	inviteID string
}

// newOrg creates an organization through the CLI function, registers its
// first org admin with the invite, and invites two mentors.
func newOrg(t *testing.T, name string) *org {
	t.Helper()
	admin, err := platformAdmin()
	if err != nil {
		t.Fatal(err)
	}
	adminEmail := email("orgadmin")
	out, fe := invoke(t, "AdminCreateOrgFunction", map[string]string{
		"actorId": admin.ID, "reason": "e2e " + name, "name": name, "adminEmail": adminEmail,
	})
	if fe != "" {
		t.Fatalf("create org: %s", out)
	}
	var created struct {
		OrgID  string `json:"orgId"`
		Invite struct {
			Code string `json:"code"`
		} `json:"invite"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.Invite.Code == "" {
		t.Fatalf("create org result %s (%v)", out, err)
	}
	o := &org{ID: created.OrgID}
	o.Admin = registerInvited(t, "orgadmin", adminEmail, created.Invite.Code)
	if o.Admin.Role != "org_admin" || o.Admin.OrgID != o.ID {
		t.Fatalf("invited org admin is %s of %q", o.Admin.Role, o.Admin.OrgID)
	}
	o.Mentor = o.inviteMentor(t)
	o.Mentor2 = o.inviteMentor(t)
	return o
}

func registerInvited(t *testing.T, prefix, addr, code string) *account {
	t.Helper()
	c := newClient(t, registrationIP())
	c.expect(http.StatusAccepted, c.do("POST", "/v1/auth/register", map[string]string{
		"email": addr, "password": worldPassword, "displayName": "World " + prefix, "inviteCode": code,
	}))
	authed := withToken(c, login(t, c, addr, worldPassword))
	var m struct {
		ID    string `json:"id"`
		Role  string `json:"role"`
		OrgID string `json:"orgId"`
	}
	authed.expect(http.StatusOK, authed.do("GET", "/v1/me", nil)).json(t, &m)
	return &account{client: authed, ID: m.ID, Email: addr, Role: m.Role, OrgID: m.OrgID}
}

func (o *org) inviteMentor(t *testing.T) *account {
	t.Helper()
	addr := email("mentor")
	var inv struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	o.Admin.expect(http.StatusCreated, o.Admin.do("POST", "/v1/orgs/"+o.ID+"/invites", map[string]string{"email": addr, "role": "mentor"})).json(t, &inv)
	o.inviteID = inv.ID
	m := registerInvited(t, "mentor", addr, inv.Code)
	if m.Role != "mentor" || m.OrgID != o.ID {
		t.Fatalf("invited mentor is %s of %q", m.Role, m.OrgID)
	}
	return m
}

type program struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Version int    `json:"version"`
}

type task struct {
	ID       string `json:"id"`
	Required bool   `json:"required"`
}

func programBody(title string, capacity int) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"title": title, "description": "Build real services with a mentor.",
		"skills": []string{"go", "aws"}, "capacity": capacity,
		"applicationOpensAt":  now.Add(-time.Hour).Format(time.RFC3339),
		"applicationClosesAt": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"startsAt":            now.Add(31 * 24 * time.Hour).Format(time.RFC3339),
		"endsAt":              now.Add(90 * 24 * time.Hour).Format(time.RFC3339),
	}
}

// openProgram creates a program with the given number of required and
// optional tasks and publishes it.
func (o *org) openProgram(t *testing.T, title string, capacity, required, optional int) (program, []task) {
	t.Helper()
	var p program
	o.Admin.expect(http.StatusCreated, o.Admin.do("POST", "/v1/orgs/"+o.ID+"/programs", programBody(title, capacity))).json(t, &p)
	var tasks []task
	for i := range required + optional {
		var tk task
		o.Admin.expect(http.StatusCreated, o.Admin.do("POST", "/v1/programs/"+p.ID+"/tasks", map[string]any{
			"title": fmt.Sprintf("Task %d", i+1), "instructions": "Do the work and describe it.",
			"dueOffsetDays": 7 * (i + 1), "required": i < required, "maxScore": 100, "passMark": 60,
		})).json(t, &tk)
		tasks = append(tasks, tk)
	}
	o.Admin.expect(http.StatusOK, o.Admin.do("POST", "/v1/programs/"+p.ID+"/transitions", map[string]string{"to": "open"},
		"If-Match", fmt.Sprintf("%q", fmt.Sprint(p.Version)))).json(t, &p)
	if p.Status != "open" {
		t.Fatalf("program is %s after publishing", p.Status)
	}
	return p, tasks
}

type application struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Version      int    `json:"version"`
	EnrollmentID string `json:"enrollmentId"`
}

const motivation = "I have built two small Go services and want to learn how to run them on AWS well."

func ifMatch(v int) []string { return []string{"If-Match", fmt.Sprintf("%q", fmt.Sprint(v))} }
