package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	r, err := account.NewSessionRevoker(env.Store, env.Audit, env.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func deleteReq(p apigw.Principal, sessionID string) events.APIGatewayProxyRequest {
	req := accounttest.Request(http.MethodDelete, "/v1/me/sessions/"+sessionID, "", p)
	req.Resource = "/v1/me/sessions/{sessionId}"
	req.PathParameters = map[string]string{"sessionId": sessionID}
	return req
}

func TestRevokeSession(t *testing.T) {
	type fixture struct {
		env     *accounttest.Env
		user    store.User
		current store.Session
		other   store.Session // another live session of user
		victim  store.Session // a session of another user
	}
	tests := []struct {
		name        string
		req         func(t *testing.T, f fixture) events.APIGatewayProxyRequest
		wantStatus  int
		wantCode    string
		wantRevoked func(f fixture) []store.Session // sessions that must no longer be live
		wantLive    func(f fixture) []store.Session
		wantCurrent string // audited "current" detail, "" for no audit
	}{
		{name: "another own session", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			return deleteReq(accounttest.Principal(f.user, f.current.ID), f.other.ID)
		}, wantStatus: 204,
			wantRevoked: func(f fixture) []store.Session { return []store.Session{f.other} },
			wantLive:    func(f fixture) []store.Session { return []store.Session{f.current, f.victim} },
			wantCurrent: "false"},
		{name: "the current session", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			return deleteReq(accounttest.Principal(f.user, f.current.ID), f.current.ID)
		}, wantStatus: 204,
			wantRevoked: func(f fixture) []store.Session { return []store.Session{f.current} },
			wantLive:    func(f fixture) []store.Session { return []store.Session{f.other, f.victim} },
			wantCurrent: "true"},
		{name: "another user's session is not found", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			return deleteReq(accounttest.Principal(f.user, f.current.ID), f.victim.ID)
		}, wantStatus: 404, wantCode: "not_found",
			wantLive: func(f fixture) []store.Session { return []store.Session{f.current, f.other, f.victim} }},
		{name: "unknown session", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			return deleteReq(accounttest.Principal(f.user, f.current.ID), ids.New(ids.Session))
		}, wantStatus: 404, wantCode: "not_found",
			wantLive: func(f fixture) []store.Session { return []store.Session{f.current, f.other} }},
		{name: "already revoked", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			if err := f.env.Store.RevokeSession(accounttest.Ctx(t), f.user.ID, f.other.ID, "logout"); err != nil {
				t.Fatal(err)
			}
			return deleteReq(accounttest.Principal(f.user, f.current.ID), f.other.ID)
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "malformed id", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			return deleteReq(accounttest.Principal(f.user, f.current.ID), "ses_not-an-id")
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "user id in place of a session id", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			return deleteReq(accounttest.Principal(f.user, f.current.ID), f.user.ID)
		}, wantStatus: 404, wantCode: "not_found"},
		{name: "no path parameter", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			req := deleteReq(accounttest.Principal(f.user, f.current.ID), f.other.ID)
			req.PathParameters = nil
			return req
		}, wantStatus: 404, wantCode: "not_found",
			wantLive: func(f fixture) []store.Session { return []store.Session{f.other} }},
		{name: "no principal", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			req := deleteReq(accounttest.Principal(f.user, f.current.ID), f.other.ID)
			req.RequestContext.Authorizer = nil
			return req
		}, wantStatus: 401, wantCode: "unauthorized",
			wantLive: func(f fixture) []store.Session { return []store.Session{f.other} }},
		{name: "wrong method", req: func(t *testing.T, f fixture) events.APIGatewayProxyRequest {
			req := deleteReq(accounttest.Principal(f.user, f.current.ID), f.other.ID)
			req.HTTPMethod = http.MethodPost
			return req
		}, wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			u := env.User(t)
			victimUser := env.User(t)
			f := fixture{env: env, user: u, current: env.Session(t, u.ID), other: env.Session(t, u.ID), victim: env.Session(t, victimUser.ID)}
			h := newHandler(t, env)
			resp := env.Serve(t, functionName, h.Handle, tt.req(t, f))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				if got := apigwtest.DecodeError(t, resp).Code; got != tt.wantCode {
					t.Fatalf("code = %q, want %q", got, tt.wantCode)
				}
			} else if resp.Body != "" {
				t.Fatalf("204 with a body: %q", resp.Body)
			}
			now := env.Clock.Now()
			check := func(list func(fixture) []store.Session, wantLive bool) {
				if list == nil {
					return
				}
				for _, s := range list(f) {
					got, err := env.Store.GetSession(accounttest.Ctx(t), s.UserID, s.ID)
					if err != nil {
						t.Fatal(err)
					}
					if got.Live(now) != wantLive {
						t.Fatalf("session %s live = %v, want %v", s.ID, got.Live(now), wantLive)
					}
					if !wantLive && got.RevokedReason != account.ReasonUserRevoked {
						t.Fatalf("revoked reason = %q", got.RevokedReason)
					}
				}
			}
			check(tt.wantRevoked, false)
			check(tt.wantLive, true)
			entries := env.Audit.Find(account.ActionSessionRevoked)
			if tt.wantCurrent == "" {
				if len(env.Audit.Entries()) != 0 {
					t.Fatalf("audited %+v", env.Audit.Entries())
				}
				return
			}
			if len(entries) != 1 {
				t.Fatalf("audit = %+v", env.Audit.Entries())
			}
			e := entries[0]
			if e.Actor != u.ID || e.Outcome != "success" || e.Details["current"] != tt.wantCurrent ||
				e.RequestID != apigwtest.RequestID || e.SourceIP == "" || !strings.HasPrefix(e.Target, "ses_") {
				t.Fatalf("audit entry = %+v", e)
			}
		})
	}
}

func TestRevokeExpiredSession(t *testing.T) {
	env := accounttest.New(t)
	u := env.User(t)
	old := env.Session(t, u.ID)
	env.Clock.Advance(8 * 24 * time.Hour)
	current := env.Session(t, u.ID)
	resp := env.Serve(t, functionName, newHandler(t, env).Handle, deleteReq(accounttest.Principal(u, current.ID), old.ID))
	if resp.StatusCode != 404 {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
}

func TestRevokeAuditFailure(t *testing.T) {
	env := accounttest.New(t)
	u := env.User(t)
	s := env.Session(t, u.ID)
	env.Audit.FailWith(errors.New("audit table unavailable"))
	resp := env.Serve(t, functionName, newHandler(t, env).Handle, deleteReq(accounttest.Principal(u, s.ID), s.ID))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "audit") {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
}

func TestSampleEvents(t *testing.T) {
	wantStatus := map[string]int{"revoke": 204, "revoke-unknown": 404}
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/me-sessions-revoke") {
		t.Run(ev.Name, func(t *testing.T) {
			env := accounttest.New(t)
			p, err := apigw.PrincipalFrom(ev.Request)
			if err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			env.User(t, accounttest.WithID(p.UserID))
			env.SessionWithID(t, p.UserID, p.SessionID)
			if ev.Name == "revoke" {
				env.SessionWithID(t, p.UserID, ev.Request.PathParameters["sessionId"])
			}
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, ev.Request)
			want, ok := wantStatus[ev.Name]
			if !ok {
				t.Fatalf("no expected status for sample %s", ev.Name)
			}
			if resp.StatusCode != want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}
