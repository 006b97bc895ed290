package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

const resource = "/v1/programs/{programId}/tasks"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestListTasks(t *testing.T) {
	e := pt.New(t)
	h := newHandler(t, e)
	org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
	admin, mentor := e.User(t, apigw.RoleOrgAdmin, org.ID), e.User(t, apigw.RoleMentor, org.ID)
	otherAdmin, otherMentor := e.User(t, apigw.RoleOrgAdmin, other.ID), e.User(t, apigw.RoleMentor, other.ID)
	enrolled, stranger := e.User(t, apigw.RoleIntern, ""), e.User(t, apigw.RoleIntern, "")
	p := e.Open(t, admin)
	e.Task(t, admin, p.ID)
	e.Enroll(t, admin, enrolled, mentor, e.Program(t, p.ID))
	draft := e.Draft(t, admin)
	suspended := e.User(t, apigw.RoleMentor, org.ID)
	e.Suspend(t, suspended)

	tests := []struct {
		name    string
		caller  *store.User
		program string
		status  int
	}{
		{"org admin", &admin, p.ID, 200},
		{"mentor of the org", &mentor, p.ID, 200},
		{"enrolled intern", &enrolled, p.ID, 200},
		{"mentor of the org, draft", &mentor, draft.ID, 200},
		{"intern not enrolled", &stranger, p.ID, 404},
		{"enrolled intern, another program", &enrolled, draft.ID, 404},
		{"other org admin", &otherAdmin, p.ID, 404},
		{"other org mentor", &otherMentor, p.ID, 404},
		{"suspended mentor", &suspended, p.ID, 401},
		{"unknown program", &admin, ids.New(ids.Program), 404},
		{"anonymous", nil, p.ID, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := pt.Request(http.MethodGet, resource, "/v1/programs/"+tt.program+"/tasks", "", tt.caller)
			req.PathParameters = map[string]string{"programId": tt.program}
			resp := e.Serve(t, functionName, h.Handle, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status != 200 {
				return
			}
			var list programs.TaskList
			if err := json.Unmarshal([]byte(resp.Body), &list, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if tt.program == p.ID && (len(list.Items) != 2 || list.Items[0].ProgramID != p.ID) {
				t.Fatalf("tasks = %+v", list)
			}
		})
	}
	req := pt.Request(http.MethodGet, resource, "/v1/programs/"+p.ID+"/tasks", "", &mentor)
	req.PathParameters = map[string]string{"programId": p.ID}
	req.QueryStringParameters = map[string]string{"limit": "5"}
	if resp := e.Serve(t, functionName, h.Handle, req); resp.StatusCode != 400 {
		t.Fatalf("unknown query parameter: %d", resp.StatusCode)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			w := e.SeedEventWorld(t)
			e.DraftWithID(t, w.Admin, pt.EventProgramID)
			e.Task(t, w.Admin, pt.EventProgramID)
			p := e.Move(t, w.Admin, pt.EventProgramID, domain.ProgramOpen)
			if strings.Contains(ev.Name, "intern") {
				e.Enroll(t, w.Admin, w.Intern, w.Mentor, p)
			}
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
