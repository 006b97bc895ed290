package main

import (
	"encoding/json/v2"
	"net/http"
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
	h, err := NewHandler(env.Lister(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mineRequest(who store.User, query map[string]string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodGet, "/v1/me/applications", "")
	req.QueryStringParameters = query
	if who.ID != "" {
		req = apigwtest.WithPrincipal(req, enrollmenttest.Principal(who))
	}
	return req
}

func decodeList(t *testing.T, body string) enrollment.ApplicationList {
	t.Helper()
	var l enrollment.ApplicationList
	if err := json.Unmarshal([]byte(body), &l, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return l
}

func TestMyApplications(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w1 := env.World(t, 3, 2)
	w2 := env.World(t, 3, 0)
	intern := w1.Interns[0]
	older := env.Apply(t, w1, intern)
	env.Clock.Advance(time.Second)
	newer := env.Apply(t, w2, intern)
	env.Apply(t, w1, w1.Interns[1]) // someone else's

	first := env.Serve(t, functionName, h.Handle, mineRequest(intern, map[string]string{"limit": "1"}))
	p1 := decodeList(t, first.Body)
	if first.StatusCode != 200 || len(p1.Items) != 1 || p1.Items[0].ID != newer.ID || p1.NextCursor == "" {
		t.Fatalf("first page: %d %s", first.StatusCode, first.Body)
	}
	second := env.Serve(t, functionName, h.Handle, mineRequest(intern, map[string]string{"limit": "1", "cursor": p1.NextCursor}))
	p2 := decodeList(t, second.Body)
	if second.StatusCode != 200 || len(p2.Items) != 1 || p2.Items[0].ID != older.ID || p2.NextCursor != "" {
		t.Fatalf("second page: %d %s", second.StatusCode, second.Body)
	}

	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		denied     bool
	}{
		{name: "another intern's cursor", req: mineRequest(w1.Interns[1], map[string]string{"cursor": p1.NextCursor}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "garbage cursor", req: mineRequest(intern, map[string]string{"cursor": "eyJhIjoiYiJ9"}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "limit out of range", req: mineRequest(intern, map[string]string{"limit": "100"}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "unknown parameter", req: mineRequest(intern, map[string]string{"internId": w1.Interns[1].ID}), wantStatus: 400, wantCode: "validation_failed"},
		{name: "no principal", req: mineRequest(store.User{}, nil), wantStatus: 401, wantCode: "unauthorized"},
		{name: "mentor has no applications", req: mineRequest(w1.Mentor, nil), wantStatus: 403, wantCode: "forbidden", denied: true},
		{name: "org admin has no applications", req: mineRequest(w1.Admin, nil), wantStatus: 403, wantCode: "forbidden", denied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Audit.Reset()
			resp := env.Serve(t, functionName, h.Handle, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if code := apigwtest.DecodeError(t, resp).Code; code != tt.wantCode {
				t.Fatalf("code = %q, want %q", code, tt.wantCode)
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
			env.Apply(t, w, w.Interns[0])
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != 200 || len(decodeList(t, resp.Body).Items) != 1 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
