package main

import (
	"encoding/json/v2"
	"net/http"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

const resource = "/v1/programs/{programId}/transitions"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTransition(t *testing.T) {
	type cast struct{ admin, mentor, otherAdmin store.User }
	tests := []struct {
		name    string
		state   domain.ProgramStatus
		tasks   bool
		caller  func(c cast) store.User
		body    string
		ifMatch string
		status  int
		code    string
		want    domain.ProgramStatus
	}{
		{name: "publish", state: domain.ProgramDraft, tasks: true, body: `{"to":"open"}`, ifMatch: `"1"`, status: 200, want: domain.ProgramOpen},
		{name: "publish without tasks", state: domain.ProgramDraft, body: `{"to":"open"}`, ifMatch: `"1"`, status: 400, code: "validation_failed"},
		{name: "close", state: domain.ProgramOpen, body: `{"to":"closed"}`, ifMatch: `"2"`, status: 200, want: domain.ProgramClosed},
		{name: "archive", state: domain.ProgramClosed, body: `{"to":"archived"}`, ifMatch: `"3"`, status: 200, want: domain.ProgramArchived},
		{name: "skip a step", state: domain.ProgramDraft, tasks: true, body: `{"to":"closed"}`, ifMatch: `"1"`, status: 409, code: "conflict"},
		{name: "backwards", state: domain.ProgramClosed, body: `{"to":"open"}`, ifMatch: `"3"`, status: 409, code: "conflict"},
		{name: "to draft", state: domain.ProgramOpen, body: `{"to":"draft"}`, ifMatch: `"2"`, status: 400, code: "validation_failed"},
		{name: "no If-Match", state: domain.ProgramDraft, tasks: true, body: `{"to":"open"}`, status: 428, code: programs.CodePreconditionRequired},
		{name: "stale If-Match", state: domain.ProgramOpen, body: `{"to":"closed"}`, ifMatch: `"1"`, status: 412, code: "precondition_failed"},
		{name: "unknown member", state: domain.ProgramDraft, body: `{"to":"open","force":true}`, ifMatch: `"1"`, status: 400, code: "invalid_body"},
		{name: "to as number", state: domain.ProgramDraft, body: `{"to":1}`, ifMatch: `"1"`, status: 400, code: "invalid_body"},
		{name: "mentor of the org", state: domain.ProgramOpen, caller: func(c cast) store.User { return c.mentor }, body: `{"to":"closed"}`, ifMatch: `"2"`, status: 403, code: "forbidden"},
		{name: "other org admin, draft", state: domain.ProgramDraft, tasks: true, caller: func(c cast) store.User { return c.otherAdmin }, body: `{"to":"open"}`, ifMatch: `"1"`, status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
			c := cast{admin: e.User(t, apigw.RoleOrgAdmin, org.ID), mentor: e.User(t, apigw.RoleMentor, org.ID), otherAdmin: e.User(t, apigw.RoleOrgAdmin, other.ID)}
			p := e.Draft(t, c.admin)
			if tt.tasks || tt.state != domain.ProgramDraft {
				e.Task(t, c.admin, p.ID)
			}
			if tt.state != domain.ProgramDraft {
				p = e.Move(t, c.admin, p.ID, domain.ProgramOpen)
			}
			if tt.state == domain.ProgramClosed {
				p = e.Move(t, c.admin, p.ID, domain.ProgramClosed)
			}
			u := c.admin
			if tt.caller != nil {
				u = tt.caller(c)
			}
			req := pt.Request(http.MethodPost, resource, "/v1/programs/"+p.ID+"/transitions", tt.body, &u)
			req.PathParameters = map[string]string{"programId": p.ID}
			if tt.ifMatch != "" {
				req.Headers["If-Match"] = tt.ifMatch
			}
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, req)
			if resp.StatusCode != tt.status || pt.ErrorCode(t, resp) != tt.code {
				t.Fatalf("answer = %d %s, want %d %s", resp.StatusCode, resp.Body, tt.status, tt.code)
			}
			after := e.Program(t, p.ID)
			if tt.status != 200 {
				if after.Status != p.Status || after.Version != p.Version {
					t.Fatalf("refused transition changed the program: %+v", after)
				}
				return
			}
			var got programs.ProgramView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if got.Status != string(tt.want) || after.Status != tt.want || resp.Headers["Etag"] != got.ETag() {
				t.Fatalf("moved = %+v, stored %s", got, after.Status)
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			w := e.SeedEventWorld(t)
			e.DraftWithID(t, w.Admin, pt.EventProgramID)
			e.Task(t, w.Admin, pt.EventProgramID)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
