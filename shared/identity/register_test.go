package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

func TestRegisterCreatesIntern(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRegister)

	got, err := svc.Register(ctx(t), meta("198.51.100.1"), identity.RegisterRequest{
		Email: "  Ada.Lovelace@Example.ORG ", Password: identitytest.Password, DisplayName: " Ada Lovelace ",
	})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got.Status != "accepted" || got.Message == "" {
		t.Fatalf("answer = %+v", got)
	}
	u, err := env.Store.GetUserByEmail(ctx(t), "ada.lovelace@example.org")
	if err != nil {
		t.Fatalf("user not created: %v", err)
	}
	switch {
	case u.Role != apigw.RoleIntern || u.OrgID != "" || !u.Active():
		t.Errorf("user = role %q org %q status %q, want an active intern without org", u.Role, u.OrgID, u.Status)
	case u.Email != "Ada.Lovelace@Example.ORG" || u.DisplayName != "Ada Lovelace":
		t.Errorf("email %q name %q, want trimmed as entered", u.Email, u.DisplayName)
	case !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$"):
		t.Errorf("password stored as %.20q…, want an argon2id hash at the default parameters", u.PasswordHash)
	}
	if ok, err := env.Hasher.Verify(identitytest.Password, u.PasswordHash); !ok || err != nil {
		t.Errorf("stored hash does not verify the password: %v %v", ok, err)
	}
	e := last(t, env, "auth.register")
	if e.Actor != u.ID || e.Target != u.ID || e.Outcome != "success" || e.SourceIP != "198.51.100.1" || e.RequestID == "" {
		t.Errorf("audit entry = %+v", e)
	}
}

func TestRegisterTakenEmailLooksTheSame(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRegister)
	existing := env.CreateUser(t, identitytest.UserSpec{Email: "taken@example.org"})

	in := identity.RegisterRequest{Email: "taken@example.org", Password: "velvet-orbit-mango-91-kite", DisplayName: "Mallory"}
	fresh := identity.RegisterRequest{Email: "fresh@example.org", Password: "velvet-orbit-mango-91-kite", DisplayName: "Mallory"}

	before := env.Hasher.Counts().Hash
	taken, err := svc.Register(ctx(t), meta("198.51.100.2"), in)
	if err != nil {
		t.Fatalf("Register(taken): %v", err)
	}
	afterTaken := env.Hasher.Counts().Hash
	created, err := svc.Register(ctx(t), meta("198.51.100.2"), fresh)
	if err != nil {
		t.Fatalf("Register(fresh): %v", err)
	}
	if taken != created {
		t.Errorf("answers differ: taken %+v, created %+v", taken, created)
	}
	if afterTaken-before != 1 || env.Hasher.Counts().Hash-afterTaken != 1 {
		t.Errorf("hashes: taken %d, created %d; want one each (same work)", afterTaken-before, env.Hasher.Counts().Hash-afterTaken)
	}
	u, err := env.Store.GetUserByEmail(ctx(t), "taken@example.org")
	if err != nil || u.ID != existing.ID || u.PasswordHash != existing.PasswordHash || u.DisplayName != existing.DisplayName {
		t.Errorf("existing account changed: %+v, %v", u, err)
	}
	dup := last(t, env, "auth.register.duplicate")
	if dup.Outcome != "failure" || dup.Actor != "anonymous" || dup.SourceIP != "198.51.100.2" {
		t.Errorf("duplicate audit = %+v", dup)
	}
	if count(env, "auth.register") != 1 {
		t.Errorf("auth.register entries = %d, want 1 (the fresh one)", count(env, "auth.register"))
	}
}

func TestRegisterValidation(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRegister)
	tests := []struct {
		name string
		in   identity.RegisterRequest
		want map[string]string
	}{
		{"too short", identity.RegisterRequest{Email: "ann@example.org", Password: "vQ7#xL2!mZ9", DisplayName: "Ann"},
			map[string]string{"password": "must be at least 12 characters"}},
		{"too long", identity.RegisterRequest{Email: "ann@example.org", Password: strings.Repeat("vQ7#xL2!", 17), DisplayName: "Ann"},
			map[string]string{"password": "must be at most 128 characters"}},
		{"common", identity.RegisterRequest{Email: "ann@example.org", Password: "password1234", DisplayName: "Ann"},
			map[string]string{"password": "is too common"}},
		{"contains email", identity.RegisterRequest{Email: "jane.doe@example.com", Password: "xx-jane.doe-xx-91!", DisplayName: "JD"},
			map[string]string{"password": "must not contain your email or name"}},
		{"contains display name", identity.RegisterRequest{Email: "a.s@corp.test", Password: "alexandra!2024xyz", DisplayName: "Alexandra Smith"},
			map[string]string{"password": "must not contain your email or name"}},
		{"every field at once", identity.RegisterRequest{Email: "not-an-email", Password: "short", DisplayName: ""},
			map[string]string{"email": "must be a valid email address, like name@example.com", "password": "must be at least 12 characters", "displayName": "is required"}},
		{"display name too long", identity.RegisterRequest{Email: "ann@example.org", Password: identitytest.Password, DisplayName: strings.Repeat("é", 81)},
			map[string]string{"displayName": "must be at most 80 characters"}},
		{"display name with control characters", identity.RegisterRequest{Email: "ann@example.org", Password: identitytest.Password, DisplayName: "Ann\u202eevil"},
			map[string]string{"displayName": "must not contain control characters or invalid text"}},
		{"email with display-name syntax", identity.RegisterRequest{Email: "Ann <ann@example.org>", Password: identitytest.Password, DisplayName: "Ann"},
			map[string]string{"email": "must be a valid email address, like name@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Register(ctx(t), meta("198.51.100.3"), tc.in)
			got := fieldErrors(t, err)
			if len(got) != len(tc.want) {
				t.Fatalf("fields = %v, want %v", got, tc.want)
			}
			for f, reason := range tc.want {
				if got[f] != reason {
					t.Errorf("%s: reason %q, want %q", f, got[f], reason)
				}
			}
			if strings.Contains(err.Error(), tc.in.Password) {
				t.Error("error text contains the password")
			}
		})
	}
	if n := env.Hasher.Counts().Hash; n != 0 {
		t.Errorf("%d passwords hashed for invalid requests", n)
	}
	if _, err := env.Store.GetUserByEmail(ctx(t), "ann@example.org"); err == nil {
		t.Error("an invalid registration created a user")
	}
}

func TestRegisterRateLimitedPerIP(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRegister)
	limit := identity.RateLimitPolicies()[identity.ScopeRegisterIP].Limit
	const ip = "203.0.113.50"
	for i := range limit {
		in := identity.RegisterRequest{Email: "bulk" + strings.Repeat("x", i) + "@example.org", Password: identitytest.Password, DisplayName: "Bulk"}
		if _, err := svc.Register(ctx(t), meta(ip), in); err != nil {
			t.Fatalf("registration %d: %v", i+1, err)
		}
	}
	_, err := svc.Register(ctx(t), meta(ip), identity.RegisterRequest{Email: "one-more@example.org", Password: identitytest.Password, DisplayName: "Bulk"})
	ae := wantAPI(t, err, 429, apigw.CodeRateLimited)
	if ae.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v", ae.RetryAfter)
	}
	if _, err := env.Store.GetUserByEmail(ctx(t), "one-more@example.org"); err == nil {
		t.Error("throttled registration created a user")
	}
	if e := last(t, env, "auth.throttled"); e.Details["scope"] != identity.ScopeRegisterIP || e.SourceIP != ip {
		t.Errorf("throttle audit = %+v", e)
	}
	// Another IP is unaffected.
	if _, err := svc.Register(ctx(t), meta("203.0.113.51"), identity.RegisterRequest{Email: "other-ip@example.org", Password: identitytest.Password, DisplayName: "Other"}); err != nil {
		t.Fatalf("other IP: %v", err)
	}
	// Not a lockout: an hour and its back-off later the IP may register again.
	env.Clock.Advance(2*time.Hour + time.Second)
	if _, err := svc.Register(ctx(t), meta(ip), identity.RegisterRequest{Email: "later@example.org", Password: identitytest.Password, DisplayName: "Later"}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := env.Store.GetUserByEmail(ctx(t), "later@example.org"); err != nil {
		t.Errorf("later registration: %v", err)
	}
}
