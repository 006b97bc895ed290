package main

import (
	"encoding/json/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
)

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	l, err := account.NewSessionLister(env.Store)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(l)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestListSessions(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	u := env.User(t)
	other := env.User(t)

	expired := env.Session(t, u.ID)
	env.Clock.Advance(8 * 24 * time.Hour) // past the first session's lifetime
	oldest := env.Session(t, u.ID)
	env.Clock.Advance(time.Minute)
	revoked := env.Session(t, u.ID)
	if err := env.Store.RevokeSession(accounttest.Ctx(t), u.ID, revoked.ID, "logout"); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	current := env.Session(t, u.ID)
	env.Clock.Advance(time.Minute)
	newest := env.Session(t, u.ID)
	othersSession := env.Session(t, other.ID)

	lonely := env.User(t)

	tests := []struct {
		name       string
		principal  *apigw.Principal
		query      map[string]string
		body       string
		wantStatus int
		wantCode   string
		wantIDs    []string
		wantBody   string
	}{
		{name: "live sessions newest first", principal: ptr(accounttest.Principal(u, current.ID)), wantStatus: 200,
			wantIDs: []string{newest.ID, current.ID, oldest.ID}},
		{name: "no sessions", principal: ptr(accounttest.Principal(lonely, ids.New(ids.Session))), wantStatus: 200,
			wantBody: `{"sessions":[]}`},
		{name: "no principal", wantStatus: 401, wantCode: "unauthorized"},
		{name: "unknown query parameter", principal: ptr(accounttest.Principal(u, current.ID)), query: map[string]string{"userId": other.ID},
			wantStatus: 400, wantCode: "validation_failed"},
		{name: "body refused", principal: ptr(accounttest.Principal(u, current.ID)), body: `{}`, wantStatus: 400, wantCode: "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodGet, "/v1/me/sessions", tt.body)
			if tt.principal != nil {
				req = apigwtest.WithPrincipal(req, *tt.principal)
			}
			req.QueryStringParameters = tt.query
			resp := env.Serve(t, functionName, h.Handle, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				if got := apigwtest.DecodeError(t, resp).Code; got != tt.wantCode {
					t.Fatalf("code = %q, want %q", got, tt.wantCode)
				}
				return
			}
			if tt.wantBody != "" && resp.Body != tt.wantBody {
				t.Fatalf("body = %s, want %s", resp.Body, tt.wantBody)
			}
			var list account.SessionList
			if err := json.Unmarshal([]byte(resp.Body), &list, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			if len(list.Sessions) != len(tt.wantIDs) {
				t.Fatalf("sessions = %+v, want %v", list.Sessions, tt.wantIDs)
			}
			for i, s := range list.Sessions {
				if s.ID != tt.wantIDs[i] {
					t.Fatalf("session %d = %s, want %s", i, s.ID, tt.wantIDs[i])
				}
				if s.Current != (s.ID == current.ID) {
					t.Fatalf("session %s current = %v", s.ID, s.Current)
				}
				if s.UserAgent == "" || s.SourceIP == "" || !s.ExpiresAt.After(env.Clock.Now()) || s.CreatedAt.IsZero() || s.LastSeenAt.IsZero() {
					t.Fatalf("session view = %+v", s)
				}
			}
			for _, leak := range []string{expired.ID, revoked.ID, othersSession.ID, "refresh", "SESSION#", other.ID} {
				if strings.Contains(resp.Body, leak) {
					t.Fatalf("body contains %q: %s", leak, resp.Body)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSampleEvents(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/me-sessions-list") {
		t.Run(ev.Name, func(t *testing.T) {
			p, err := apigw.PrincipalFrom(ev.Request)
			if err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			if _, err := env.Store.GetUser(accounttest.Ctx(t), p.UserID); err != nil {
				env.User(t, accounttest.WithID(p.UserID))
				env.SessionWithID(t, p.UserID, p.SessionID)
			}
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
			if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"current":true`) {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
