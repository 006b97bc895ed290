package main

import (
	"encoding/json/v2"
	"net/http"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

const resource = "/v1/programs/{programId}/tasks/{taskId}"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestUpdateTask(t *testing.T) {
	type cast struct{ admin, mentor, otherAdmin store.User }
	tests := []struct {
		name    string
		state   domain.ProgramStatus
		caller  func(c cast) store.User
		task    func(real string) string
		body    string
		ifMatch string
		status  int
		code    string
		field   string
	}{
		{name: "draft: grading and title", state: domain.ProgramDraft, body: `{"title":"Renamed","maxScore":20,"passMark":12}`, ifMatch: `"1"`, status: 200},
		{name: "switch to a due date", state: domain.ProgramDraft, body: `{"dueDate":"2031-02-01T00:00:00Z"}`, ifMatch: `"1"`, status: 200},
		{name: "open: instructions", state: domain.ProgramOpen, body: `{"instructions":"Clearer now."}`, ifMatch: `"1"`, status: 200},
		{name: "open: grading frozen", state: domain.ProgramOpen, body: `{"passMark":1}`, ifMatch: `"1"`, status: 400, code: "validation_failed", field: "passMark"},
		{name: "closed: frozen", state: domain.ProgramClosed, body: `{"title":"Late"}`, ifMatch: `"1"`, status: 409, code: "conflict"},
		{name: "no If-Match", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, status: 428, code: programs.CodePreconditionRequired},
		{name: "stale If-Match", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, ifMatch: `"2"`, status: 412, code: "precondition_failed"},
		{name: "If-Match list", state: domain.ProgramDraft, body: `{"title":"Renamed"}`, ifMatch: `"1", "2"`, status: 400, code: "validation_failed", field: "If-Match"},
		{name: "empty object", state: domain.ProgramDraft, body: `{}`, ifMatch: `"1"`, status: 400, code: "validation_failed"},
		{name: "null member", state: domain.ProgramDraft, body: `{"dueDate":null}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "dueDate"},
		{name: "unknown member programId", state: domain.ProgramDraft, body: `{"programId":"` + ids.New(ids.Program) + `"}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "programId"},
		{name: "required as string", state: domain.ProgramDraft, body: `{"required":"yes"}`, ifMatch: `"1"`, status: 400, code: "invalid_body", field: "required"},
		{name: "unknown task", state: domain.ProgramDraft, task: func(string) string { return ids.New(ids.Task) }, body: `{"title":"x"}`, ifMatch: `"1"`, status: 404, code: "not_found"},
		{name: "mentor of the org", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.mentor }, body: `{"title":"x"}`, ifMatch: `"1"`, status: 403, code: "forbidden"},
		{name: "other org admin", state: domain.ProgramDraft, caller: func(c cast) store.User { return c.otherAdmin }, body: `{"title":"x"}`, ifMatch: `"1"`, status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
			c := cast{admin: e.User(t, apigw.RoleOrgAdmin, org.ID), mentor: e.User(t, apigw.RoleMentor, org.ID), otherAdmin: e.User(t, apigw.RoleOrgAdmin, other.ID)}
			p := e.Draft(t, c.admin)
			task := e.Task(t, c.admin, p.ID)
			if tt.state != domain.ProgramDraft {
				e.Move(t, c.admin, p.ID, domain.ProgramOpen)
			}
			if tt.state == domain.ProgramClosed {
				e.Move(t, c.admin, p.ID, domain.ProgramClosed)
			}
			taskID := task.ID
			if tt.task != nil {
				taskID = tt.task(task.ID)
			}
			u := c.admin
			if tt.caller != nil {
				u = tt.caller(c)
			}
			req := pt.Request(http.MethodPatch, resource, "/v1/programs/"+p.ID+"/tasks/"+taskID, tt.body, &u)
			req.PathParameters = map[string]string{"programId": p.ID, "taskId": taskID}
			if tt.ifMatch != "" {
				req.Headers["If-Match"] = tt.ifMatch
			}
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, req)
			if resp.StatusCode != tt.status || pt.ErrorCode(t, resp) != tt.code {
				t.Fatalf("answer = %d %s, want %d %s", resp.StatusCode, resp.Body, tt.status, tt.code)
			}
			after, err := e.Store.GetTask(pt.Ctx(t), p.ID, task.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.status != 200 {
				if tt.field != "" {
					if eb := pt.ErrorBody(t, resp); len(eb.Fields) == 0 || eb.Fields[0].Field != tt.field {
						t.Fatalf("fields = %+v, want %s", eb.Fields, tt.field)
					}
				}
				if after != task {
					t.Fatalf("refused update changed the task: %+v", after)
				}
				return
			}
			var got programs.TaskView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || after.Version != 2 || resp.Headers["Etag"] != `"2"` {
				t.Fatalf("updated = %+v", got)
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
			e.TaskWithID(t, w.Admin, pt.EventProgramID, pt.EventTaskID)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
