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
	"github.com/vip-platform/backend/shared/ids"
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

func listRequest(who store.User, programID string, query map[string]string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodGet, "/v1/programs/"+programID+"/applications", "")
	req.Resource = "/v1/programs/{programId}/applications"
	req.PathParameters = map[string]string{"programId": programID}
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

func TestListApplications(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 3, 3)
	var apps []string
	for _, in := range w.Interns {
		apps = append(apps, env.Apply(t, w, in).ID)
		env.Clock.Advance(time.Millisecond)
	}
	first := env.Serve(t, functionName, h.Handle, listRequest(w.Admin, w.Program.ID, map[string]string{"limit": "2"}))
	if first.StatusCode != 200 {
		t.Fatalf("first page: %d %s", first.StatusCode, first.Body)
	}
	page1 := decodeList(t, first.Body)
	if len(page1.Items) != 2 || page1.Items[0].ID != apps[0] || page1.Items[1].ID != apps[1] || page1.NextCursor == "" {
		t.Fatalf("first page = %+v", page1)
	}
	for _, leak := range []string{"PROGRAM#", "APP#", "GSI1", "orgId"} {
		if strings.Contains(first.Body, leak) {
			t.Fatalf("body leaks %q: %s", leak, first.Body)
		}
	}
	second := env.Serve(t, functionName, h.Handle, listRequest(w.Admin, w.Program.ID, map[string]string{"limit": "2", "cursor": page1.NextCursor}))
	page2 := decodeList(t, second.Body)
	if second.StatusCode != 200 || len(page2.Items) != 1 || page2.Items[0].ID != apps[2] || page2.NextCursor != "" {
		t.Fatalf("second page = %d %+v", second.StatusCode, page2)
	}
	tampered := []byte(page1.NextCursor)
	tampered[5] ^= 2

	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantField  string
		denied     bool
		wantItems  int
	}{
		{name: "pending only", req: listRequest(w.Admin, w.Program.ID, map[string]string{"status": "pending"}), wantStatus: 200, wantItems: 3},
		{name: "none accepted", req: listRequest(w.Admin, w.Program.ID, map[string]string{"status": "accepted"}), wantStatus: 200, wantItems: 0},
		{name: "tampered cursor", req: listRequest(w.Admin, w.Program.ID, map[string]string{"cursor": string(tampered)}), wantStatus: 400, wantCode: "validation_failed", wantField: "cursor"},
		{name: "cursor of another filter", req: listRequest(w.Admin, w.Program.ID, map[string]string{"limit": "2", "status": "pending", "cursor": page1.NextCursor}), wantStatus: 400, wantCode: "validation_failed", wantField: "cursor"},
		{name: "oversize cursor", req: listRequest(w.Admin, w.Program.ID, map[string]string{"cursor": strings.Repeat("A", 2000)}), wantStatus: 400, wantCode: "validation_failed", wantField: "cursor"},
		{name: "limit zero", req: listRequest(w.Admin, w.Program.ID, map[string]string{"limit": "0"}), wantStatus: 400, wantCode: "validation_failed", wantField: "limit"},
		{name: "limit too large", req: listRequest(w.Admin, w.Program.ID, map[string]string{"limit": "51"}), wantStatus: 400, wantCode: "validation_failed", wantField: "limit"},
		{name: "limit not a number", req: listRequest(w.Admin, w.Program.ID, map[string]string{"limit": "ten"}), wantStatus: 400, wantCode: "validation_failed", wantField: "limit"},
		{name: "unknown status", req: listRequest(w.Admin, w.Program.ID, map[string]string{"status": "done"}), wantStatus: 400, wantCode: "validation_failed", wantField: "status"},
		{name: "unknown parameter", req: listRequest(w.Admin, w.Program.ID, map[string]string{"orgId": w.Org}), wantStatus: 400, wantCode: "validation_failed", wantField: "orgId"},
		{name: "no principal", req: listRequest(store.User{}, w.Program.ID, nil), wantStatus: 401, wantCode: "unauthorized"},
		{name: "unknown program", req: listRequest(w.Admin, ids.New(ids.Program), nil), wantStatus: 404, wantCode: "not_found"},
		{name: "org admin of another org", req: listRequest(w.Outsider, w.Program.ID, nil), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "mentor of the org", req: listRequest(w.Mentor, w.Program.ID, nil), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "an applicant", req: listRequest(w.Interns[0], w.Program.ID, nil), wantStatus: 404, wantCode: "not_found", denied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Audit.Reset()
			resp := env.Serve(t, functionName, h.Handle, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if got := len(env.Denials()) == 1; got != tt.denied {
				t.Fatalf("denials = %+v", env.Denials())
			}
			if tt.wantCode != "" {
				body := apigwtest.DecodeError(t, resp)
				if body.Code != tt.wantCode || (tt.wantField != "" && (len(body.Fields) == 0 || body.Fields[0].Field != tt.wantField)) {
					t.Fatalf("error = %+v, want %s on %s", body, tt.wantCode, tt.wantField)
				}
				return
			}
			if l := decodeList(t, resp.Body); len(l.Items) != tt.wantItems {
				t.Fatalf("items = %+v, want %d", l.Items, tt.wantItems)
			}
		})
	}
	t.Run("body refused", func(t *testing.T) {
		req := listRequest(w.Admin, w.Program.ID, nil)
		req.Body = `{"status":"pending"}`
		if resp := env.Serve(t, functionName, h.Handle, req); resp.StatusCode != 400 {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	})
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
