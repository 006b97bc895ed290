package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

const resource = "/v1/orgs/{orgId}/invites"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCreateInvite(t *testing.T) {
	type cast struct{ admin, mentor, otherAdmin, intern, platformAdmin store.User }
	tests := []struct {
		name   string
		caller func(c cast) store.User
		body   string
		status int
		code   string
		denied bool
	}{
		{"org admin invites a mentor", func(c cast) store.User { return c.admin }, `{"email":"grace@example.com","role":"mentor"}`, 201, "", false},
		{"org admin invites an org admin", func(c cast) store.User { return c.admin }, `{"email":"boss@example.com","role":"org_admin"}`, 403, "forbidden", true},
		{"mentor of the org", func(c cast) store.User { return c.mentor }, `{"email":"grace@example.com","role":"mentor"}`, 403, "forbidden", true},
		{"org admin of another org", func(c cast) store.User { return c.otherAdmin }, `{"email":"grace@example.com","role":"mentor"}`, 404, "not_found", true},
		{"intern", func(c cast) store.User { return c.intern }, `{"email":"grace@example.com","role":"mentor"}`, 404, "not_found", true},
		{"platform admin", func(c cast) store.User { return c.platformAdmin }, `{"email":"grace@example.com","role":"mentor"}`, 404, "not_found", true},
		{"intern role", func(c cast) store.User { return c.admin }, `{"email":"grace@example.com","role":"intern"}`, 400, "validation_failed", false},
		{"invalid email", func(c cast) store.User { return c.admin }, `{"email":"grace at example","role":"mentor"}`, 400, "validation_failed", false},
		{"oversize email", func(c cast) store.User { return c.admin }, `{"email":"` + strings.Repeat("a", 250) + `@x.io","role":"mentor"}`, 400, "validation_failed", false},
		{"unknown member orgId", func(c cast) store.User { return c.admin }, `{"email":"grace@example.com","role":"mentor","orgId":"x"}`, 400, "invalid_body", false},
		{"role as array", func(c cast) store.User { return c.admin }, `{"email":"grace@example.com","role":["mentor"]}`, 400, "invalid_body", false},
		{"duplicate member", func(c cast) store.User { return c.admin }, `{"email":"a@example.com","email":"b@example.com","role":"mentor"}`, 400, "invalid_body", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
			c := cast{
				admin: e.User(t, apigw.RoleOrgAdmin, org.ID), mentor: e.User(t, apigw.RoleMentor, org.ID),
				otherAdmin: e.User(t, apigw.RoleOrgAdmin, other.ID), intern: e.User(t, apigw.RoleIntern, ""), platformAdmin: e.Admin(t),
			}
			u := tt.caller(c)
			req := pt.Request(http.MethodPost, resource, "/v1/orgs/"+org.ID+"/invites", tt.body, &u)
			req.PathParameters = map[string]string{"orgId": org.ID}
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, req)
			if resp.StatusCode != tt.status || pt.ErrorCode(t, resp) != tt.code {
				t.Fatalf("answer = %d %s, want %d %s", resp.StatusCode, resp.Body, tt.status, tt.code)
			}
			if (e.Denials() == 1) != tt.denied {
				t.Fatalf("denials audited = %d", e.Denials())
			}
			if tt.status != 201 {
				if n := len(e.Audit.Find(programs.ActionInviteCreated)); n != 0 {
					t.Fatal("refused invite created")
				}
				return
			}
			var inv programs.InviteView
			if err := json.Unmarshal([]byte(resp.Body), &inv, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			stored, err := e.Store.GetInvite(pt.Ctx(t), domain.HashInviteCode(inv.Code))
			if err != nil || stored.ID != inv.ID || stored.OrgID != org.ID || stored.Role != domain.RoleMentor {
				t.Fatalf("stored = %+v, %v", stored, err)
			}
			if strings.Contains(e.Logs.String(), inv.Code) {
				t.Fatal("the invite code was logged")
			}
		})
	}
}

func TestCreateInviteRetry(t *testing.T) {
	e := pt.New(t)
	org := e.Org(t, "Acme")
	admin := e.User(t, apigw.RoleOrgAdmin, org.ID)
	h := newHandler(t, e)
	send := func(body string) (int, string) {
		req := pt.Request(http.MethodPost, resource, "/v1/orgs/"+org.ID+"/invites", body, &admin)
		req.PathParameters = map[string]string{"orgId": org.ID}
		req.Headers["Idempotency-Key"] = `"invite-1"`
		resp := e.Serve(t, functionName, h.Handle, req)
		return resp.StatusCode, resp.Body
	}
	if st, b := send(`{"email":"g@example.com","role":"mentor"}`); st != 201 {
		t.Fatalf("first: %d %s", st, b)
	}
	if st, b := send(`{"email":"g@example.com","role":"mentor"}`); st != 409 || !strings.Contains(b, `"code":"conflict"`) {
		t.Fatalf("retry: %d %s", st, b)
	}
	if st, _ := send(`{"email":"h@example.com","role":"mentor"}`); st != 422 {
		t.Fatalf("other body: %d", st)
	}
	if n := len(e.Audit.Find(programs.ActionInviteCreated)); n != 1 {
		t.Fatalf("%d invites", n)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			e.SeedEventWorld(t)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			want := 201
			if strings.HasSuffix(ev.Name, "-denied") {
				want = 403
			}
			if resp.StatusCode != want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}
