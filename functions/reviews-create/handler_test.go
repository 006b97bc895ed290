package main

import (
	"encoding/json/v2"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work"
	"github.com/vip-platform/backend/shared/work/worktest"
)

const resource = "/v1/submissions/{submissionId}/reviews"

func reviewReq(u store.User, submissionID, body string) events.APIGatewayProxyRequest {
	return worktest.Request(http.MethodPost, resource, "/v1/submissions/"+submissionID+"/reviews", body,
		map[string]string{"submissionId": submissionID}, u)
}

func newHandler(t *testing.T, env *worktest.Env) *Handler {
	t.Helper()
	h, err := NewHandler(env.Reviewer(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// submitted returns a fresh submission of task i, awaiting review.
func submitted(t *testing.T, env *worktest.Env, i int) string {
	t.Helper()
	res, err := env.Submitter(t).Submit(worktest.Ctx(t), worktest.Caller(env.Intern), env.Enrollment.ID, env.Tasks[i].ID,
		work.SubmitInput{Text: "Work."}, work.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	var v work.SubmissionView
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

const accept = `{"score":8,"feedback":"Well done.","decision":"accepted"}`

func TestReview(t *testing.T) {
	tests := []struct {
		name       string
		req        func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantField  string
		wantDenied bool
	}{
		{name: "the assigned mentor", wantStatus: 201},
		{name: "score zero with changes requested", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":0,"feedback":"Start over.","decision":"changes_requested"}`)
		}, wantStatus: 201},
		{name: "already reviewed", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			if resp := env.Serve(t, functionName, newHandler(t, env).Handle, reviewReq(env.Mentor, sub, accept)); resp.StatusCode != 201 {
				t.Fatalf("first review: %d", resp.StatusCode)
			}
			return reviewReq(env.Mentor, sub, `{"score":2,"feedback":"No.","decision":"changes_requested"}`)
		}, wantStatus: 409, wantCode: "conflict"},
		{name: "missing score", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"feedback":"x","decision":"accepted"}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "score"},
		{name: "score as a string", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":"8","feedback":"x","decision":"accepted"}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "score"},
		{name: "fractional score", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":8.5,"feedback":"x","decision":"accepted"}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "score"},
		{name: "score above the task's maximum", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":11,"feedback":"x","decision":"accepted"}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "score"},
		{name: "accepted below the pass mark", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":5,"feedback":"x","decision":"accepted"}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "score"},
		{name: "unknown decision", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":8,"feedback":"x","decision":"rejected"}`)
		}, wantStatus: 400, wantCode: "validation_failed", wantField: "decision"},
		{name: "unknown member", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, sub, `{"score":8,"feedback":"x","decision":"accepted","mentorId":"usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`)
		}, wantStatus: 400, wantCode: "invalid_body", wantField: "mentorId"},
		{name: "the intern", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Intern, sub, accept)
		}, wantStatus: 403, wantCode: "forbidden", wantDenied: true},
		{name: "another mentor of the org", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor2, sub, accept)
		}, wantStatus: 404, wantCode: "not_found", wantDenied: true},
		{name: "mentor removed from the org", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			env.SetUser(t, env.Mentor.ID, map[string]string{"orgId": "org_aaaaaaaaaaaaaaaaaaaaaaaaaa", "GSI1PK": "ORG#org_aaaaaaaaaaaaaaaaaaaaaaaaaa"})
			return reviewReq(env.Mentor, sub, accept) // the token still names the old org
		}, wantStatus: 404, wantCode: "not_found", wantDenied: true},
		{name: "unknown submission", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", accept)
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "malformed id", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			return reviewReq(env.Mentor, "sub_", accept)
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "no principal", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			req := reviewReq(env.Mentor, sub, accept)
			req.RequestContext.Authorizer = map[string]any{"sub": env.Mentor.ID}
			return req
		}, wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong method", req: func(t *testing.T, env *worktest.Env, sub string) events.APIGatewayProxyRequest {
			req := reviewReq(env.Mentor, sub, accept)
			req.HTTPMethod = http.MethodGet
			return req
		}, wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := worktest.New(t)
			sub := submitted(t, env, 0)
			req := reviewReq(env.Mentor, sub, accept)
			if tt.req != nil {
				req = tt.req(t, env, sub)
			}
			env.Audit.Reset()
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if denied := len(env.Audit.Find(work.ActionDenied)) > 0; denied != tt.wantDenied {
				t.Fatalf("denial audited = %v", denied)
			}
			stored, err := env.Store.GetSubmission(worktest.Ctx(t), sub)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus != 201 {
				e := apigwtest.DecodeError(t, resp)
				if e.Code != tt.wantCode || (tt.wantField != "" && (len(e.Fields) == 0 || e.Fields[0].Field != tt.wantField)) {
					t.Fatalf("error = %+v, want %s %s", e, tt.wantCode, tt.wantField)
				}
				if tt.wantCode != "conflict" && stored.Review != nil {
					t.Fatal("a refused review was stored")
				}
				return
			}
			var got work.ReviewView
			if err := json.Unmarshal([]byte(resp.Body), &got, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if stored.Review == nil || got.ID != stored.Review.ID || got.SubmissionID != sub || got.MentorID != env.Mentor.ID ||
				got.Decision != stored.Status || got.CreatedAt.IsZero() {
				t.Fatalf("review = %+v, stored %+v", got, stored)
			}
			if k := worktest.Kinds(env.Inbox(t, env.Intern.ID)); k[store.KindReviewPosted] != 1 {
				t.Fatalf("intern inbox = %v", k)
			}
		})
	}
}

// Concurrent reviews through the handler: one 201, the rest 409.
func TestConcurrentReviews(t *testing.T) {
	env := worktest.New(t)
	sub := submitted(t, env, 0)
	h := newHandler(t, env)
	const n = 5
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Serve(t, functionName, h.Handle, reviewReq(env.Mentor, sub, accept)).StatusCode
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("statuses = %v", statuses)
	}
}

// The last required acceptance completes the enrollment and notifies the
// intern; the hook hears of it.
func TestReviewCompletes(t *testing.T) {
	env := worktest.New(t)
	h := newHandler(t, env)
	for i := range 2 {
		if resp := env.Serve(t, functionName, h.Handle, reviewReq(env.Mentor, submitted(t, env, i), accept)); resp.StatusCode != 201 {
			t.Fatalf("review %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	e, err := env.Store.GetEnrollment(worktest.Ctx(t), env.Enrollment.ID)
	if err != nil || e.Status != store.EnrollmentCompleted {
		t.Fatalf("enrollment = %+v, %v", e, err)
	}
	if k := worktest.Kinds(env.Inbox(t, env.Intern.ID)); k[store.KindEnrollmentCompleted] != 1 {
		t.Fatalf("intern inbox = %v", k)
	}
	if ev := env.Hook.Events(); len(ev) != 1 || ev[0].EnrollmentID != env.Enrollment.ID {
		t.Fatalf("hook = %+v", ev)
	}
}

func TestSampleEvents(t *testing.T) {
	want := map[string]int{"review": 404, "review-missing-score": 400}
	for _, ev := range apigwtest.LoadProxyEvents(t, worktest.RepoFile(t, "events/"+functionName)) {
		t.Run(ev.Name, func(t *testing.T) {
			env := worktest.New(t)
			// The sample submission exists in no table.
			if resp := env.Serve(t, functionName, newHandler(t, env).Handle, ev.Request); resp.StatusCode != want[ev.Name] {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want[ev.Name], resp.Body)
			}
		})
	}
}
