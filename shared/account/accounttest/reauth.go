package accounttest

import (
	"testing"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/store"
)

// Hasher returns the production argon2id hasher (password.DefaultParams),
// so re-authentication is tested against the real verification.
func Hasher(t testing.TB) *password.Hasher {
	t.Helper()
	h, err := password.NewHasher(password.DefaultParams)
	if err != nil {
		t.Fatalf("accounttest: hasher: %v", err)
	}
	return h
}

// WithPassword gives the user a real argon2id hash of pw (instead of
// PasswordHash, which no password matches), for flows that re-verify it.
func WithPassword(t testing.TB, pw string) UserOption {
	t.Helper()
	hash, err := Hasher(t).Hash(pw)
	if err != nil {
		t.Fatalf("accounttest: hash password: %v", err)
	}
	return func(u *store.User) { u.PasswordHash = hash }
}

// Limiter returns a real rate limiter on the Env's table and clock with the
// identity flows' policies (identity.RateLimitPolicies).
func (e *Env) Limiter(t testing.TB) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(e.DB, ratelimit.Config{Table: e.Table, Policies: identity.RateLimitPolicies(), Clock: e.Clock.Now})
	if err != nil {
		t.Fatalf("accounttest: limiter: %v", err)
	}
	return l
}

// PendingTOTP gives the user a pending (unconfirmed) TOTP enrolment, the
// record POST /v1/auth/mfa/totp leaves, sealed with the real envelope under
// account.TOTPEncryptionContext, and returns the secret the user would have
// been shown. It writes the record directly, for tests of what follows
// enrolment (confirmation, login) that are not about its password check.
func (e *Env) PendingTOTP(t testing.TB, userID string) string {
	t.Helper()
	u, err := e.Store.GetUser(Ctx(t), userID)
	if err != nil {
		t.Fatalf("accounttest: GetUser: %v", err)
	}
	enr, err := totp.Generate(u.Email)
	if err != nil {
		t.Fatalf("accounttest: totp: %v", err)
	}
	blob, err := e.Envelope().Seal(Ctx(t), []byte(enr.Secret), account.TOTPEncryptionContext(userID))
	if err != nil {
		t.Fatalf("accounttest: seal: %v", err)
	}
	if _, err := e.Store.SetMFA(Ctx(t), userID, store.MFA{PendingCiphertext: blob}, u.Version); err != nil {
		t.Fatalf("accounttest: SetMFA: %v", err)
	}
	return enr.Secret
}
