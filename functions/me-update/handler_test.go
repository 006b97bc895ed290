package main

import (
	"context"
	"encoding/json/v2"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newHandler(t *testing.T, st account.ProfileStore, env *accounttest.Env) *Handler {
	t.Helper()
	u, err := account.NewProfileUpdater(st, env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(u)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// racingStore lets another writer update the profile between the
// handler's read and its write, as a concurrent request would.
type racingStore struct {
	*store.Store
}

func (r racingStore) SetProfile(ctx context.Context, userID, name string, version int64) (store.User, error) {
	if _, err := r.Store.SetProfile(ctx, userID, "Someone Else", version); err != nil {
		return store.User{}, err
	}
	return r.Store.SetProfile(ctx, userID, name, version)
}

func patch(body string, p apigw.Principal, headers map[string]string) events.APIGatewayProxyRequest {
	req := accounttest.Request(http.MethodPatch, "/v1/me", body, p)
	for k, v := range headers {
		req.Headers[k] = v
	}
	return req
}

func TestUpdateMe(t *testing.T) {
	type want struct {
		status  int
		code    string
		field   string // first failing field, for 400s
		name    string // stored display name afterwards
		version int64  // stored version afterwards
		audited bool
	}
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		race    bool
		noAuth  bool
		ghost   bool
		want    want
	}{
		{name: "change display name", body: `{"displayName":"Ada King"}`, want: want{status: 200, name: "Ada King", version: 2, audited: true}},
		{name: "80 characters of multi-byte text", body: `{"displayName":"` + strings.Repeat("é", 80) + `"}`, want: want{status: 200, name: strings.Repeat("é", 80), version: 2, audited: true}},
		{name: "unchanged name writes nothing", body: `{"displayName":"Ada Lovelace"}`, want: want{status: 200, name: "Ada Lovelace", version: 1}},
		{name: "If-Match current version", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `"1"`}, want: want{status: 200, name: "Ada King", version: 2, audited: true}},
		{name: "If-Match unquoted", body: `{"displayName":"Ada King"}`, headers: map[string]string{"if-match": `1`}, want: want{status: 200, name: "Ada King", version: 2, audited: true}},

		{name: "mass assignment role", body: `{"displayName":"Ada","role":"admin"}`, want: want{status: 400, code: "invalid_body", field: "role", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment status", body: `{"displayName":"Ada","status":"active"}`, want: want{status: 400, code: "invalid_body", field: "status", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment email", body: `{"email":"boss@example.com","displayName":"Ada"}`, want: want{status: 400, code: "invalid_body", field: "email", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment orgId", body: `{"displayName":"Ada","orgId":"` + ids.New(ids.Org) + `"}`, want: want{status: 400, code: "invalid_body", field: "orgId", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment id", body: `{"displayName":"Ada","id":"` + ids.New(ids.User) + `"}`, want: want{status: 400, code: "invalid_body", field: "id", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment mfaEnabled", body: `{"displayName":"Ada","mfaEnabled":true}`, want: want{status: 400, code: "invalid_body", field: "mfaEnabled", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment version", body: `{"displayName":"Ada","version":7}`, want: want{status: 400, code: "invalid_body", field: "version", name: "Ada Lovelace", version: 1}},
		{name: "mass assignment passwordHash", body: `{"displayName":"Ada","passwordHash":"x"}`, want: want{status: 400, code: "invalid_body", field: "passwordHash", name: "Ada Lovelace", version: 1}},
		{name: "case-mismatched name", body: `{"DisplayName":"Ada"}`, want: want{status: 400, code: "invalid_body", field: "DisplayName", name: "Ada Lovelace", version: 1}},
		{name: "duplicate member", body: `{"displayName":"Ada","displayName":"Eve"}`, want: want{status: 400, code: "invalid_body", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "wrong type", body: `{"displayName":5}`, want: want{status: 400, code: "invalid_body", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "null", body: `{"displayName":null}`, want: want{status: 400, code: "invalid_body", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "not an object", body: `["Ada"]`, want: want{status: 400, code: "invalid_body", name: "Ada Lovelace", version: 1}},

		{name: "empty object", body: `{}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "empty name", body: `{"displayName":""}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "blank name", body: `{"displayName":"   "}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "81 characters", body: `{"displayName":"` + strings.Repeat("a", 81) + `"}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "control character", body: `{"displayName":"Ada\u0007"}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "line break", body: `{"displayName":"Ada\nKing"}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "bidi override", body: `{"displayName":"Ada\u202eKing"}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},
		{name: "surrounding space", body: `{"displayName":" Ada"}`, want: want{status: 400, code: "validation_failed", field: "displayName", name: "Ada Lovelace", version: 1}},

		{name: "If-Match stale", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `"7"`}, want: want{status: 412, code: "precondition_failed", name: "Ada Lovelace", version: 1}},
		{name: "If-Match wildcard", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `*`}, want: want{status: 400, code: "validation_failed", field: "If-Match", name: "Ada Lovelace", version: 1}},
		{name: "If-Match weak", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `W/"1"`}, want: want{status: 400, code: "validation_failed", field: "If-Match", name: "Ada Lovelace", version: 1}},
		{name: "If-Match list", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `"1", "2"`}, want: want{status: 400, code: "validation_failed", field: "If-Match", name: "Ada Lovelace", version: 1}},
		{name: "If-Match zero", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `"0"`}, want: want{status: 400, code: "validation_failed", field: "If-Match", name: "Ada Lovelace", version: 1}},
		{name: "If-Match empty", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": ``}, want: want{status: 400, code: "validation_failed", field: "If-Match", name: "Ada Lovelace", version: 1}},
		{name: "If-Match overflow", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `"99999999999999999999"`}, want: want{status: 400, code: "validation_failed", field: "If-Match", name: "Ada Lovelace", version: 1}},

		{name: "concurrent write without If-Match", body: `{"displayName":"Ada King"}`, race: true, want: want{status: 409, code: "conflict", name: "Someone Else", version: 2}},
		{name: "concurrent write with If-Match", body: `{"displayName":"Ada King"}`, headers: map[string]string{"If-Match": `"1"`}, race: true, want: want{status: 412, code: "precondition_failed", name: "Someone Else", version: 2}},

		{name: "no content type", body: `{"displayName":"Ada King"}`, headers: map[string]string{"Content-Type": "text/plain"}, want: want{status: 415, code: "unsupported_media_type", name: "Ada Lovelace", version: 1}},
		{name: "no principal", body: `{"displayName":"Ada King"}`, noAuth: true, want: want{status: 401, code: "unauthorized", name: "Ada Lovelace", version: 1}},
		{name: "user gone", body: `{"displayName":"Ada King"}`, ghost: true, want: want{status: 401, code: "unauthorized", name: "Ada Lovelace", version: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			u := env.User(t)
			var st account.ProfileStore = env.Store
			if tt.race {
				st = racingStore{env.Store}
			}
			h := newHandler(t, st, env)
			p := accounttest.Principal(u, ids.New(ids.Session))
			if tt.ghost {
				p.UserID = ids.New(ids.User)
			}
			req := patch(tt.body, p, tt.headers)
			if tt.noAuth {
				req.RequestContext.Authorizer = nil
			}
			resp := env.Serve(t, functionName, h.Handle, req)
			if resp.StatusCode != tt.want.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.want.status, resp.Body)
			}
			if tt.want.code != "" {
				eb := apigwtest.DecodeError(t, resp)
				if eb.Code != tt.want.code {
					t.Fatalf("code = %q, want %q (%s)", eb.Code, tt.want.code, resp.Body)
				}
				if tt.want.field != "" && (len(eb.Fields) == 0 || eb.Fields[0].Field != tt.want.field) {
					t.Fatalf("fields = %+v, want %s first", eb.Fields, tt.want.field)
				}
			} else {
				var me account.Me
				if err := json.Unmarshal([]byte(resp.Body), &me, json.RejectUnknownMembers(true)); err != nil {
					t.Fatal(err)
				}
				if me.DisplayName != tt.want.name || me.Version != tt.want.version || resp.Headers["Etag"] != me.ETag() {
					t.Fatalf("answer = %+v, ETag %q", me, resp.Headers["Etag"])
				}
			}
			got, err := env.Store.GetUser(accounttest.Ctx(t), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.DisplayName != tt.want.name || got.Version != tt.want.version || got.Role != u.Role || got.Status != u.Status || got.Email != u.Email {
				t.Fatalf("stored user = %+v, want name %q version %d and nothing else changed", got, tt.want.name, tt.want.version)
			}
			entries := env.Audit.Find(account.ActionProfileUpdated)
			if tt.want.audited != (len(entries) == 1) || len(env.Audit.Entries()) != len(entries) {
				t.Fatalf("audit = %+v, want audited=%v", env.Audit.Entries(), tt.want.audited)
			}
			if tt.want.audited {
				e := entries[0]
				if e.Actor != u.ID || e.Target != u.ID || e.ActorRole != u.Role || e.Outcome != "success" ||
					e.RequestID != apigwtest.RequestID || e.SourceIP == "" || e.Details["fields"] != "displayName" {
					t.Fatalf("audit entry = %+v", e)
				}
			}
		})
	}
}

func TestUpdateMeMultipleIfMatchRefused(t *testing.T) {
	env := accounttest.New(t)
	u := env.User(t)
	h := newHandler(t, env.Store, env)
	req := patch(`{"displayName":"Ada King"}`, accounttest.Principal(u, ids.New(ids.Session)), nil)
	// apigw.Header ignores a header given twice; an ignored If-Match would
	// make the update unconditional, so it must be refused instead.
	req.MultiValueHeaders = map[string][]string{"If-Match": {`"9"`, `"1"`}}
	resp := env.Serve(t, functionName, h.Handle, req)
	if resp.StatusCode != 400 {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
	if got, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID); got.Version != 1 {
		t.Fatalf("updated despite an ambiguous If-Match: %+v", got)
	}
}

func TestUpdateMeAuditFailure(t *testing.T) {
	env := accounttest.New(t)
	u := env.User(t)
	h := newHandler(t, env.Store, env)
	env.Audit.FailWith(errors.New("audit table unavailable"))
	resp := env.Serve(t, functionName, h.Handle, patch(`{"displayName":"Ada King"}`, accounttest.Principal(u, ids.New(ids.Session)), nil))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "audit table") {
		t.Fatalf("status = %d, body %s; want a bare 500", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(env.Logs.String(), "audit table unavailable") {
		t.Fatalf("cause not logged: %s", env.Logs.String())
	}
}

func TestSampleEvents(t *testing.T) {
	wantStatus := map[string]int{"update-display-name": 200, "update-if-match": 200, "mass-assignment-role": 400}
	for _, ev := range apigwtest.LoadProxyEvents(t, "../../events/me-update") {
		t.Run(ev.Name, func(t *testing.T) {
			env := accounttest.New(t)
			h := newHandler(t, env.Store, env)
			p, err := apigw.PrincipalFrom(ev.Request)
			if err != nil {
				t.Fatalf("sample principal: %v", err)
			}
			env.User(t, accounttest.WithID(p.UserID))
			resp := env.Serve(t, functionName, h.Handle, ev.Request)
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
