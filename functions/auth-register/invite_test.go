package main

import (
	"strconv"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/ids"
)

func inviteBody(email, name, code string) string {
	return `{"email":` + strconv.Quote(email) + `,"password":` + strconv.Quote(identitytest.Password) +
		`,"displayName":` + strconv.Quote(name) + `,"inviteCode":` + code + `}`
}

func TestRegisterWithInvite(t *testing.T) {
	env := identitytest.New(t)
	inv := newInvoker(t, env)
	admin := domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleAdmin}
	org, err := domain.NewOrg(admin, "Acme", env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	invite, code, err := domain.NewInvite(admin, org.ID, "grace@example.org", domain.RoleOrgAdmin, env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateOrgWithInvite(t.Context(), org, invite); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"wrong email", inviteBody("mallory@example.org", "M", strconv.Quote(code)), 400, "validation_failed", "inviteCode"},
		{"empty code", inviteBody("grace@example.org", "G", `""`), 400, "validation_failed", "inviteCode"},
		{"null code", inviteBody("grace@example.org", "G", `null`), 400, "invalid_body", "inviteCode"},
		{"code as number", inviteBody("grace@example.org", "G", `5`), 400, "invalid_body", "inviteCode"},
		{"redeemed", inviteBody("Grace@Example.org", "Grace Hopper", strconv.Quote(code)), 202, "", ""},
		{"spent", inviteBody("grace@example.org", "Grace Hopper", strconv.Quote(code)), 400, "validation_failed", "inviteCode"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := inv.Invoke(t, identitytest.Request(path, tc.body, "198.51.100."+strconv.Itoa(100+i)))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.status != 202 {
				e := apigwtest.DecodeError(t, resp)
				if e.Code != tc.code || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
					t.Fatalf("error = %+v, want %s on %s", e, tc.code, tc.field)
				}
			}
			identitytest.AssertNoLeak(t, "body", resp.Body, code)
		})
	}
	u, err := env.Store.GetUserByEmail(t.Context(), "grace@example.org")
	if err != nil || u.Role != apigw.RoleOrgAdmin || u.OrgID != org.ID {
		t.Fatalf("user = %+v, %v", u, err)
	}
	identitytest.AssertNoLeak(t, "logs", inv.Logs.String(), code, identitytest.Password)
	if got := len(env.Audit.Find("auth.register.invite_refused")); got != 2 {
		t.Fatalf("%d refused invites audited, want 2 (the shape checks never reach the store)", got)
	}
}
