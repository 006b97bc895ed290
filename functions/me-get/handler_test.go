package main

import (
	"encoding/json/v2"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
)

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	p, err := account.NewProfiles(env.Store)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGetMe(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	intern := env.User(t)
	mentor := env.User(t, accounttest.Role(apigw.RoleMentor))
	admin := env.Admin(t)
	sid := ids.New(ids.Session)
	ghost := apigw.Principal{UserID: ids.New(ids.User), Role: apigw.RoleIntern, SessionID: sid}

	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantKeys   []string
		wantOrg    string
		wantMFA    bool
		wantID     string
	}{
		{name: "intern", req: accounttest.Request(http.MethodGet, "/v1/me", "", accounttest.Principal(intern, sid)),
			wantStatus: 200, wantID: intern.ID,
			wantKeys: []string{"createdAt", "displayName", "email", "id", "mfaEnabled", "role", "status", "version"}},
		{name: "mentor has org", req: accounttest.Request(http.MethodGet, "/v1/me", "", accounttest.Principal(mentor, sid)),
			wantStatus: 200, wantID: mentor.ID, wantOrg: mentor.OrgID,
			wantKeys: []string{"createdAt", "displayName", "email", "id", "mfaEnabled", "orgId", "role", "status", "version"}},
		{name: "admin with mfa", req: accounttest.Request(http.MethodGet, "/v1/me", "", accounttest.Principal(admin, sid)),
			wantStatus: 200, wantID: admin.ID, wantMFA: true,
			wantKeys: []string{"createdAt", "displayName", "email", "id", "mfaEnabled", "role", "status", "version"}},
		{name: "user gone", req: accounttest.Request(http.MethodGet, "/v1/me", "", ghost), wantStatus: 401, wantCode: "unauthorized"},
		{name: "no principal", req: apigwtest.NewRequest(http.MethodGet, "/v1/me", ""), wantStatus: 401, wantCode: "unauthorized"},
		{name: "unknown query parameter", req: withQuery(accounttest.Request(http.MethodGet, "/v1/me", "", accounttest.Principal(intern, sid)), "fields", "passwordHash"),
			wantStatus: 400, wantCode: "validation_failed"},
		{name: "body refused", req: accounttest.Request(http.MethodGet, "/v1/me", `{"id":"x"}`, accounttest.Principal(intern, sid)),
			wantStatus: 400, wantCode: "bad_request"},
		{name: "wrong method", req: accounttest.Request(http.MethodPost, "/v1/me", "", accounttest.Principal(intern, sid)),
			wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := env.Serve(t, functionName, h.Handle, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				if got := apigwtest.DecodeError(t, resp).Code; got != tt.wantCode {
					t.Fatalf("code = %q, want %q", got, tt.wantCode)
				}
				return
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(body)); !slices.Equal(got, tt.wantKeys) {
				t.Fatalf("members = %v, want %v", got, tt.wantKeys)
			}
			var me account.Me
			if err := json.Unmarshal([]byte(resp.Body), &me, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if me.ID != tt.wantID || me.OrgID != tt.wantOrg || me.MFAEnabled != tt.wantMFA || me.Status != "active" ||
				me.Version < 1 || !me.CreatedAt.Equal(accounttest.Base) || !strings.HasSuffix(me.Email, "@example.com") {
				t.Fatalf("profile = %+v", me)
			}
			if resp.Headers["Etag"] != me.ETag() {
				t.Fatalf("ETag = %q, want %q", resp.Headers["Etag"], me.ETag())
			}
			for _, secret := range []string{"argon2", "passwordHash", "mfaSecret", "USER#"} {
				if strings.Contains(resp.Body, secret) {
					t.Fatalf("profile leaks %q: %s", secret, resp.Body)
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, body["createdAt"].(string)); err != nil {
				t.Fatalf("createdAt is not RFC 3339: %v", err)
			}
		})
	}
}

func withQuery(req events.APIGatewayProxyRequest, k, v string) events.APIGatewayProxyRequest {
	req.QueryStringParameters = map[string]string{k: v}
	return req
}

func TestSampleEvents(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/me-get") {
		t.Run(ev.Name, func(t *testing.T) {
			p, err := apigw.PrincipalFrom(ev.Request)
			if err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			if _, err := env.Store.GetUser(accounttest.Ctx(t), p.UserID); err != nil {
				env.User(t, accounttest.WithID(p.UserID))
			}
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
