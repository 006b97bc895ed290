package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work"
	"github.com/vip-platform/backend/shared/work/worktest"
)

const resource = "/v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions"

func newHandler(t *testing.T, env *worktest.Env) *Handler {
	t.Helper()
	h, err := NewHandler(env.Submitter(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func submitReq(env *worktest.Env, u store.User, enrollmentID, taskID, body string) events.APIGatewayProxyRequest {
	path := "/v1/enrollments/" + enrollmentID + "/tasks/" + taskID + "/submissions"
	return worktest.Request(http.MethodPost, resource, path, body,
		map[string]string{"enrollmentId": enrollmentID, "taskId": taskID}, u)
}

const goodBody = `{"text":"Implemented it, with tests.","links":["https://github.com/example/pr/3"]}`

func TestSubmit(t *testing.T) {
	tests := []struct {
		name       string
		req        func(env *worktest.Env) events.APIGatewayProxyRequest
		prepare    func(t *testing.T, env *worktest.Env)
		wantStatus int
		wantCode   string
		wantField  string
		wantDenied bool
	}{
		{name: "the enrolled intern", wantStatus: 201},
		{name: "first version pending review", prepare: submitOnce, wantStatus: 409, wantCode: "conflict"},
		{name: "unknown member", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"x","version":2}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "version"},
		{name: "wrong type", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":5}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "text"},
		{name: "null links", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"x","links":null}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "links"},
		{name: "duplicate member", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"x","text":"y"}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "text"},
		{name: "missing text", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"links":["https://example.com/a"]}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "text"},
		{name: "http link", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"x","links":["http://example.com/a"]}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "links[0]"},
		{name: "upload id of another type", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"x","uploadIds":["usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"]}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "uploadIds"},
		{name: "oversized text", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"`+strings.Repeat("a", 20001)+`"}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "text"},
		{name: "body over the cap", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, `{"text":"`+strings.Repeat("a", maxBody)+`"}`)
		}, wantStatus: 413, wantCode: "payload_too_large"},
		{name: "no content type", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
			delete(req.Headers, "Content-Type")
			return req
		}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "query parameter", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
			req.QueryStringParameters = map[string]string{"as": "mentor"}
			return req
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "as"},
		{name: "no principal", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
			req.RequestContext.Authorizer = nil
			return req
		}, wantStatus: 401, wantCode: "unauthorized"},
		{name: "the mentor", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Mentor, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
		}, wantStatus: 403, wantCode: "forbidden", wantDenied: true},
		{name: "another intern", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.OtherIntern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
		}, wantStatus: 404, wantCode: "not_found", wantDenied: true},
		{name: "ended enrollment", prepare: func(t *testing.T, env *worktest.Env) { env.EndEnrollment(t, env.Enrollment.ID) },
			wantStatus: 409, wantCode: "conflict"},
		{name: "malformed enrollment id", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, "enr_x", env.Tasks[0].ID, goodBody)
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "task id of another type", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return submitReq(env, env.Intern, env.Enrollment.ID, env.Program.ID, goodBody)
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "wrong method", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
			req.HTTPMethod = http.MethodPut
			return req
		}, wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "idempotency key twice", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
			req.MultiValueHeaders = map[string][]string{"Idempotency-Key": {"a", "b"}}
			return req
		}, wantStatus: 400, wantCode: "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := worktest.New(t)
			if tt.prepare != nil {
				tt.prepare(t, env)
			}
			req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody)
			if tt.req != nil {
				req = tt.req(env)
			}
			before, _ := env.Store.ListSubmissions(worktest.Ctx(t), env.Enrollment.ID)
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			after, _ := env.Store.ListSubmissions(worktest.Ctx(t), env.Enrollment.ID)
			denied := len(env.Audit.Find(work.ActionDenied)) > 0
			if denied != tt.wantDenied {
				t.Fatalf("denial audited = %v, want %v", denied, tt.wantDenied)
			}
			if tt.wantStatus != 201 {
				e := apigwtest.DecodeError(t, resp)
				if e.Code != tt.wantCode {
					t.Fatalf("code = %q, want %q", e.Code, tt.wantCode)
				}
				if tt.wantField != "" && (len(e.Fields) == 0 || e.Fields[0].Field != tt.wantField) {
					t.Fatalf("fields = %+v, want %s", e.Fields, tt.wantField)
				}
				if len(after) != len(before) {
					t.Fatalf("a refused request wrote a submission")
				}
				return
			}
			var got work.SubmissionView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if got.Version != 1 || got.Status != "submitted" || got.EnrollmentID != env.Enrollment.ID || got.TaskID != env.Tasks[0].ID ||
				len(got.Links) != 1 || len(got.UploadIDs) != 0 || got.Review != nil || got.CreatedAt.IsZero() {
				t.Fatalf("submission = %+v", got)
			}
			if len(after) != 1 || after[0].ID != got.ID {
				t.Fatalf("stored = %+v", after)
			}
			if k := worktest.Kinds(env.Inbox(t, env.Mentor.ID)); k[store.KindSubmissionCreated] != 1 {
				t.Fatalf("mentor inbox = %v", k)
			}
		})
	}
}

func submitOnce(t *testing.T, env *worktest.Env) {
	t.Helper()
	resp := env.Serve(t, functionName, newHandler(t, env).Handle, submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, goodBody))
	if resp.StatusCode != 201 {
		t.Fatalf("first submission: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestSubmitIdempotencyKey(t *testing.T) {
	env := worktest.New(t)
	h := newHandler(t, env)
	withKey := func(body string) events.APIGatewayProxyRequest {
		req := submitReq(env, env.Intern, env.Enrollment.ID, env.Tasks[0].ID, body)
		req.Headers["Idempotency-Key"] = `"k-1"`
		return req
	}
	first := env.Serve(t, functionName, h.Handle, withKey(goodBody))
	if first.StatusCode != 201 || first.Headers["Idempotent-Replayed"] != "" {
		t.Fatalf("first: %d %v %s", first.StatusCode, first.Headers, first.Body)
	}
	// Same request re-serialized with other white space and member order.
	retry := env.Serve(t, functionName, h.Handle, withKey(`{ "links":["https://github.com/example/pr/3"], "text":"Implemented it, with tests." }`))
	if retry.StatusCode != 201 || retry.Body != first.Body || retry.Headers["Idempotent-Replayed"] != "true" {
		t.Fatalf("retry: %d %v %s", retry.StatusCode, retry.Headers, retry.Body)
	}
	other := env.Serve(t, functionName, h.Handle, withKey(`{"text":"something else"}`))
	if other.StatusCode != 422 || apigwtest.DecodeError(t, other).Code != work.CodeIdempotencyMismatch {
		t.Fatalf("other body: %d %s", other.StatusCode, other.Body)
	}
	if subs, _ := env.Store.ListSubmissions(worktest.Ctx(t), env.Enrollment.ID); len(subs) != 1 {
		t.Fatalf("%d submissions stored", len(subs))
	}
	if n := len(env.Inbox(t, env.Mentor.ID)); n != 1 {
		t.Fatalf("%d notifications", n)
	}
}

// Every sample event decodes into the aws-lambda-go type and gets a sane
// answer from the handler.
func TestSampleEvents(t *testing.T) {
	// Links are checked against the stored enrollment's rules, after ownership:
	// the http link sample meets the unknown enrollment first.
	want := map[string]int{"submit": 404, "submit-http-link": 404, "submit-unknown-member": 400}
	for _, ev := range apigwtest.LoadProxyEvents(t, worktest.RepoFile(t, "events/"+functionName)) {
		t.Run(ev.Name, func(t *testing.T) {
			env := worktest.New(t)
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, ev.Request)
			// The sample IDs exist in no table: an authorized request that
			// passes validation answers the 404 of an unknown enrollment.
			if resp.StatusCode != want[ev.Name] {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want[ev.Name], resp.Body)
			}
		})
	}
}
