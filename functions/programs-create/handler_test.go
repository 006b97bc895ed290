package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
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

const validBody = `{"title":"Backend internship","description":"Build services.","skills":["go"],"capacity":3,` +
	`"applicationOpensAt":"2031-01-01T00:00:00Z","applicationClosesAt":"2031-02-01T00:00:00Z",` +
	`"startsAt":"2031-03-01T00:00:00Z","endsAt":"2031-06-01T00:00:00Z"}`

func TestCreateProgram(t *testing.T) {
	type setup struct{ admin, mentor, otherAdmin, intern store.User }
	tests := []struct {
		name    string
		caller  func(s setup) *store.User
		orgPath func(org string) string
		body    string
		headers map[string]string
		status  int
		code    string
		field   string
	}{
		{name: "org admin creates a draft", caller: func(s setup) *store.User { return &s.admin }, body: validBody, status: 201},
		{name: "mentor of the org", caller: func(s setup) *store.User { return &s.mentor }, body: validBody, status: 403, code: "forbidden"},
		{name: "org admin of another org", caller: func(s setup) *store.User { return &s.otherAdmin }, body: validBody, status: 404, code: "not_found"},
		{name: "intern", caller: func(s setup) *store.User { return &s.intern }, body: validBody, status: 404, code: "not_found"},
		{name: "no principal", caller: func(setup) *store.User { return nil }, body: validBody, status: 401, code: "unauthorized"},
		{name: "malformed org id", caller: func(s setup) *store.User { return &s.admin }, orgPath: func(string) string { return "org_nope" }, body: validBody, status: 404, code: "not_found"},
		{name: "unknown member orgId", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `{"title"`, `{"orgId":"`+ids.New(ids.Org)+`","title"`, 1), status: 400, code: "invalid_body", field: "orgId"},
		{name: "mass assignment status", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `{"title"`, `{"status":"open","title"`, 1), status: 400, code: "invalid_body", field: "status"},
		{name: "capacity as string", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `"capacity":3`, `"capacity":"3"`, 1), status: 400, code: "invalid_body", field: "capacity"},
		{name: "capacity out of range", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `"capacity":3`, `"capacity":1001`, 1), status: 400, code: "validation_failed", field: "capacity"},
		{name: "oversize title", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `"Backend internship"`, `"`+strings.Repeat("t", 121)+`"`, 1), status: 400, code: "validation_failed", field: "title"},
		{name: "dates out of order", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `"endsAt":"2031-06-01T00:00:00Z"`, `"endsAt":"2031-02-15T00:00:00Z"`, 1), status: 400, code: "validation_failed", field: "endsAt"},
		{name: "not a date", caller: func(s setup) *store.User { return &s.admin },
			body: strings.Replace(validBody, `"2031-03-01T00:00:00Z"`, `"next spring"`, 1), status: 400, code: "invalid_body", field: "startsAt"},
		{name: "query parameter", caller: func(s setup) *store.User { return &s.admin }, body: validBody,
			headers: map[string]string{}, status: 400, code: "validation_failed"},
		{name: "bad idempotency key", caller: func(s setup) *store.User { return &s.admin }, body: validBody,
			headers: map[string]string{"Idempotency-Key": "has\ttab"}, status: 400, code: "validation_failed", field: "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			org, other := e.Org(t, "Acme"), e.Org(t, "Globex")
			s := setup{
				admin: e.User(t, apigw.RoleOrgAdmin, org.ID), mentor: e.User(t, apigw.RoleMentor, org.ID),
				otherAdmin: e.User(t, apigw.RoleOrgAdmin, other.ID), intern: e.User(t, apigw.RoleIntern, ""),
			}
			path := org.ID
			if tt.orgPath != nil {
				path = tt.orgPath(org.ID)
			}
			req := pt.Request(http.MethodPost, resource, "/v1/orgs/"+path+"/programs", tt.body, tt.caller(s))
			req.PathParameters = map[string]string{"orgId": path}
			for k, v := range tt.headers {
				req.Headers[k] = v
			}
			if tt.name == "query parameter" {
				req.QueryStringParameters = map[string]string{"orgId": org.ID}
			}
			resp := e.Serve(t, functionName, newHandler(t, e).Handle, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if code := pt.ErrorCode(t, resp); code != tt.code {
				t.Fatalf("code = %q, want %q", code, tt.code)
			}
			page, _ := e.Store.ListOrgPrograms(pt.Ctx(t), org.ID, 50, nil)
			if tt.status != 201 {
				if len(page.Programs) != 0 {
					t.Fatal("a refused request stored a program")
				}
				if tt.field != "" {
					eb := pt.ErrorBody(t, resp)
					if len(eb.Fields) == 0 || eb.Fields[0].Field != tt.field {
						t.Fatalf("fields = %+v, want %s", eb.Fields, tt.field)
					}
				}
				return
			}
			var got programs.ProgramView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if got.Status != "draft" || got.OrgID != org.ID || got.Version != 1 || resp.Headers["Etag"] != `"1"` || len(page.Programs) != 1 {
				t.Fatalf("created = %+v, headers %v", got, resp.Headers)
			}
		})
	}
}

func TestCreateProgramIdempotencyKey(t *testing.T) {
	e := pt.New(t)
	org := e.Org(t, "Acme")
	admin := e.User(t, apigw.RoleOrgAdmin, org.ID)
	h := newHandler(t, e)
	send := func(body string) (int, string, map[string]string) {
		req := pt.Request(http.MethodPost, resource, "/v1/orgs/"+org.ID+"/programs", body, &admin)
		req.PathParameters = map[string]string{"orgId": org.ID}
		req.Headers["Idempotency-Key"] = "k-123"
		resp := e.Serve(t, functionName, h.Handle, req)
		return resp.StatusCode, resp.Body, resp.Headers
	}
	st1, b1, _ := send(validBody)
	// The same JSON re-serialized with other spacing is the same request.
	st2, b2, h2 := send(strings.ReplaceAll(validBody, ",", ", "))
	if st1 != 201 || st2 != 201 || b1 != b2 || h2["Idempotent-Replayed"] != "true" {
		t.Fatalf("replay: %d %s / %d %s %v", st1, b1, st2, b2, h2)
	}
	st3, b3, _ := send(strings.Replace(validBody, `"capacity":3`, `"capacity":4`, 1))
	if st3 != 422 || !strings.Contains(b3, "idempotency_key_reused") {
		t.Fatalf("mismatch: %d %s", st3, b3)
	}
	page, _ := e.Store.ListOrgPrograms(pt.Ctx(t), org.ID, 50, nil)
	if len(page.Programs) != 1 {
		t.Fatalf("%d programs", len(page.Programs))
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
				want = 400
			}
			if resp.StatusCode != want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}
