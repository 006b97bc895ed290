package main

import (
	"context"
	"encoding/json/v2"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

const reason = "Repeated abusive messages, ticket SUP-1042"

func newHandler(t *testing.T, env *accounttest.Env, st account.AdminStore) *Handler {
	t.Helper()
	a, err := account.NewAdmin(st, env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(a, env.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func invoke(t *testing.T, h *Handler, payload string) (account.SuspendResult, error) {
	t.Helper()
	ctx := lambdacontext.NewContext(accounttest.Ctx(t), &lambdacontext.LambdaContext{AwsRequestID: "cli-request-2"})
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(payload))
	if err != nil {
		return account.SuspendResult{}, err
	}
	var r account.SuspendResult
	if err := json.Unmarshal(out, &r, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return r, nil
}

func payload(actor, user, why string) string {
	b, _ := json.Marshal(account.StatusChange{ActorID: actor, UserID: user, Reason: why})
	return string(b)
}

func TestSuspend(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env, env.Store)
	admin := env.Admin(t)
	target := env.User(t)
	s1 := env.Session(t, target.ID)
	env.Clock.Advance(time.Minute)
	s2 := env.Session(t, target.ID)
	old := env.Session(t, target.ID)
	if err := env.Store.RevokeSession(accounttest.Ctx(t), target.ID, old.ID, "logout"); err != nil {
		t.Fatal(err)
	}
	bystander := env.User(t)
	bs := env.Session(t, bystander.ID)

	r, err := invoke(t, h, payload(admin.ID, target.ID, reason))
	if err != nil {
		t.Fatalf("suspend: %v", err)
	}
	if r.UserID != target.ID || r.Status != "suspended" || r.SessionsRevoked != 2 || !r.Changed {
		t.Fatalf("result = %+v", r)
	}
	u, _ := env.Store.GetUser(accounttest.Ctx(t), target.ID)
	if u.Status != store.UserSuspended || u.Active() {
		t.Fatalf("status = %s", u.Status)
	}
	now := env.Clock.Now()
	for _, s := range []store.Session{s1, s2} {
		got, err := env.Store.GetSession(accounttest.Ctx(t), target.ID, s.ID)
		if err != nil || got.Live(now) || got.RevokedReason != account.ReasonSuspended {
			t.Fatalf("session %s after suspension: %+v, %v", s.ID, got, err)
		}
	}
	if got, _ := env.Store.GetSession(accounttest.Ctx(t), bystander.ID, bs.ID); !got.Live(now) {
		t.Fatal("another user's session was revoked")
	}
	// A login racing the suspension cannot leave a live session behind.
	err = env.Store.CreateSession(accounttest.Ctx(t), store.Session{ID: ids.New(ids.Session), UserID: target.ID, ExpiresAt: now.Add(time.Hour)},
		store.RefreshToken{Hash: strings.Repeat("ab", 32), ExpiresAt: now.Add(time.Hour)})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("session created for a suspended user: %v", err)
	}
	entries := env.Audit.Find(account.ActionUserSuspended)
	if len(entries) != 1 {
		t.Fatalf("audit = %+v", env.Audit.Entries())
	}
	e := entries[0]
	if e.Actor != admin.ID || e.ActorRole != "admin" || e.Target != target.ID || e.Reason != reason || e.Outcome != "success" ||
		e.RequestID != "cli-request-2" || e.Details["sessionsRevoked"] != "2" || e.Details["changed"] != "true" {
		t.Fatalf("audit entry = %+v", e)
	}

	t.Run("suspending again changes nothing", func(t *testing.T) {
		r, err := invoke(t, h, payload(admin.ID, target.ID, reason))
		if err != nil || r.Changed || r.Status != "suspended" || r.SessionsRevoked != 0 || !strings.Contains(r.Message, "already suspended") {
			t.Fatalf("result = %+v, %v", r, err)
		}
		if again, _ := env.Store.GetUser(accounttest.Ctx(t), target.ID); again.Version != u.Version {
			t.Fatalf("version moved from %d to %d", u.Version, again.Version)
		}
		if n := len(env.Audit.Find(account.ActionUserSuspended)); n != 2 {
			t.Fatalf("repeat not audited: %d entries", n)
		}
	})
}

func TestSuspendRefused(t *testing.T) {
	type setup struct {
		actor, target string
	}
	tests := []struct {
		name      string
		payload   func(t *testing.T, env *accounttest.Env, s setup) string
		want      string // substring of the operator's error
		wantAudit string // action audited, "" for none
		wantRole  string // audited actor role for denials
	}{
		{name: "intern actor", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(env.User(t).ID, s.target, reason)
		}, want: "the actor is not an active platform admin", wantAudit: account.ActionDenied, wantRole: "intern"},
		{name: "org admin actor", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(env.User(t, accounttest.Role(apigw.RoleOrgAdmin)).ID, s.target, reason)
		}, want: "the actor is not an active platform admin", wantAudit: account.ActionDenied, wantRole: "org_admin"},
		{name: "admin without MFA", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(env.User(t, accounttest.Role(apigw.RoleAdmin)).ID, s.target, reason)
		}, want: "the actor is not an active platform admin", wantAudit: account.ActionDenied, wantRole: "admin"},
		{name: "suspended admin", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			a := env.Admin(t)
			if _, err := env.Store.SetStatus(accounttest.Ctx(t), a.ID, store.UserSuspended, a.Version); err != nil {
				t.Fatal(err)
			}
			return payload(a.ID, s.target, reason)
		}, want: "the actor is not an active platform admin", wantAudit: account.ActionDenied, wantRole: "admin"},
		{name: "unknown actor", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(ids.New(ids.User), s.target, reason)
		}, want: "the actor is not an active platform admin", wantAudit: account.ActionDenied},
		{name: "admin suspending themselves", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(s.actor, s.actor, reason)
		}, want: "an admin cannot change their own status", wantAudit: account.ActionDenied, wantRole: "admin"},
		{name: "unknown target", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(s.actor, ids.New(ids.User), reason)
		}, want: "user not found", wantAudit: account.ActionUserSuspended},
		{name: "missing fields", payload: func(*testing.T, *accounttest.Env, setup) string { return `{}` },
			want: "actorId is required; userId is required; reason is required"},
		{name: "malformed ids", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload("usr_x", "USER#"+s.target, reason)
		}, want: "actorId must be a valid usr_ identifier; userId must be a valid usr_ identifier"},
		{name: "org id as user id", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(s.actor, ids.New(ids.Org), reason)
		}, want: "userId must be a valid usr_ identifier"},
		{name: "reason too short", payload: func(t *testing.T, env *accounttest.Env, s setup) string { return payload(s.actor, s.target, "ok") },
			want: "reason must be at least 3 characters"},
		{name: "reason too long", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(s.actor, s.target, strings.Repeat("x", 501))
		}, want: "reason must be at most 500 characters"},
		{name: "reason with control characters", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return payload(s.actor, s.target, "fine\u001b[2Jcleared")
		}, want: "reason must not contain control characters"},
		{name: "misspelled member", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return `{"actorId":"` + s.actor + `","userId":"` + s.target + `","reasn":"` + reason + `"}`
		}, want: `"reasn" is not an accepted field`},
		{name: "extra member", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return `{"actorId":"` + s.actor + `","userId":"` + s.target + `","reason":"` + reason + `","status":"active"}`
		}, want: `"status" is not an accepted field`},
		{name: "wrong type", payload: func(t *testing.T, env *accounttest.Env, s setup) string {
			return `{"actorId":"` + s.actor + `","userId":["` + s.target + `"],"reason":"` + reason + `"}`
		}, want: `"userId" has the wrong type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			h := newHandler(t, env, env.Store)
			admin := env.Admin(t)
			target := env.User(t)
			sess := env.Session(t, target.ID)
			_, err := invoke(t, h, tt.payload(t, env, setup{actor: admin.ID, target: target.ID}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			got, _ := env.Store.GetUser(accounttest.Ctx(t), target.ID)
			if !got.Active() || got.Version != target.Version {
				t.Fatalf("target changed: %+v", got)
			}
			if s, _ := env.Store.GetSession(accounttest.Ctx(t), target.ID, sess.ID); !s.Live(env.Clock.Now()) {
				t.Fatal("target's session revoked by a refused suspension")
			}
			actions := env.Audit.Actions()
			if tt.wantAudit == "" {
				if len(actions) != 0 {
					t.Fatalf("audited %v", actions)
				}
				return
			}
			if len(actions) != 1 || actions[0] != tt.wantAudit {
				t.Fatalf("audited %v, want [%s]", actions, tt.wantAudit)
			}
			e := env.Audit.Entries()[0]
			if e.Reason != reason || e.RequestID != "cli-request-2" || (tt.wantAudit == account.ActionDenied && (e.Outcome != "denied" || e.ActorRole != tt.wantRole || e.Details["operation"] != "admin.user.suspend")) {
				t.Fatalf("audit entry = %+v", e)
			}
		})
	}
}

// bumpingStore makes the first status write lose a race against another
// write of the user (as a concurrent profile edit would), to prove the
// suspension re-reads and retries instead of giving up.
type bumpingStore struct {
	*store.Store
	bumped atomic.Bool
}

func (b *bumpingStore) SetStatus(ctx context.Context, userID, status string, version int64) (store.User, error) {
	if b.bumped.CompareAndSwap(false, true) {
		if _, err := b.Store.SetProfile(ctx, userID, "Renamed Meanwhile", version); err != nil {
			return store.User{}, err
		}
	}
	return b.Store.SetStatus(ctx, userID, status, version)
}

func TestSuspendRetriesAfterConcurrentWrite(t *testing.T) {
	env := accounttest.New(t)
	st := &bumpingStore{Store: env.Store}
	h := newHandler(t, env, st)
	admin := env.Admin(t)
	target := env.User(t)
	r, err := invoke(t, h, payload(admin.ID, target.ID, reason))
	if err != nil || !r.Changed {
		t.Fatalf("suspend: %+v, %v", r, err)
	}
	got, _ := env.Store.GetUser(accounttest.Ctx(t), target.ID)
	if got.Status != store.UserSuspended || got.DisplayName != "Renamed Meanwhile" {
		t.Fatalf("user = %+v; want suspended and the concurrent edit kept", got)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range accounttest.LoadPayloads(t, "../../events/admin-suspend-user") {
		t.Run(ev.Name, func(t *testing.T) {
			env := accounttest.New(t)
			var in account.StatusChange
			if err := account.DecodePayload(ev.Raw, &in); err != nil {
				t.Fatalf("sample: %v", err)
			}
			admin := env.User(t, accounttest.WithID(in.ActorID), accounttest.Role(apigw.RoleAdmin))
			env.EnableMFA(t, admin.ID)
			target := env.User(t, accounttest.WithID(in.UserID))
			env.Session(t, target.ID)
			r, err := invoke(t, newHandler(t, env, env.Store), string(ev.Raw))
			if err != nil || r.Status != "suspended" || r.SessionsRevoked != 1 {
				t.Fatalf("sample %s: %+v, %v", ev.Name, r, err)
			}
		})
	}
}
