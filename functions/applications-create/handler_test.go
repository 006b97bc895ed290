package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/enrollment/enrollmenttest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newHandler(t *testing.T, env *enrollmenttest.Env) *Handler {
	t.Helper()
	h, err := NewHandler(env.Applier(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func applyRequest(who store.User, programID, body string, headers map[string]string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodPost, "/v1/programs/"+programID+"/applications", body)
	req.Resource = "/v1/programs/{programId}/applications"
	req.PathParameters = map[string]string{"programId": programID}
	for k, v := range headers {
		req.Headers[k] = v
	}
	if who.ID != "" {
		req = apigwtest.WithPrincipal(req, enrollmenttest.Principal(who))
	}
	return req
}

var goodBody = `{"motivation":"` + enrollmenttest.Motivation + `"}`

func TestApply(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 3, 3)
	draft := w.Program
	draft.ID, draft.Status = ids.New(ids.Program), "draft"
	if _, err := env.Store.CreateProgram(enrollmenttest.Ctx(t), draft); err != nil {
		t.Fatal(err)
	}
	applied := w.Interns[1]
	env.Apply(t, w, applied)

	noCT := applyRequest(w.Interns[0], w.Program.ID, goodBody, nil)
	delete(noCT.Headers, "Content-Type")
	badMethod := applyRequest(w.Interns[0], w.Program.ID, goodBody, nil)
	badMethod.HTTPMethod = http.MethodPut
	withQuery := applyRequest(w.Interns[0], w.Program.ID, goodBody, nil)
	withQuery.QueryStringParameters = map[string]string{"internId": w.Interns[2].ID}
	twoKeys := applyRequest(w.Interns[0], w.Program.ID, goodBody, nil)
	twoKeys.MultiValueHeaders = map[string][]string{"Idempotency-Key": {"a", "b"}}

	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantField  string
		denied     bool
	}{
		{name: "applies", req: applyRequest(w.Interns[0], w.Program.ID, goodBody, nil), wantStatus: 201},
		{name: "no principal", req: applyRequest(store.User{}, w.Program.ID, goodBody, nil), wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong method", req: badMethod, wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "malformed program id", req: applyRequest(w.Interns[2], "prg_123", goodBody, nil), wantStatus: 404, wantCode: "not_found"},
		{name: "unknown program", req: applyRequest(w.Interns[2], ids.New(ids.Program), goodBody, nil), wantStatus: 404, wantCode: "not_found"},
		{name: "draft program", req: applyRequest(w.Interns[2], draft.ID, goodBody, nil), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "query parameter", req: withQuery, wantStatus: 400, wantCode: "validation_failed", wantField: "internId"},
		{name: "no content type", req: noCT, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "no body", req: applyRequest(w.Interns[2], w.Program.ID, "", nil), wantStatus: 400, wantCode: "bad_request"},
		{name: "unknown member", req: applyRequest(w.Interns[2], w.Program.ID, `{"motivation":"`+enrollmenttest.Motivation+`","status":"accepted"}`, nil), wantStatus: 400, wantCode: "invalid_body"},
		{name: "wrong type", req: applyRequest(w.Interns[2], w.Program.ID, `{"motivation":42}`, nil), wantStatus: 400, wantCode: "invalid_body"},
		{name: "duplicate member", req: applyRequest(w.Interns[2], w.Program.ID, `{"motivation":"a","motivation":"b"}`, nil), wantStatus: 400, wantCode: "invalid_body"},
		{name: "motivation too short", req: applyRequest(w.Interns[2], w.Program.ID, `{"motivation":"Take me."}`, nil), wantStatus: 400, wantCode: "validation_failed", wantField: "motivation"},
		{name: "motivation too long", req: applyRequest(w.Interns[2], w.Program.ID, `{"motivation":"`+strings.Repeat("x", 3001)+`"}`, nil), wantStatus: 400, wantCode: "validation_failed", wantField: "motivation"},
		{name: "malformed idempotency key", req: applyRequest(w.Interns[2], w.Program.ID, goodBody, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}), wantStatus: 400, wantCode: "validation_failed", wantField: "Idempotency-Key"},
		{name: "idempotency key twice", req: twoKeys, wantStatus: 400, wantCode: "validation_failed", wantField: "Idempotency-Key"},
		{name: "mentor may not apply", req: applyRequest(w.Mentor, w.Program.ID, goodBody, nil), wantStatus: 403, wantCode: "forbidden", denied: true},
		{name: "org admin may not apply", req: applyRequest(w.Admin, w.Program.ID, goodBody, nil), wantStatus: 403, wantCode: "forbidden", denied: true},
		{name: "already applied", req: applyRequest(applied, w.Program.ID, goodBody, nil), wantStatus: 409, wantCode: "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Audit.Reset()
			resp := env.Serve(t, functionName, h.Handle, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if got := len(env.Denials()) == 1; got != tt.denied {
				t.Fatalf("denials = %+v, want audited %v", env.Denials(), tt.denied)
			}
			if tt.wantCode != "" {
				body := apigwtest.DecodeError(t, resp)
				if body.Code != tt.wantCode {
					t.Fatalf("code = %q, want %q (%s)", body.Code, tt.wantCode, resp.Body)
				}
				if tt.wantField != "" && (len(body.Fields) == 0 || body.Fields[0].Field != tt.wantField) {
					t.Fatalf("fields = %+v, want %s", body.Fields, tt.wantField)
				}
				return
			}
			var v enrollment.ApplicationView
			if err := json.Unmarshal([]byte(resp.Body), &v, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if !ids.Valid(v.ID, ids.Application) || v.Status != "pending" || v.Version != 1 || resp.Headers["Etag"] != `"1"` {
				t.Fatalf("application = %+v, headers %v", v, resp.Headers)
			}
			for _, leak := range []string{"APP#", "PROGRAM#", w.Org, "orgId"} {
				if strings.Contains(resp.Body, leak) {
					t.Fatalf("body leaks %q: %s", leak, resp.Body)
				}
			}
		})
	}
}

func TestApplyIdempotencyKey(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 3, 1)
	key := map[string]string{"Idempotency-Key": `"retry-7"`}
	first := env.Serve(t, functionName, h.Handle, applyRequest(w.Interns[0], w.Program.ID, goodBody, key))
	if first.StatusCode != 201 {
		t.Fatalf("first: %d %s", first.StatusCode, first.Body)
	}
	// The same body re-serialized (white space) is the same request; the
	// bare spelling of the key is the same key.
	again := env.Serve(t, functionName, h.Handle, applyRequest(w.Interns[0], w.Program.ID, "{ \"motivation\" : \""+enrollmenttest.Motivation+"\" }",
		map[string]string{"Idempotency-Key": "retry-7"}))
	if again.StatusCode != 201 || again.Body != first.Body || again.Headers["Idempotent-Replayed"] != "true" {
		t.Fatalf("replay: %d %v %s", again.StatusCode, again.Headers, again.Body)
	}
	apps, _, err := env.Store.ListInternApplications(enrollmenttest.Ctx(t), w.Interns[0].ID, 50, nil)
	if err != nil || len(apps) != 1 {
		t.Fatalf("replay wrote: %d applications (%v)", len(apps), err)
	}
	other := env.Serve(t, functionName, h.Handle, applyRequest(w.Interns[0], w.Program.ID,
		`{"motivation":"`+enrollmenttest.Motivation+` Different."}`, key))
	if other.StatusCode != http.StatusUnprocessableEntity || apigwtest.DecodeError(t, other).Code != enrollment.CodeIdempotencyMismatch {
		t.Fatalf("same key, different body: %d %s", other.StatusCode, other.Body)
	}
	// Without a key, a retry is a second application: 409.
	dup := env.Serve(t, functionName, h.Handle, applyRequest(w.Interns[0], w.Program.ID, goodBody, nil))
	if dup.StatusCode != http.StatusConflict {
		t.Fatalf("retry without key: %d %s", dup.StatusCode, dup.Body)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/"+functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			env := enrollmenttest.New(t)
			h := newHandler(t, env)
			env.SampleWorld(t, 3)
			if _, err := apigw.PrincipalFrom(ev.Request); err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			want := map[string]int{"apply": 201, "apply-unknown-member": 400}[ev.Name]
			if want == 0 {
				t.Fatalf("no expectation for sample %s", ev.Name)
			}
			if resp.StatusCode != want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}
