package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// invite creates an organization and a pending invite of email into it
// with role, and returns the org ID and the invite code.
func invite(t *testing.T, env *identitytest.Env, email string, role domain.Role) (string, string) {
	t.Helper()
	admin := domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleAdmin}
	org, err := domain.NewOrg(admin, "Acme Robotics", env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	inv, code, err := domain.NewInvite(admin, org.ID, email, role, env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateOrgWithInvite(ctx(t), org, inv); err != nil {
		t.Fatal(err)
	}
	return org.ID, code
}

func TestRegisterWithInvite(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRegister)
	orgID, code := invite(t, env, "grace@example.org", domain.RoleMentor)
	got, err := svc.Register(ctx(t), meta("198.51.100.20"), identity.RegisterRequest{
		Email: "Grace@Example.org", Password: identitytest.Password, DisplayName: "Grace Hopper", InviteCode: identity.Some(code),
	})
	if err != nil || got.Status != "accepted" {
		t.Fatalf("Register: %+v, %v", got, err)
	}
	u, err := env.Store.GetUserByEmail(ctx(t), "grace@example.org")
	if err != nil || u.Role != apigw.RoleMentor || u.OrgID != orgID || !u.Active() {
		t.Fatalf("user = %+v, %v; want an active mentor of %s", u, err, orgID)
	}
	e := last(t, env, "auth.register")
	if e.ActorRole != apigw.RoleMentor || e.Details["via"] != "invite" || e.Details["orgId"] != orgID {
		t.Fatalf("audit = %+v", e)
	}
	assertNoSecret(t, "audit", strings.Join(env.Audit.Actions(), ",")+e.Reason+e.Details["via"], code)

	// The invite is spent: a second registration with it is refused.
	_, err = svc.Register(ctx(t), meta("198.51.100.20"), identity.RegisterRequest{
		Email: "grace2@example.org", Password: identitytest.Password, DisplayName: "Grace Two", InviteCode: identity.Some(code),
	})
	if f := fieldErrors(t, err); f["inviteCode"] != "is invalid or expired" {
		t.Fatalf("reuse: %v", err)
	}
}

func TestRegisterWithInviteRefusals(t *testing.T) {
	tests := []struct {
		name    string
		email   string
		code    func(good string) string
		advance time.Duration
		taken   bool
		want    string // "" for a 202
	}{
		{name: "another email", email: "mallory@example.org", code: func(c string) string { return c }, want: "inviteCode"},
		{name: "expired", email: "grace@example.org", code: func(c string) string { return c }, advance: domain.InviteTTL + time.Second, want: "inviteCode"},
		{name: "unknown code", email: "grace@example.org", code: func(c string) string { return strings.Repeat("a", domain.InviteCodeLen) }, want: "inviteCode"},
		{name: "malformed code", email: "grace@example.org", code: func(string) string { return "INVITE#x" }, want: "inviteCode"},
		{name: "empty code", email: "grace@example.org", code: func(string) string { return "" }, want: "inviteCode"},
		{name: "oversize code", email: "grace@example.org", code: func(string) string { return strings.Repeat("a", 200) }, want: "inviteCode"},
		// A good invite for an address that already has an account looks
		// like any taken address: 202, nothing created, invite kept.
		{name: "taken email", email: "grace@example.org", code: func(c string) string { return c }, taken: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := identitytest.New(t)
			svc := env.Service(t, identity.FlowRegister)
			orgID, code := invite(t, env, "grace@example.org", domain.RoleMentor)
			var existing store.User
			if tt.taken {
				existing = env.CreateUser(t, identitytest.UserSpec{Email: "grace@example.org"})
			}
			env.Clock.Advance(tt.advance)
			got, err := svc.Register(ctx(t), meta("198.51.100.21"), identity.RegisterRequest{
				Email: tt.email, Password: identitytest.Password, DisplayName: "Grace Hopper", InviteCode: identity.Some(tt.code(code)),
			})
			if tt.want == "" {
				if err != nil || got.Status != "accepted" {
					t.Fatalf("Register: %+v, %v", got, err)
				}
				u, _ := env.Store.GetUserByEmail(ctx(t), "grace@example.org")
				if u.ID != existing.ID || u.Role != existing.Role {
					t.Fatalf("existing account changed: %+v", u)
				}
				if inv, err := env.Store.GetInvite(ctx(t), domain.HashInviteCode(code)); err != nil || inv.Status != domain.InvitePending {
					t.Fatalf("invite spent by a refused registration: %+v, %v", inv, err)
				}
				return
			}
			if f := fieldErrors(t, err); f[tt.want] != "is invalid or expired" || len(f) != 1 {
				t.Fatalf("fields = %v", f)
			}
			if _, err := env.Store.GetUserByEmail(ctx(t), tt.email); err == nil {
				t.Fatal("user created")
			}
			if m, _ := env.Store.ListOrgMembers(ctx(t), orgID); len(m) != 0 {
				t.Fatalf("members = %+v", m)
			}
		})
	}
}
