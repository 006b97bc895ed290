package identity_test

import (
	"testing"

	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

// BenchmarkLogin splits a successful password login against minidyn into
// its argon2id verification and everything else (rate-limit checks, the
// user lookup, the session transaction, signing, auditing):
//
//	go test -run '^$' -bench BenchmarkLogin -benchtime 50x ./shared/identity/
//
// The total/verify ratio says how much of a login the hash is; the devstack's
// DynamoDB is in-process, so the rest is a lower bound of what AWS costs.
func BenchmarkLogin(b *testing.B) {
	env := identitytest.New(b)
	svc := env.Service(b, identity.FlowLogin)
	u := env.CreateUser(b, identitytest.UserSpec{Email: "bench@example.org"})
	in := identity.LoginRequest{Email: u.Email, Password: identitytest.Password}
	m := meta("192.0.2.200")

	b.Run("total", func(b *testing.B) {
		for b.Loop() {
			res, err := svc.Login(ctx(b), m, in)
			if err != nil || res.Tokens == nil {
				b.Fatalf("Login: %v", err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		h, err := password.NewHasher(password.DefaultParams)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if ok, err := h.Verify(identitytest.Password, u.PasswordHash); !ok || err != nil {
				b.Fatalf("Verify: %v %v", ok, err)
			}
		}
	})
}
