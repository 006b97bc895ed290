package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/enrollment/enrollmenttest"
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

func mineRequest(who store.User, query map[string]string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodGet, "/v1/me/enrollments", "")
	req.QueryStringParameters = query
	if who.ID != "" {
		req = apigwtest.WithPrincipal(req, enrollmenttest.Principal(who))
	}
	return req
}

func decodeList(t *testing.T, body string) enrollment.EnrollmentList {
	t.Helper()
	var l enrollment.EnrollmentList
	if err := json.Unmarshal([]byte(body), &l, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return l
}

func TestMyEnrollments(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 5, 3)
	var enrs []string
	for _, in := range w.Interns {
		enrs = append(enrs, env.Enroll(t, w, in).EnrollmentID)
		env.Clock.Advance(time.Millisecond)
	}
	env.SetTask(t, enrs[0], w.Tasks[0].ID, store.TaskAccepted, 1)

	intern := env.Serve(t, functionName, h.Handle, mineRequest(w.Interns[0], nil))
	l := decodeList(t, intern.Body)
	if intern.StatusCode != 200 || len(l.Items) != 1 || l.Items[0].ID != enrs[0] || l.Items[0].Progress.Percent != 50 ||
		len(l.Items[0].Tasks) != 3 || l.Items[0].Tasks[0].Status != "accepted" || l.Items[0].Tasks[0].Title == "" {
		t.Fatalf("intern listing: %d %s", intern.StatusCode, intern.Body)
	}
	for _, leak := range []string{"ENR#", "GSI", "orgId", "applicationId"} {
		if strings.Contains(intern.Body, leak) {
			t.Fatalf("body leaks %q: %s", leak, intern.Body)
		}
	}

	var got []string
	cur := ""
	for page := 0; page < 5; page++ {
		q := map[string]string{"limit": "2"}
		if cur != "" {
			q["cursor"] = cur
		}
		resp := env.Serve(t, functionName, h.Handle, mineRequest(w.Mentor, q))
		if resp.StatusCode != 200 {
			t.Fatalf("mentor page: %d %s", resp.StatusCode, resp.Body)
		}
		pl := decodeList(t, resp.Body)
		for _, v := range pl.Items {
			got = append(got, v.ID)
		}
		if cur = pl.NextCursor; cur == "" {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join([]string{enrs[2], enrs[1], enrs[0]}, ",") {
		t.Fatalf("mentor listing %v, want newest first of %v", got, enrs)
	}

	first := decodeList(t, env.Serve(t, functionName, h.Handle, mineRequest(w.Mentor, map[string]string{"limit": "1"})).Body)
	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		denied     bool
	}{
		{name: "intern replays the mentor's cursor", req: mineRequest(w.Interns[0], map[string]string{"cursor": first.NextCursor}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "tampered cursor", req: mineRequest(w.Mentor, map[string]string{"cursor": first.NextCursor[:len(first.NextCursor)-2] + "AA"}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "limit zero", req: mineRequest(w.Mentor, map[string]string{"limit": "0"}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "unknown parameter", req: mineRequest(w.Mentor, map[string]string{"mentorId": w.Mentor.ID}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "no principal", req: mineRequest(store.User{}, nil), wantStatus: 401, wantCode: "unauthorized"},
		{name: "org admin", req: mineRequest(w.Admin, nil), wantStatus: 403, wantCode: "forbidden", denied: true},
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
			if l := decodeList(t, resp.Body); resp.StatusCode != 200 || len(l.Items) != 1 || l.Items[0].ID != enrollmenttest.SampleEnrollment {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
