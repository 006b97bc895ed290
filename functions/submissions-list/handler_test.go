package main

import (
	"encoding/json/v2"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work"
	"github.com/vip-platform/backend/shared/work/worktest"
)

const resource = "/v1/enrollments/{enrollmentId}/submissions"

func listReq(u store.User, enrollmentID string) events.APIGatewayProxyRequest {
	return worktest.Request(http.MethodGet, resource, "/v1/enrollments/"+enrollmentID+"/submissions", "",
		map[string]string{"enrollmentId": enrollmentID}, u)
}

// seed submits task 1, has it sent back, resubmits it and submits task 2:
// three versions, one reviewed.
func seed(t *testing.T, env *worktest.Env) {
	t.Helper()
	sub, rev := env.Submitter(t), env.Reviewer(t)
	in := work.SubmitInput{Text: "Work."}
	first, err := sub.Submit(worktest.Ctx(t), worktest.Caller(env.Intern), env.Enrollment.ID, env.Tasks[0].ID, in, work.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	var v1 work.SubmissionView
	if err := json.Unmarshal(first.Body, &v1); err != nil {
		t.Fatal(err)
	}
	if _, err := rev.Review(worktest.Ctx(t), worktest.Caller(env.Mentor), v1.ID,
		work.ReviewInput{Score: 3, Feedback: "Add tests.", Decision: "changes_requested"}); err != nil {
		t.Fatal(err)
	}
	for _, task := range []store.Task{env.Tasks[0], env.Tasks[1]} {
		if _, err := sub.Submit(worktest.Ctx(t), worktest.Caller(env.Intern), env.Enrollment.ID, task.ID, in, work.Idem{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListSubmissions(t *testing.T) {
	tests := []struct {
		name       string
		req        func(env *worktest.Env) events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantDenied bool
	}{
		{name: "the intern", req: func(env *worktest.Env) events.APIGatewayProxyRequest { return listReq(env.Intern, env.Enrollment.ID) }, wantStatus: 200},
		{name: "the mentor", req: func(env *worktest.Env) events.APIGatewayProxyRequest { return listReq(env.Mentor, env.Enrollment.ID) }, wantStatus: 200},
		{name: "an org admin of the org", req: func(env *worktest.Env) events.APIGatewayProxyRequest { return listReq(env.OrgAdmin, env.Enrollment.ID) }, wantStatus: 200},
		{name: "another intern", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return listReq(env.OtherIntern, env.Enrollment.ID)
		},
			wantStatus: 404, wantCode: "not_found", wantDenied: true},
		{name: "another mentor of the org", req: func(env *worktest.Env) events.APIGatewayProxyRequest { return listReq(env.Mentor2, env.Enrollment.ID) },
			wantStatus: 404, wantCode: "not_found", wantDenied: true},
		{name: "a mentor of another org", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return listReq(env.OutsiderMentor, env.Enrollment.ID)
		}, wantStatus: 404, wantCode: "not_found", wantDenied: true},
		{name: "a platform admin", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return listReq(env.PlatformAdmin, env.Enrollment.ID)
		}, wantStatus: 403, wantCode: "forbidden", wantDenied: true},
		{name: "unknown enrollment", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			return listReq(env.Intern, "enr_aaaaaaaaaaaaaaaaaaaaaaaaaa")
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "malformed id", req: func(env *worktest.Env) events.APIGatewayProxyRequest { return listReq(env.Intern, "ENR#x") },
			wantStatus: 404, wantCode: "not_found"},
		{name: "query parameter", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := listReq(env.Intern, env.Enrollment.ID)
			req.QueryStringParameters = map[string]string{"limit": "5"}
			return req
		}, wantStatus: 400, wantCode: "validation_failed"},
		{name: "a body", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := listReq(env.Intern, env.Enrollment.ID)
			req.Body = `{}`
			return req
		}, wantStatus: 400, wantCode: "bad_request"},
		{name: "no principal", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := listReq(env.Intern, env.Enrollment.ID)
			req.RequestContext.Authorizer = nil
			return req
		}, wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong method", req: func(env *worktest.Env) events.APIGatewayProxyRequest {
			req := listReq(env.Intern, env.Enrollment.ID)
			req.HTTPMethod = http.MethodDelete
			return req
		}, wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := worktest.New(t)
			seed(t, env)
			h, err := NewHandler(env.Lister(t))
			if err != nil {
				t.Fatal(err)
			}
			resp := env.Serve(t, functionName, h.Handle, tt.req(env))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if denied := len(env.Audit.Find(work.ActionDenied)) > 0; denied != tt.wantDenied {
				t.Fatalf("denial audited = %v", denied)
			}
			if tt.wantStatus != 200 {
				if code := apigwtest.DecodeError(t, resp).Code; code != tt.wantCode {
					t.Fatalf("code = %q, want %q", code, tt.wantCode)
				}
				return
			}
			var list work.SubmissionList
			if err := json.Unmarshal([]byte(resp.Body), &list, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if len(list.Items) != 3 {
				t.Fatalf("items = %+v", list.Items)
			}
			reviewed := 0
			for _, s := range list.Items {
				if s.Links == nil || s.UploadIDs == nil {
					t.Fatalf("lists must be arrays: %s", resp.Body)
				}
				if s.Review != nil {
					reviewed++
					if s.Review.SubmissionID != s.ID || s.Review.MentorID != env.Mentor.ID || s.Status != "changes_requested" {
						t.Fatalf("review = %+v", s.Review)
					}
				}
			}
			if reviewed != 1 {
				t.Fatalf("%d reviewed versions", reviewed)
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, worktest.RepoFile(t, "events/"+functionName)) {
		t.Run(ev.Name, func(t *testing.T) {
			env := worktest.New(t)
			h, err := NewHandler(env.Lister(t))
			if err != nil {
				t.Fatal(err)
			}
			// The sample's caller and enrollment exist in no table: 404.
			if resp := env.Serve(t, functionName, h.Handle, ev.Request); resp.StatusCode != 404 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
