package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
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
	h, err := NewHandler(env.Reader(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func getRequest(who store.User, id string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodGet, "/v1/enrollments/"+id, "")
	req.Resource = "/v1/enrollments/{enrollmentId}"
	req.PathParameters = map[string]string{"enrollmentId": id}
	if who.ID != "" {
		req = apigwtest.WithPrincipal(req, enrollmenttest.Principal(who))
	}
	return req
}

func TestGetEnrollment(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 3, 2)
	enrID := env.Enroll(t, w, w.Interns[0]).EnrollmentID
	env.SetTask(t, enrID, w.Tasks[0].ID, store.TaskAccepted, 2)
	env.SetTask(t, enrID, w.Tasks[1].ID, store.TaskChangesRequested, 1)
	otherMentor := env.User(t, "mentor", w.Org)

	for name, who := range map[string]store.User{"intern": w.Interns[0], "mentor": w.Mentor, "org admin": w.Admin} {
		t.Run(name, func(t *testing.T) {
			resp := env.Serve(t, functionName, h.Handle, getRequest(who, enrID))
			if resp.StatusCode != 200 || resp.Headers["Etag"] != `"3"` {
				t.Fatalf("status = %d %v: %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			var v enrollment.EnrollmentView
			if err := json.Unmarshal([]byte(resp.Body), &v, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if v.Progress != (enrollment.ProgressView{RequiredTotal: 2, RequiredAccepted: 1, Percent: 50}) ||
				v.Tasks[1].Status != "changes_requested" || v.Tasks[2].Status != "not_started" || v.Tasks[2].LatestVersion != 0 {
				t.Fatalf("enrollment = %+v", v)
			}
			if !strings.Contains(resp.Body, `"title":"Write a handler"`) || strings.Contains(resp.Body, "latestVersion\":0") {
				t.Fatalf("body = %s", resp.Body)
			}
		})
	}

	withQuery := getRequest(w.Interns[0], enrID)
	withQuery.QueryStringParameters = map[string]string{"include": "submissions"}
	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		denied     bool
	}{
		{name: "another intern", req: getRequest(w.Interns[1], enrID), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "another mentor of the org", req: getRequest(otherMentor, enrID), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "org admin of another org", req: getRequest(w.Outsider, enrID), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "unknown enrollment", req: getRequest(w.Interns[0], ids.New(ids.Enrollment)), wantStatus: 404, wantCode: "not_found"},
		{name: "malformed id", req: getRequest(w.Interns[0], "enr_../../PROFILE"), wantStatus: 404, wantCode: "not_found"},
		{name: "query parameter", req: withQuery, wantStatus: 400, wantCode: "validation_failed"},
		{name: "no principal", req: getRequest(store.User{}, enrID), wantStatus: 401, wantCode: "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Audit.Reset()
			resp := env.Serve(t, functionName, h.Handle, tt.req)
			if resp.StatusCode != tt.wantStatus || apigwtest.DecodeError(t, resp).Code != tt.wantCode {
				t.Fatalf("status = %d, want %d %s: %s", resp.StatusCode, tt.wantStatus, tt.wantCode, resp.Body)
			}
			if got := len(env.Denials()) == 1; got != tt.denied {
				t.Fatalf("denials = %+v", env.Denials())
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/"+functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			env := enrollmenttest.New(t)
			h := newHandler(t, env)
			w := env.SampleWorld(t, 3)
			env.EnrollWithIDs(t, w, w.Interns[0], enrollmenttest.SampleApplication, enrollmenttest.SampleEnrollment)
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, enrollmenttest.SampleEnrollment) {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
