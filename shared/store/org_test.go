package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newOrg(name string) store.Org {
	return store.Org{ID: ids.New(ids.Org), Name: name, CreatedBy: ids.New(ids.User), CreatedAt: base}
}

// newInvite is a pending invite of email into org with a fresh code hash.
func newInvite(t *testing.T, org, email string, role domain.Role) store.Invite {
	return store.Invite{
		ID: ids.New(ids.Invite), CodeHash: newHash(t), OrgID: org, Email: email, Role: role,
		Status: domain.InvitePending, InvitedBy: ids.New(ids.User), CreatedAt: base, ExpiresAt: base.Add(domain.InviteTTL),
	}
}

func mustOrg(t *testing.T, e env, name string) (store.Org, store.Invite) {
	t.Helper()
	o := newOrg(name)
	inv := newInvite(t, o.ID, "first.admin@example.com", domain.RoleOrgAdmin)
	if err := e.st.CreateOrgWithInvite(ctx(t), o, inv); err != nil {
		t.Fatalf("CreateOrgWithInvite: %v", err)
	}
	return o, inv
}

func TestCreateOrgWithInvite(t *testing.T) {
	e := newEnv(t)
	o, inv := mustOrg(t, e, "Acme Robotics")
	got, err := e.st.GetOrg(ctx(t), o.ID)
	if err != nil || got.Name != "Acme Robotics" || got.Version != 1 || got.CreatedBy != o.CreatedBy {
		t.Fatalf("GetOrg = %+v, %v", got, err)
	}
	gotInv, err := e.st.GetInvite(ctx(t), inv.CodeHash)
	if err != nil || gotInv.ID != inv.ID || gotInv.OrgID != o.ID || gotInv.Role != domain.RoleOrgAdmin ||
		gotInv.Status != domain.InvitePending || !gotInv.ExpiresAt.Equal(inv.ExpiresAt) {
		t.Fatalf("GetInvite = %+v, %v", gotInv, err)
	}
	// Reusing the org ID creates nothing, not even the second invite.
	second := newInvite(t, o.ID, "other@example.com", domain.RoleOrgAdmin)
	if err := e.st.CreateOrgWithInvite(ctx(t), o, second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate org: %v, want ErrConflict", err)
	}
	if _, err := e.st.GetInvite(ctx(t), second.CodeHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invite of a refused org stored: %v", err)
	}
	other := newOrg("Other")
	if err := e.st.CreateOrgWithInvite(ctx(t), other, newInvite(t, o.ID, "x@example.com", domain.RoleOrgAdmin)); err == nil {
		t.Fatal("invite of another org accepted")
	}
	orgs, err := e.st.GetOrgs(ctx(t), []string{o.ID, o.ID, other.ID, "org_bad"})
	if err != nil || len(orgs) != 1 || orgs[o.ID].Name != "Acme Robotics" {
		t.Fatalf("GetOrgs = %+v, %v", orgs, err)
	}
	if _, err := e.st.GetOrg(ctx(t), other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetOrg(missing): %v", err)
	}
}

func TestCreateInvite(t *testing.T) {
	e := newEnv(t)
	o, _ := mustOrg(t, e, "Acme")
	inv := newInvite(t, o.ID, "mentor@example.com", domain.RoleMentor)
	if err := e.st.CreateInvite(ctx(t), inv); err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	if err := e.st.CreateInvite(ctx(t), newInvite(t, ids.New(ids.Org), "m@example.com", domain.RoleMentor)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invite into a missing org: %v, want ErrNotFound", err)
	}
	for name, mutate := range map[string]func(*store.Invite){
		"unnormalized email": func(i *store.Invite) { i.Email = "Mentor@Example.com" },
		"intern role":        func(i *store.Invite) { i.Role = domain.RoleIntern },
		"bad hash":           func(i *store.Invite) { i.CodeHash = "INVITE#x" },
		"used":               func(i *store.Invite) { i.Status = domain.InviteUsed },
		"no lifetime":        func(i *store.Invite) { i.ExpiresAt = i.CreatedAt },
	} {
		t.Run(name, func(t *testing.T) {
			bad := newInvite(t, o.ID, "mentor2@example.com", domain.RoleMentor)
			mutate(&bad)
			if err := e.st.CreateInvite(ctx(t), bad); err == nil {
				t.Fatal("CreateInvite accepted an invalid invite")
			}
		})
	}
	e.clk.Advance(domain.InviteTTL)
	if _, err := e.st.GetInvite(ctx(t), inv.CodeHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired invite still readable: %v", err)
	}
}

func inviteUser(email string) store.User {
	u := newUser(email)
	u.Role = "intern" // the invite decides
	return u
}

func TestCreateUserWithInvite(t *testing.T) {
	e := newEnv(t)
	o, _ := mustOrg(t, e, "Acme")
	inv := newInvite(t, o.ID, "mentor@example.com", domain.RoleMentor)
	if err := e.st.CreateInvite(ctx(t), inv); err != nil {
		t.Fatal(err)
	}
	u, err := e.st.CreateUserWithInvite(ctx(t), inviteUser(" Mentor@Example.com "), inv.CodeHash, e.clk.Now())
	if err != nil {
		t.Fatalf("CreateUserWithInvite: %v", err)
	}
	if u.Role != "mentor" || u.OrgID != o.ID || u.EmailNorm != "mentor@example.com" || u.Version != 1 {
		t.Fatalf("user = %+v", u)
	}
	stored, err := e.st.GetUserByEmail(ctx(t), "mentor@example.com")
	if err != nil || stored.ID != u.ID || stored.Role != "mentor" || stored.OrgID != o.ID {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	used, _ := e.st.GetInvite(ctx(t), inv.CodeHash)
	if used.Status != domain.InviteUsed || used.UsedBy != u.ID || used.Version != 2 {
		t.Fatalf("invite after use = %+v", used)
	}
	members, err := e.st.ListOrgMembers(ctx(t), o.ID)
	if err != nil || len(members) != 1 || members[0].ID != u.ID {
		t.Fatalf("ListOrgMembers = %+v, %v", members, err)
	}
	// Spent: a second registration with it fails, even for a new address.
	if _, err := e.st.CreateUserWithInvite(ctx(t), inviteUser("mentor@example.com"), inv.CodeHash, e.clk.Now()); !errors.Is(err, store.ErrInviteInvalid) {
		t.Fatalf("reuse: %v, want ErrInviteInvalid", err)
	}
}

func TestCreateUserWithInviteRefusals(t *testing.T) {
	tests := []struct {
		name  string
		email string
		hash  func(inv store.Invite) string
		at    time.Duration // after base
		want  error
	}{
		{name: "unknown code", email: "mentor@example.com", hash: func(store.Invite) string { return "ab" + newHashFixed }, want: store.ErrInviteInvalid},
		{name: "malformed hash", email: "mentor@example.com", hash: func(store.Invite) string { return "INVITE#" }, want: store.ErrInviteInvalid},
		{name: "other email", email: "someone.else@example.com", hash: func(i store.Invite) string { return i.CodeHash }, want: store.ErrInviteInvalid},
		{name: "expired", email: "mentor@example.com", hash: func(i store.Invite) string { return i.CodeHash }, at: domain.InviteTTL, want: store.ErrInviteInvalid},
		{name: "taken email", email: "taken@example.com", hash: func(i store.Invite) string { return i.CodeHash }, want: store.ErrEmailTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			o, _ := mustOrg(t, e, "Acme")
			mustUser(t, e, "taken@example.com")
			invEmail := "mentor@example.com"
			if tt.email == "taken@example.com" {
				invEmail = "taken@example.com"
			}
			inv := newInvite(t, o.ID, invEmail, domain.RoleMentor)
			if err := e.st.CreateInvite(ctx(t), inv); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(tt.at)
			_, err := e.st.CreateUserWithInvite(ctx(t), inviteUser(tt.email), tt.hash(inv), e.clk.Now())
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.at == 0 {
				if got, _ := e.st.GetInvite(ctx(t), inv.CodeHash); got.Status != domain.InvitePending {
					t.Fatalf("refused registration spent the invite: %+v", got)
				}
			}
			if _, err := e.st.GetUserByEmail(ctx(t), "mentor@example.com"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("user created: %v", err)
			}
			if m, _ := e.st.ListOrgMembers(ctx(t), o.ID); len(m) != 0 {
				t.Fatalf("members = %+v", m)
			}
		})
	}
}

// newHashFixed is 62 hex digits; with a 2-digit prefix it is a well-formed
// digest no invite has.
const newHashFixed = "00112233445566778899aabbccddeeff00112233445566778899aabbccddee"

func TestCreateUserWithInviteConcurrent(t *testing.T) {
	e := newEnv(t)
	o, _ := mustOrg(t, e, "Acme")
	inv := newInvite(t, o.ID, "mentor@example.com", domain.RoleMentor)
	if err := e.st.CreateInvite(ctx(t), inv); err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := e.st.CreateUserWithInvite(ctx(t), inviteUser("mentor@example.com"), inv.CodeHash, e.clk.Now())
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrInviteInvalid), errors.Is(err, store.ErrEmailTaken), errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d registrations succeeded with one invite", ok)
	}
	if m, _ := e.st.ListOrgMembers(ctx(t), o.ID); len(m) != 1 {
		t.Fatalf("members = %d", len(m))
	}
}

func TestListOrgMembersFilters(t *testing.T) {
	e := newEnv(t)
	o, _ := mustOrg(t, e, "Acme")
	store.SetPageSize(e.st, 2)
	mk := func(email, role, status string) store.User {
		u := newUser(email)
		u.Role, u.OrgID, u.Status = role, o.ID, status
		u.DisplayName = email
		if err := e.st.CreateUser(ctx(t), u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	a := mk("b-admin@example.com", "org_admin", store.UserActive)
	m := mk("a-mentor@example.com", "mentor", store.UserActive)
	mk("c-suspended@example.com", "mentor", store.UserSuspended)
	mk("d-intern@example.com", "intern", store.UserActive)
	other := newUser("e-other@example.com")
	other.Role, other.OrgID = "mentor", ids.New(ids.Org)
	if err := e.st.CreateUser(ctx(t), other); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.ListOrgMembers(ctx(t), o.ID)
	if err != nil || len(got) != 2 || got[0].ID != m.ID || got[1].ID != a.ID {
		t.Fatalf("ListOrgMembers = %+v, %v", got, err)
	}
}
