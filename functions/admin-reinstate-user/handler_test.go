package main

import (
	"encoding/json/v2"
	"errors"
	"strings"
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

const reason = "Appeal upheld, ticket SUP-1042"

func newHandler(t *testing.T, env *accounttest.Env) *Handler {
	t.Helper()
	a, err := account.NewAdmin(env.Store, env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(a, env.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func invoke(t *testing.T, h *Handler, payload string) (account.ReinstateResult, error) {
	t.Helper()
	ctx := lambdacontext.NewContext(accounttest.Ctx(t), &lambdacontext.LambdaContext{AwsRequestID: "cli-request-3"})
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(payload))
	if err != nil {
		return account.ReinstateResult{}, err
	}
	var r account.ReinstateResult
	if err := json.Unmarshal(out, &r, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return r, nil
}

func payload(actor, user, why string) string {
	b, _ := json.Marshal(account.StatusChange{ActorID: actor, UserID: user, Reason: why})
	return string(b)
}

// suspended creates a user with a session and suspends them the way
// admin-suspend-user does.
func suspended(t *testing.T, env *accounttest.Env, admin store.User) (store.User, store.Session) {
	t.Helper()
	u := env.User(t)
	s := env.Session(t, u.ID)
	a, err := account.NewAdmin(env.Store, env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Suspend(accounttest.Ctx(t), account.StatusChange{ActorID: admin.ID, UserID: u.ID, Reason: "abuse report"}); err != nil {
		t.Fatal(err)
	}
	env.Audit.Reset()
	got, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
	return got, s
}

func TestReinstate(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	admin := env.Admin(t)
	u, oldSession := suspended(t, env, admin)

	r, err := invoke(t, h, payload(admin.ID, u.ID, reason))
	if err != nil || r.UserID != u.ID || r.Status != "active" || !r.Changed {
		t.Fatalf("reinstate: %+v, %v", r, err)
	}
	got, _ := env.Store.GetUser(accounttest.Ctx(t), u.ID)
	if !got.Active() {
		t.Fatalf("status = %s", got.Status)
	}
	now := env.Clock.Now()
	if s, _ := env.Store.GetSession(accounttest.Ctx(t), u.ID, oldSession.ID); s.Live(now) {
		t.Fatal("a session revoked by the suspension came back to life")
	}
	// The user can log in again.
	err = env.Store.CreateSession(accounttest.Ctx(t), store.Session{ID: ids.New(ids.Session), UserID: u.ID, ExpiresAt: now.Add(time.Hour)},
		store.RefreshToken{Hash: strings.Repeat("cd", 32), ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatalf("new session after reinstatement: %v", err)
	}
	entries := env.Audit.Find(account.ActionUserReinstated)
	if len(entries) != 1 {
		t.Fatalf("audit = %+v", env.Audit.Entries())
	}
	if e := entries[0]; e.Actor != admin.ID || e.Target != u.ID || e.Reason != reason || e.Outcome != "success" || e.RequestID != "cli-request-3" || e.Details["changed"] != "true" {
		t.Fatalf("audit entry = %+v", e)
	}

	t.Run("reinstating an active user changes nothing", func(t *testing.T) {
		r, err := invoke(t, h, payload(admin.ID, u.ID, reason))
		if err != nil || r.Changed || r.Status != "active" || !strings.Contains(r.Message, "already active") {
			t.Fatalf("result = %+v, %v", r, err)
		}
	})
}

func TestReinstateRefused(t *testing.T) {
	tests := []struct {
		name      string
		actor     func(t *testing.T, env *accounttest.Env, admin, target store.User) string
		target    func(target store.User) string
		why       string
		want      string
		wantAudit string
	}{
		{name: "intern actor", actor: func(t *testing.T, env *accounttest.Env, _, _ store.User) string { return env.User(t).ID },
			want: "the actor is not an active platform admin", wantAudit: account.ActionDenied},
		{name: "mentor actor", actor: func(t *testing.T, env *accounttest.Env, _, _ store.User) string {
			return env.User(t, accounttest.Role(apigw.RoleMentor)).ID
		}, want: "the actor is not an active platform admin", wantAudit: account.ActionDenied},
		{name: "suspended admin reinstating themselves", actor: func(t *testing.T, env *accounttest.Env, _, target store.User) string { return target.ID },
			want: "the actor is not an active platform admin", wantAudit: account.ActionDenied},
		{name: "unknown target", target: func(store.User) string { return ids.New(ids.User) },
			want: "user not found", wantAudit: account.ActionUserReinstated},
		{name: "reason missing", why: " ", want: "reason is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			h := newHandler(t, env)
			admin := env.Admin(t)
			// The suspended target is an admin too, so "reinstating
			// themselves" is a real suspended admin acting.
			target := env.Admin(t)
			s, err := account.NewAdmin(env.Store, env.Audit)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Suspend(accounttest.Ctx(t), account.StatusChange{ActorID: admin.ID, UserID: target.ID, Reason: "compromised"}); err != nil {
				t.Fatal(err)
			}
			env.Audit.Reset()
			actor, targetID, why := admin.ID, target.ID, reason
			if tt.actor != nil {
				actor = tt.actor(t, env, admin, target)
			}
			if tt.target != nil {
				targetID = tt.target(target)
			}
			if tt.why != "" {
				why = tt.why
			}
			_, err = invoke(t, h, payload(actor, targetID, why))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if got, _ := env.Store.GetUser(accounttest.Ctx(t), target.ID); got.Active() {
				t.Fatal("refused reinstatement reinstated")
			}
			actions := env.Audit.Actions()
			if (tt.wantAudit == "" && len(actions) != 0) || (tt.wantAudit != "" && (len(actions) != 1 || actions[0] != tt.wantAudit)) {
				t.Fatalf("audited %v, want %q", actions, tt.wantAudit)
			}
			if tt.wantAudit == account.ActionDenied && env.Audit.Entries()[0].Details["operation"] != "admin.user.reinstate" {
				t.Fatalf("denial entry = %+v", env.Audit.Entries()[0])
			}
		})
	}
}

func TestReinstateAuditFailure(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env)
	admin := env.Admin(t)
	u, _ := suspended(t, env, admin)
	env.Audit.FailWith(errors.New("audit table throttled"))
	_, err := invoke(t, h, payload(admin.ID, u.ID, reason))
	if err == nil || err.Error() != "internal error; the cause is logged under request ID cli-request-3" {
		t.Fatalf("error = %v", err)
	}
	if !strings.Contains(env.Logs.String(), "audit table throttled") {
		t.Fatalf("cause not logged: %s", env.Logs.String())
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range accounttest.LoadPayloads(t, "../../events/admin-reinstate-user") {
		t.Run(ev.Name, func(t *testing.T) {
			env := accounttest.New(t)
			var in account.StatusChange
			if err := account.DecodePayload(ev.Raw, &in); err != nil {
				t.Fatalf("sample: %v", err)
			}
			admin := env.User(t, accounttest.WithID(in.ActorID), accounttest.Role(apigw.RoleAdmin))
			env.EnableMFA(t, admin.ID)
			target := env.User(t, accounttest.WithID(in.UserID), accounttest.Status(store.UserSuspended))
			r, err := invoke(t, newHandler(t, env), string(ev.Raw))
			if err != nil || r.Status != "active" || !r.Changed || r.UserID != target.ID {
				t.Fatalf("sample %s: %+v, %v", ev.Name, r, err)
			}
		})
	}
}
