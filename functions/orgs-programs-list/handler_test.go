package main

import (
	"encoding/json/v2"
	"net/http"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

const resource = "/v1/orgs/{orgId}/programs"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func list(t *testing.T, e *pt.Env, h *Handler, u *store.User, org string, query map[string]string) (int, string, programs.ProgramList) {
	t.Helper()
	req := pt.Request(http.MethodGet, resource, "/v1/orgs/"+org+"/programs", "", u)
	req.PathParameters = map[string]string{"orgId": org}
	req.QueryStringParameters = query
	resp := e.Serve(t, functionName, h.Handle, req)
	var out programs.ProgramList
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(resp.Body), &out, json.RejectUnknownMembers(true)); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, pt.ErrorCode(t, resp), out
}

func TestListOrgPrograms(t *testing.T) {
	e := pt.New(t)
	h := newHandler(t, e)
	org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
	admin, mentor := e.User(t, apigw.RoleOrgAdmin, org.ID), e.User(t, apigw.RoleMentor, org.ID)
	otherAdmin, intern := e.User(t, apigw.RoleOrgAdmin, other.ID), e.User(t, apigw.RoleIntern, "")
	for range 3 {
		e.Draft(t, admin)
		e.Clock.Advance(time.Minute)
	}
	e.Open(t, admin)

	st, _, page := list(t, e, h, &mentor, org.ID, map[string]string{"limit": "3"})
	if st != 200 || len(page.Items) != 3 || page.NextCursor == "" || page.Items[0].Status != "open" {
		t.Fatalf("first page: %d %+v", st, page)
	}
	st, _, page2 := list(t, e, h, &mentor, org.ID, map[string]string{"limit": "3", "cursor": page.NextCursor})
	if st != 200 || len(page2.Items) != 1 || page2.NextCursor != "" {
		t.Fatalf("second page: %d %+v", st, page2)
	}
	tampered := page.NextCursor[:10] + flip(page.NextCursor[10]) + page.NextCursor[11:]
	tests := []struct {
		name   string
		caller *store.User
		query  map[string]string
		status int
		code   string
	}{
		{"org admin", &admin, nil, 200, ""},
		{"other org admin", &otherAdmin, nil, 404, "not_found"},
		{"intern", &intern, nil, 404, "not_found"},
		{"anonymous", nil, nil, 401, "unauthorized"},
		{"tampered cursor", &mentor, map[string]string{"cursor": tampered}, 400, "validation_failed"},
		{"cursor of another caller", &admin, map[string]string{"cursor": page.NextCursor}, 400, "validation_failed"},
		{"limit 0", &mentor, map[string]string{"limit": "0"}, 400, "validation_failed"},
		{"limit over the cap", &mentor, map[string]string{"limit": "51"}, 400, "validation_failed"},
		{"limit not a number", &mentor, map[string]string{"limit": "ten"}, 400, "validation_failed"},
		{"unknown parameter", &mentor, map[string]string{"status": "draft"}, 400, "validation_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, code, _ := list(t, e, h, tt.caller, org.ID, tt.query)
			if st != tt.status || code != tt.code {
				t.Fatalf("answer = %d %s, want %d %s", st, code, tt.status, tt.code)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			w := e.SeedEventWorld(t)
			e.Draft(t, w.Admin)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
