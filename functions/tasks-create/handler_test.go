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

const resource = "/v1/programs/{programId}/tasks"

const validBody = `{"title":"Strict handler","instructions":"Reject unknown members.","dueOffsetDays":7,"required":true,"maxScore":10,"passMark":6}`

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCreateTask(t *testing.T) {
	type cast struct{ admin, mentor, otherAdmin, intern store.User }
	tests := []struct {
		name   string
		state  domain.ProgramStatus
		caller func(c cast) store.User
		body   string
		status int
		code   string
		field  string
	}{
		{name: "draft program", state: domain.ProgramDraft, body: validBody, status: 201},
		{name: "open program", state: domain.ProgramOpen, body: validBody, status: 201},
		{name: "closed program", state: domain.ProgramClosed, body: validBody, status: 409, code: "conflict"},
		{name: "due date instead of offset", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"dueOffsetDays":7`, `"dueDate":"2031-02-01T00:00:00Z"`, 1), status: 201},
		{name: "both due forms", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"dueOffsetDays":7`, `"dueOffsetDays":7,"dueDate":"2031-02-01T00:00:00Z"`, 1), status: 400, code: "validation_failed", field: "dueOffsetDays"},
		{name: "missing required", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"required":true,`, ``, 1), status: 400, code: "validation_failed", field: "required"},
		{name: "required null", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"required":true`, `"required":null`, 1), status: 400, code: "invalid_body", field: "required"},
		{name: "passMark above maxScore", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"passMark":6`, `"passMark":11`, 1), status: 400, code: "validation_failed", field: "passMark"},
		{name: "maxScore as string", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"maxScore":10`, `"maxScore":"10"`, 1), status: 400, code: "invalid_body", field: "maxScore"},
		{name: "unknown member position", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `{"title"`, `{"position":1,"title"`, 1), status: 400, code: "invalid_body", field: "position"},
		{name: "oversize instructions", state: domain.ProgramDraft,
			body: strings.Replace(validBody, `"Reject unknown members."`, `"`+strings.Repeat("i", 5001)+`"`, 1), status: 400, code: "validation_failed", field: "instructions"},
		{name: "mentor of the org", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.mentor }, body: validBody, status: 403, code: "forbidden"},
		{name: "other org admin", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.otherAdmin }, body: validBody, status: 404, code: "not_found"},
		{name: "intern on an open program", state: domain.ProgramOpen, caller: func(c cast) store.User { return c.intern }, body: validBody, status: 403, code: "forbidden"},
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
				e.Move(t, c.admin, p.ID, domain.ProgramOpen)
			}
			if tt.state == domain.ProgramClosed {
				e.Move(t, c.admin, p.ID, domain.ProgramClosed)
			}
			before, _ := e.Store.ListTasks(pt.Ctx(t), p.ID)
			u := c.admin
			if tt.caller != nil {
				u = tt.caller(c)
			}
			req := pt.Request(http.MethodPost, resource, "/v1/programs/"+p.ID+"/tasks", tt.body, &u)
			req.PathParameters = map[string]string{"programId": p.ID}
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, req)
			if resp.StatusCode != tt.status || pt.ErrorCode(t, resp) != tt.code {
				t.Fatalf("answer = %d %s, want %d %s", resp.StatusCode, resp.Body, tt.status, tt.code)
			}
			after, _ := e.Store.ListTasks(pt.Ctx(t), p.ID)
			if tt.status != 201 {
				if tt.field != "" {
					if eb := pt.ErrorBody(t, resp); len(eb.Fields) == 0 || eb.Fields[0].Field != tt.field {
						t.Fatalf("fields = %+v, want %s", eb.Fields, tt.field)
					}
				}
				if len(after) != len(before) {
					t.Fatal("a refused request stored a task")
				}
				return
			}
			var got programs.TaskView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if got.ProgramID != p.ID || got.Version != 1 || len(after) != len(before)+1 || resp.Headers["Etag"] != `"1"` {
				t.Fatalf("created = %+v", got)
			}
		})
	}
}

func TestCreateTaskIdempotencyKey(t *testing.T) {
	e := pt.New(t)
	org := e.Org(t, "Acme")
	admin := e.User(t, apigw.RoleOrgAdmin, org.ID)
	p := e.Draft(t, admin)
	h := newHandler(t, e)
	send := func(body string) (int, string, string) {
		req := pt.Request(http.MethodPost, resource, "/v1/programs/"+p.ID+"/tasks", body, &admin)
		req.PathParameters = map[string]string{"programId": p.ID}
		req.Headers["Idempotency-Key"] = "task-key"
		resp := e.Serve(t, functionName, h.Handle, req)
		return resp.StatusCode, resp.Body, resp.Headers["Idempotent-Replayed"]
	}
	st1, b1, _ := send(validBody)
	st2, b2, replayed := send(validBody)
	st3, _, _ := send(strings.Replace(validBody, `"maxScore":10`, `"maxScore":20`, 1))
	if st1 != 201 || st2 != 201 || b1 != b2 || replayed != "true" || st3 != 422 {
		t.Fatalf("answers %d/%d/%d replayed=%q", st1, st2, st3, replayed)
	}
	if tasks, _ := e.Store.ListTasks(pt.Ctx(t), p.ID); len(tasks) != 1 {
		t.Fatalf("%d tasks", len(tasks))
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			w := e.SeedEventWorld(t)
			e.DraftWithID(t, w.Admin, pt.EventProgramID)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 201 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
