package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/enrollment/enrollmenttest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newHandler(t *testing.T, env *enrollmenttest.Env) *Handler {
	t.Helper()
	h, err := NewHandler(env.Decider(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func decideRequest(who store.User, appID, ifMatch, body string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodPost, "/v1/applications/"+appID+"/decision", body)
	req.Resource = "/v1/applications/{applicationId}/decision"
	req.PathParameters = map[string]string{"applicationId": appID}
	if ifMatch != "" {
		req.Headers["If-Match"] = ifMatch
	}
	if who.ID != "" {
		req = apigwtest.WithPrincipal(req, enrollmenttest.Principal(who))
	}
	return req
}

func acceptBody(mentor string) string { return `{"decision":"accepted","mentorId":"` + mentor + `"}` }

func TestDecide(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 1, 3)
	app := env.Apply(t, w, w.Interns[0])
	foreignMentor := env.User(t, "mentor", ids.New(ids.Org))

	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantFields []string
		denied     bool
	}{
		{name: "no If-Match", req: decideRequest(w.Admin, app.ID, "", acceptBody(w.Mentor.ID)), wantStatus: 428, wantCode: "precondition_required"},
		{name: "stale If-Match", req: decideRequest(w.Admin, app.ID, `"7"`, acceptBody(w.Mentor.ID)), wantStatus: 412, wantCode: "precondition_failed"},
		{name: "no principal", req: decideRequest(store.User{}, app.ID, `"1"`, acceptBody(w.Mentor.ID)), wantStatus: 401, wantCode: "unauthorized"},
		{name: "no body", req: decideRequest(w.Admin, app.ID, `"1"`, ""), wantStatus: 400, wantCode: "bad_request"},
		{name: "unknown member", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":"accepted","mentorId":"`+w.Mentor.ID+`","capacity":99}`), wantStatus: 400, wantCode: "invalid_body"},
		{name: "wrong type", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":true}`), wantStatus: 400, wantCode: "invalid_body"},
		{name: "unknown decision", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":"maybe"}`), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"decision"}},
		{name: "accept without mentor", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":"accepted"}`), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"mentorId"}},
		{name: "accept with reason", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":"accepted","mentorId":"`+w.Mentor.ID+`","reason":"x"}`), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"reason"}},
		{name: "reject without reason", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":"rejected"}`), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"reason"}},
		{name: "oversize reason", req: decideRequest(w.Admin, app.ID, `"1"`, `{"decision":"rejected","reason":"`+strings.Repeat("r", 1001)+`"}`), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"reason"}},
		{name: "mentor of another org", req: decideRequest(w.Admin, app.ID, `"1"`, acceptBody(foreignMentor.ID)), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"mentorId"}},
		{name: "intern as mentor", req: decideRequest(w.Admin, app.ID, `"1"`, acceptBody(w.Interns[1].ID)), wantStatus: 400, wantCode: "validation_failed", wantFields: []string{"mentorId"}},
		{name: "malformed application id", req: decideRequest(w.Admin, "app_1", `"1"`, acceptBody(w.Mentor.ID)), wantStatus: 404, wantCode: "not_found"},
		{name: "org admin of another org", req: decideRequest(w.Outsider, app.ID, `"1"`, acceptBody(w.Mentor.ID)), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "mentor of the org", req: decideRequest(w.Mentor, app.ID, `"1"`, acceptBody(w.Mentor.ID)), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "the applicant", req: decideRequest(w.Interns[0], app.ID, `"1"`, acceptBody(w.Mentor.ID)), wantStatus: 404, wantCode: "not_found", denied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Audit.Reset()
			resp := env.Serve(t, functionName, h.Handle, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			body := apigwtest.DecodeError(t, resp)
			if body.Code != tt.wantCode {
				t.Fatalf("code = %q, want %q", body.Code, tt.wantCode)
			}
			var fields []string
			for _, f := range body.Fields {
				fields = append(fields, f.Field)
			}
			if tt.wantFields != nil && strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
				t.Fatalf("fields = %v, want %v", fields, tt.wantFields)
			}
			if got := len(env.Denials()) == 1; got != tt.denied {
				t.Fatalf("denials = %+v", env.Denials())
			}
			if a, _ := env.Store.GetApplication(enrollmenttest.Ctx(t), app.ID); a.Status != "pending" || a.Version != 1 {
				t.Fatalf("refused decision wrote: %+v", a)
			}
		})
	}

	resp := env.Serve(t, functionName, h.Handle, decideRequest(w.Admin, app.ID, `"1"`, acceptBody(w.Mentor.ID)))
	if resp.StatusCode != 200 || resp.Headers["Etag"] != `"2"` {
		t.Fatalf("accept: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var v enrollment.ApplicationView
	if err := json.Unmarshal([]byte(resp.Body), &v, json.RejectUnknownMembers(true)); err != nil ||
		v.Status != "accepted" || !ids.Valid(v.EnrollmentID, ids.Enrollment) || v.DecidedAt == nil || v.Reason != "" {
		t.Fatalf("accepted = %+v, %v", v, err)
	}
	if strings.Contains(resp.Body, w.Mentor.ID) || strings.Contains(resp.Body, w.Admin.ID) {
		t.Fatalf("body names the mentor or the decider: %s", resp.Body)
	}
	if again := env.Serve(t, functionName, h.Handle, decideRequest(w.Admin, app.ID, `"2"`, `{"decision":"rejected","reason":"Oops."}`)); again.StatusCode != 409 {
		t.Fatalf("deciding twice: %d %s", again.StatusCode, again.Body)
	}

	t.Run("full program", func(t *testing.T) {
		second := env.Apply(t, w, w.Interns[1])
		resp := env.Serve(t, functionName, h.Handle, decideRequest(w.Admin, second.ID, `"1"`, acceptBody(w.Mentor.ID)))
		if resp.StatusCode != 409 || !strings.Contains(apigwtest.DecodeError(t, resp).Message, "full") {
			t.Fatalf("accept past capacity: %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("reject", func(t *testing.T) {
		third := env.Apply(t, w, w.Interns[2])
		resp := env.Serve(t, functionName, h.Handle, decideRequest(w.Admin, third.ID, `1`, `{"decision":"rejected","reason":"Not this cohort."}`))
		var v enrollment.ApplicationView
		if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &v) != nil || v.Status != "rejected" || v.Reason != "Not this cohort." {
			t.Fatalf("reject: %d %s", resp.StatusCode, resp.Body)
		}
	})
}

func TestConcurrentAccepts(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	const capacity, n = 3, 10
	w := env.World(t, capacity, n)
	var apps []store.Application
	for _, in := range w.Interns {
		apps = append(apps, env.Apply(t, w, in))
	}
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = env.Serve(t, functionName, h.Handle, decideRequest(w.Admin, apps[i].ID, `"1"`, acceptBody(w.Mentor.ID))).StatusCode
		}()
	}
	wg.Wait()
	ok, full := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
			full++
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	mentees, _, err := env.Store.ListMentorEnrollments(enrollmenttest.Ctx(t), w.Mentor.ID, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := env.Store.GetProgram(enrollmenttest.Ctx(t), w.Program.ID)
	if ok != capacity || full != n-capacity || len(mentees) != capacity || p.Enrolled != capacity {
		t.Fatalf("200s %d, 409s %d, enrollments %d, enrolledCount %d", ok, full, len(mentees), p.Enrolled)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/"+functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			env := enrollmenttest.New(t)
			h := newHandler(t, env)
			w := env.SampleWorld(t, 3)
			env.ApplyWithID(t, w, w.Interns[0], enrollmenttest.SampleApplication)
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
