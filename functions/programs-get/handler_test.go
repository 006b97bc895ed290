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
)

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGetProgram(t *testing.T) {
	e := pt.New(t)
	h := newHandler(t, e)
	org := e.Org(t, "Acme Robotics")
	admin := e.User(t, apigw.RoleOrgAdmin, org.ID)
	open := e.Open(t, admin)
	closed := e.Move(t, admin, e.Open(t, admin).ID, domain.ProgramClosed)
	archived := e.Move(t, admin, e.Move(t, admin, e.Open(t, admin).ID, domain.ProgramClosed).ID, domain.ProgramArchived)
	draft := e.Draft(t, admin)
	tests := []struct {
		name   string
		id     string
		status int
		denied bool
	}{
		{"open", open.ID, 200, false},
		{"closed", closed.ID, 200, false},
		{"draft", draft.ID, 404, true},
		{"archived", archived.ID, 404, true},
		{"unknown", ids.New(ids.Program), 404, false},
		{"malformed", "prg_x", 404, false},
		{"task id", ids.New(ids.Task), 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.Denials()
			req := pt.Request(http.MethodGet, "/v1/programs/{programId}", "/v1/programs/"+tt.id, "", nil)
			req.PathParameters = map[string]string{"programId": tt.id}
			resp := e.Serve(t, functionName, h.Handle, req)
			if resp.StatusCode != tt.status || (e.Denials() > before) != tt.denied {
				t.Fatalf("answer = %d %s (denials %d→%d)", resp.StatusCode, resp.Body, before, e.Denials())
			}
			if tt.status != 200 {
				// A hidden program answers exactly like an unknown one.
				if pt.ErrorCode(t, resp) != "not_found" {
					t.Fatalf("body = %s", resp.Body)
				}
				return
			}
			var p programs.PublicProgramView
			if err := json.Unmarshal([]byte(resp.Body), &p, json.RejectUnknownMembers(true)); err != nil || p.ID != tt.id || p.Organization != "Acme Robotics" {
				t.Fatalf("program = %+v, %v", p, err)
			}
			for _, banned := range []string{"orgId", org.ID, "@", "enrolledCount", "capacity", "version"} {
				if strings.Contains(resp.Body, banned) {
					t.Errorf("public program contains %q", banned)
				}
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
			e.Move(t, w.Admin, pt.EventProgramID, domain.ProgramOpen)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
