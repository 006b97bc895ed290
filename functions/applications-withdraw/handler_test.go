package main

import (
	"encoding/json/v2"
	"net/http"
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
	h, err := NewHandler(env.Withdrawer(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func withdrawRequest(who store.User, appID, ifMatch string) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(http.MethodPost, "/v1/applications/"+appID+"/withdraw", "")
	req.Resource = "/v1/applications/{applicationId}/withdraw"
	req.PathParameters = map[string]string{"applicationId": appID}
	if ifMatch != "" {
		req.Headers["If-Match"] = ifMatch
	}
	if who.ID != "" {
		req = apigwtest.WithPrincipal(req, enrollmenttest.Principal(who))
	}
	return req
}

func TestWithdraw(t *testing.T) {
	env := enrollmenttest.New(t)
	h := newHandler(t, env)
	w := env.World(t, 3, 2)
	intern, other := w.Interns[0], w.Interns[1]
	app := env.Apply(t, w, intern)
	withBody := withdrawRequest(intern, app.ID, `"1"`)
	withBody.Body = `{"status":"accepted"}`
	twice := withdrawRequest(intern, app.ID, "")
	twice.MultiValueHeaders = map[string][]string{"If-Match": {`"1"`, `"2"`}}

	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		denied     bool
	}{
		{name: "no If-Match", req: withdrawRequest(intern, app.ID, ""), wantStatus: 428, wantCode: "precondition_required"},
		{name: "stale If-Match", req: withdrawRequest(intern, app.ID, `"2"`), wantStatus: 412, wantCode: "precondition_failed"},
		{name: "wildcard If-Match", req: withdrawRequest(intern, app.ID, "*"), wantStatus: 400, wantCode: "validation_failed"},
		{name: "weak If-Match", req: withdrawRequest(intern, app.ID, `W/"1"`), wantStatus: 400, wantCode: "validation_failed"},
		{name: "If-Match twice", req: twice, wantStatus: 400, wantCode: "validation_failed"},
		{name: "body refused", req: withBody, wantStatus: 400, wantCode: "bad_request"},
		{name: "no principal", req: withdrawRequest(store.User{}, app.ID, `"1"`), wantStatus: 401, wantCode: "unauthorized"},
		{name: "malformed id", req: withdrawRequest(intern, "app_x", `"1"`), wantStatus: 404, wantCode: "not_found"},
		{name: "unknown application", req: withdrawRequest(intern, ids.New(ids.Application), `"1"`), wantStatus: 404, wantCode: "not_found"},
		{name: "another intern's application", req: withdrawRequest(other, app.ID, `"1"`), wantStatus: 404, wantCode: "not_found", denied: true},
		{name: "org admin", req: withdrawRequest(w.Admin, app.ID, `"1"`), wantStatus: 404, wantCode: "not_found", denied: true},
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
			if a, _ := env.Store.GetApplication(enrollmenttest.Ctx(t), app.ID); a.Status != "pending" {
				t.Fatalf("refused request changed the application: %+v", a)
			}
		})
	}

	resp := env.Serve(t, functionName, h.Handle, withdrawRequest(intern, app.ID, `"1"`))
	if resp.StatusCode != 200 || resp.Headers["Etag"] != `"2"` {
		t.Fatalf("withdraw: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var v enrollment.ApplicationView
	if err := json.Unmarshal([]byte(resp.Body), &v, json.RejectUnknownMembers(true)); err != nil || v.Status != "withdrawn" || v.Version != 2 {
		t.Fatalf("withdrawn = %+v, %v", v, err)
	}
	again := env.Serve(t, functionName, h.Handle, withdrawRequest(intern, app.ID, `"2"`))
	if again.StatusCode != http.StatusConflict {
		t.Fatalf("withdraw twice: %d %s", again.StatusCode, again.Body)
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
			want := map[string]int{"withdraw": 200, "withdraw-without-if-match": 428}[ev.Name]
			if want == 0 || resp.StatusCode != want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}
