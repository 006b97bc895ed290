package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
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

func get(t *testing.T, e *pt.Env, h *Handler, query map[string]string) (int, string, string) {
	t.Helper()
	req := pt.Request(http.MethodGet, "/v1/programs", "/v1/programs", "", nil)
	req.QueryStringParameters = query
	resp := e.Serve(t, functionName, h.Handle, req)
	return resp.StatusCode, pt.ErrorCode(t, resp), resp.Body
}

func TestListOpenPrograms(t *testing.T) {
	e := pt.New(t)
	h := newHandler(t, e)
	org := e.Org(t, "Acme Robotics")
	admin := e.User(t, apigw.RoleOrgAdmin, org.ID)
	var open []string
	for i := range 3 {
		skills := []string{"go"}
		if i == 1 {
			skills = []string{"design"}
		}
		open = append(open, e.Open(t, admin, skills...).ID)
		e.Clock.Advance(time.Minute)
	}
	e.Draft(t, admin, "go")

	st, _, body := get(t, e, h, map[string]string{"limit": "2"})
	var page programs.PublicProgramList
	if err := json.Unmarshal([]byte(body), &page, json.RejectUnknownMembers(true)); err != nil || st != 200 {
		t.Fatalf("first page: %d %s %v", st, body, err)
	}
	if len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].Organization != "Acme Robotics" {
		t.Fatalf("first page = %+v", page)
	}
	for _, banned := range []string{"orgId", org.ID, "@", "enrolledCount", "capacity", "version", admin.ID} {
		if strings.Contains(body, banned) {
			t.Errorf("public listing contains %q", banned)
		}
	}
	st, _, body = get(t, e, h, map[string]string{"limit": "2", "cursor": page.NextCursor})
	var page2 programs.PublicProgramList
	if err := json.Unmarshal([]byte(body), &page2, json.RejectUnknownMembers(true)); err != nil || st != 200 || len(page2.Items) != 1 || page2.Items[0].ID != open[2] || page2.NextCursor != "" {
		t.Fatalf("second page: %d %s", st, body)
	}
	st, _, body = get(t, e, h, map[string]string{"skill": "go"})
	if st != 200 || strings.Contains(body, open[1]) || !strings.Contains(body, open[0]) || !strings.Contains(body, open[2]) {
		t.Fatalf("skill filter: %d %s", st, body)
	}

	tests := []struct {
		name  string
		query map[string]string
		code  string
	}{
		{"cursor of another filter", map[string]string{"skill": "go", "cursor": page.NextCursor}, "validation_failed"},
		{"forged cursor", map[string]string{"cursor": strings.Repeat("A", 80)}, "validation_failed"},
		{"oversize cursor", map[string]string{"cursor": strings.Repeat("A", 1100)}, "validation_failed"},
		{"uppercase skill", map[string]string{"skill": "Go"}, "validation_failed"},
		{"skill with a space", map[string]string{"skill": "machine learning"}, "validation_failed"},
		{"limit over the cap", map[string]string{"limit": "500"}, "validation_failed"},
		{"unknown parameter", map[string]string{"orgId": org.ID}, "validation_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, code, body := get(t, e, h, tt.query); st != 400 || code != tt.code {
				t.Fatalf("answer = %d %s", st, body)
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			w := e.SeedEventWorld(t)
			e.Open(t, w.Admin)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"organization":"Acme Robotics"`) {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
