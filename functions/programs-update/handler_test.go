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

const resource = "/v1/programs/{programId}"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestUpdateProgram(t *testing.T) {
	type cast struct{ admin, mentor, otherAdmin, intern store.User }
	tests := []struct {
		name    string
		state   domain.ProgramStatus
		caller  func(c cast) store.User
		body    string
		ifMatch string
		status  int
		code    string
		field   string
	}{
		{name: "draft title and capacity", state: domain.ProgramDraft, body: `{"title":"Renamed","capacity":9}`, ifMatch: `"1"`, status: 200},
		{name: "unquoted If-Match", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, ifMatch: `1`, status: 200},
		{name: "no If-Match", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, status: 428, code: programs.CodePreconditionRequired},
		{name: "stale If-Match", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, ifMatch: `"7"`, status: 412, code: "precondition_failed"},
		{name: "wildcard If-Match", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, ifMatch: `*`, status: 400, code: "validation_failed", field: "If-Match"},
		{name: "empty object", state: domain.ProgramDraft, body: `{}`, ifMatch: `"1"`, status: 400, code: "validation_failed", field: "body"},
		{name: "explicit null", state: domain.ProgramDraft, body: `{"title":null}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "title"},
		{name: "unknown member status", state: domain.ProgramDraft, body: `{"status":"open"}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "status"},
		{name: "mass assignment enrolledCount", state: domain.ProgramDraft, body: `{"enrolledCount":0}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "enrolledCount"},
		{name: "wrong type", state: domain.ProgramDraft, body: `{"capacity":"9"}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "capacity"},
		{name: "empty skills", state: domain.ProgramDraft, body: `{"skills":[]}`, ifMatch: `"1"`, status: 400, code: "validation_failed", field: "skills"},
		{name: "open: title frozen", state: domain.ProgramOpen, body: `{"title":"Renamed"}`, ifMatch: `"2"`, status: 400, code: "validation_failed", field: "title"},
		{name: "open: description", state: domain.ProgramOpen, body: `{"description":"More detail."}`, ifMatch: `"2"`, status: 200},
		{name: "closed: frozen", state: domain.ProgramClosed, body: `{"description":"More detail."}`, ifMatch: `"3"`, status: 409, code: "conflict"},
		{name: "mentor of the org", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.mentor }, body: `{"title":"x"}`, ifMatch: `"1"`, status: 403, code: "forbidden"},
		{name: "other org admin, draft", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.otherAdmin }, body: `{"title":"x"}`, ifMatch: `"1"`, status: 404, code: "not_found"},
		{name: "other org admin, open", state: domain.ProgramOpen, caller: func(c cast) store.User { return c.otherAdmin }, body: `{"description":"x"}`, ifMatch: `"2"`, status: 403, code: "forbidden"},
		{name: "intern, draft", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.intern }, body: `{"title":"x"}`, ifMatch: `"1"`, status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
			c := cast{
				admin: e.User(t, apigw.RoleOrgAdmin, org.ID), mentor: e.User(t, apigw.RoleMentor, org.ID),
				otherAdmin: e.User(t, apigw.RoleOrgAdmin, other.ID), intern: e.User(t, apigw.RoleIntern, ""),
			}
			p := e.Draft(t, c.admin)
			if tt.state != domain.ProgramDraft {
				e.Task(t, c.admin, p.ID)
				p = e.Move(t, c.admin, p.ID, domain.ProgramOpen)
			}
			if tt.state == domain.ProgramClosed {
				p = e.Move(t, c.admin, p.ID, domain.ProgramClosed)
			}
			u := c.admin
			if tt.caller != nil {
				u = tt.caller(c)
			}
			req := pt.Request(http.MethodPatch, resource, "/v1/programs/"+p.ID, tt.body, &u)
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
				if tt.field != "" {
					if eb := pt.ErrorBody(t, resp); len(eb.Fields) == 0 || eb.Fields[0].Field != tt.field {
						t.Fatalf("fields = %+v, want %s", eb.Fields, tt.field)
					}
				}
				if after.Version != p.Version || after.Title != p.Title || after.Description != p.Description {
					t.Fatalf("refused update changed the program: %+v", after)
				}
				return
			}
			var got programs.ProgramView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if got.Version != p.Version+1 || after.Version != got.Version || resp.Headers["Etag"] != got.ETag() {
				t.Fatalf("updated = %+v (stored v%d), ETag %q", got, after.Version, resp.Headers["Etag"])
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
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			want := 200
			if ev.Name == "missing-if-match" {
				want = 428
			}
			if resp.StatusCode != want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}
