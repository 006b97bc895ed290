package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

const resource = "/v1/orgs/{orgId}/members"

func newHandler(t *testing.T, e *pt.Env) *Handler {
	t.Helper()
	h, err := NewHandler(e.Service)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestListMembers(t *testing.T) {
	type cast struct{ admin, mentor, otherAdmin, intern store.User }
	tests := []struct {
		name   string
		caller func(c cast) store.User
		query  map[string]string
		body   string
		status int
	}{
		{"mentor of the org", func(c cast) store.User { return c.mentor }, nil, "", 200},
		{"org admin of the org", func(c cast) store.User { return c.admin }, nil, "", 200},
		{"org admin of another org", func(c cast) store.User { return c.otherAdmin }, nil, "", 404},
		{"intern", func(c cast) store.User { return c.intern }, nil, "", 404},
		{"unknown query parameter", func(c cast) store.User { return c.mentor }, map[string]string{"role": "mentor"}, "", 400},
		{"body on a GET", func(c cast) store.User { return c.mentor }, nil, `{"x":1}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
			c := cast{
				admin: e.User(t, apigw.RoleOrgAdmin, org.ID), mentor: e.User(t, apigw.RoleMentor, org.ID),
				otherAdmin: e.User(t, apigw.RoleOrgAdmin, other.ID), intern: e.User(t, apigw.RoleIntern, ""),
			}
			u := tt.caller(c)
			req := pt.Request(http.MethodGet, resource, "/v1/orgs/"+org.ID+"/members", tt.body, &u)
			req.PathParameters = map[string]string{"orgId": org.ID}
			req.QueryStringParameters = tt.query
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status == 404 && e.Denials() != 1 {
				t.Fatal("denial not audited")
			}
			if tt.status != 200 {
				return
			}
			var list programs.MemberList
			if err := json.Unmarshal([]byte(resp.Body), &list, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if len(list.Items) != 2 || strings.Contains(resp.Body, "@") {
				t.Fatalf("members = %s", resp.Body)
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Events(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			e.SeedEventWorld(t)
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
