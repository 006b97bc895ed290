package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/store"
)

// mfaEnv is an admin with TOTP and a service running both login steps.
type mfaEnv struct {
	env    *identitytest.Env
	svc    *identity.Service
	admin  store.User
	secret string
}

func newMFAEnv(t *testing.T) mfaEnv {
	t.Helper()
	env := identitytest.New(t, identitytest.WithKMS())
	admin := env.CreateUser(t, identitytest.UserSpec{Email: "root@example.org", Role: apigw.RoleAdmin})
	secret := env.EnableTOTP(t, admin.ID)
	return mfaEnv{env: env, svc: env.Service(t, identity.FlowLogin, identity.FlowLoginMFA), admin: admin, secret: secret}
}

// challenge runs the password step and returns the challenge.
func (m mfaEnv) challenge(t *testing.T, ip string) string {
	t.Helper()
	res, err := m.svc.Login(ctx(t), meta(ip), identity.LoginRequest{Email: m.admin.Email, Password: identitytest.Password})
	if err != nil || res.Challenge == nil {
		t.Fatalf("password step: %+v, %v", res, err)
	}
	return res.Challenge.Challenge
}

func TestLoginMFASucceeds(t *testing.T) {
	m := newMFAEnv(t)
	ch := m.challenge(t, "192.0.2.50")
	code := m.env.TOTPCode(t, m.secret)
	tok, err := m.svc.LoginMFA(ctx(t), meta("192.0.2.50"), identity.LoginMFARequest{Challenge: ch, Code: code})
	if err != nil {
		t.Fatalf("LoginMFA: %v", err)
	}
	p := m.env.Principal(t, tok.AccessToken)
	if p.UserID != m.admin.ID || p.Role != apigw.RoleAdmin || !m.env.SessionLive(t, p.UserID, p.SessionID) {
		t.Errorf("principal %+v", p)
	}
	if tok.ExpiresIn != 900 || tok.RefreshToken == "" {
		t.Errorf("tokens %v", tok)
	}
	u, err := m.env.Store.GetUser(ctx(t), m.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.MFA.LastStep != totp.Step(m.env.Clock.Now()) {
		t.Errorf("last step %d, want %d", u.MFA.LastStep, totp.Step(m.env.Clock.Now()))
	}
	if e := last(t, m.env, "auth.login.succeeded"); e.Actor != m.admin.ID || e.Details["method"] != "password+totp" {
		t.Errorf("audit = %+v", e)
	}
	for _, e := range m.env.Audit.Entries() {
		assertNoSecret(t, "audit", e.Reason+e.Target+e.Actor, code, m.secret, ch)
	}
}

func TestLoginMFAFailures(t *testing.T) {
	m := newMFAEnv(t)
	const ip = "192.0.2.51"
	wantInvalid := func(t *testing.T, err error, reason string) {
		t.Helper()
		ae := wantAPI(t, err, 401, identity.CodeInvalidCredentials)
		if ae.Message != "The code is incorrect or expired." {
			t.Errorf("message %q", ae.Message)
		}
		if e := last(t, m.env, "auth.mfa.failed"); e.Reason != reason {
			t.Errorf("audited reason %q, want %q", e.Reason, reason)
		}
	}
	wrong := func(code string) string {
		// A code that is certainly wrong: change every digit.
		b := []byte(code)
		for i := range b {
			b[i] = '0' + (b[i]-'0'+5)%10
		}
		return string(b)
	}

	t.Run("wrong code spends the challenge", func(t *testing.T) {
		ch := m.challenge(t, ip)
		code := m.env.TOTPCode(t, m.secret)
		_, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: ch, Code: wrong(code)})
		wantInvalid(t, err, "wrong code")
		if e := last(t, m.env, "auth.mfa.failed"); e.Actor != m.admin.ID {
			t.Errorf("actor %q", e.Actor)
		}
		_, err = m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: ch, Code: code})
		wantInvalid(t, err, "unknown, spent or expired challenge")
	})
	t.Run("a code works once", func(t *testing.T) {
		m.env.Clock.Advance(time.Minute) // a step no earlier test used
		code := m.env.TOTPCode(t, m.secret)
		if _, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: m.challenge(t, ip), Code: code}); err != nil {
			t.Fatalf("first use: %v", err)
		}
		_, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: m.challenge(t, ip), Code: code})
		wantInvalid(t, err, "wrong code")
	})
	t.Run("challenge expires after 5 minutes", func(t *testing.T) {
		ch := m.challenge(t, ip)
		m.env.Clock.Advance(identity.ChallengeTTL + time.Second)
		_, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: ch, Code: m.env.TOTPCode(t, m.secret)})
		wantInvalid(t, err, "unknown, spent or expired challenge")
	})
	t.Run("forged challenge", func(t *testing.T) {
		real := m.challenge(t, ip)
		c := byte('A')
		if real[4] == c {
			c = 'B'
		}
		forged := real[:4] + string(c) + real[5:]
		_, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: forged, Code: "123456"})
		wantInvalid(t, err, "unknown, spent or expired challenge")
		_, err = m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: "rt_notachallenge", Code: "123456"})
		wantInvalid(t, err, "malformed challenge")
	})
	t.Run("suspended between the steps", func(t *testing.T) {
		m.env.Clock.Advance(time.Minute)
		ch := m.challenge(t, ip)
		u, _ := m.env.Store.GetUser(ctx(t), m.admin.ID)
		if _, err := m.env.Store.SetStatus(ctx(t), u.ID, store.UserSuspended, u.Version); err != nil {
			t.Fatal(err)
		}
		_, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: ch, Code: m.env.TOTPCode(t, m.secret)})
		wantInvalid(t, err, "account suspended")
		u, _ = m.env.Store.GetUser(ctx(t), m.admin.ID)
		if _, err := m.env.Store.SetStatus(ctx(t), u.ID, store.UserActive, u.Version); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("shape errors are field errors", func(t *testing.T) {
		_, err := m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: "", Code: "12345a"})
		got := fieldErrors(t, err)
		if got["challenge"] == "" || got["code"] == "" || len(got) != 2 {
			t.Errorf("fields %v", got)
		}
	})
	t.Run("failures count on the account", func(t *testing.T) {
		d, err := m.env.Limiter.Check(ctx(t), identity.ScopeLoginAccount, m.admin.EmailNorm)
		if err != nil {
			t.Fatal(err)
		}
		// wrong code, replayed code, suspended: three failures with a
		// known user (the others named no account).
		if d.Count != 3 {
			t.Errorf("account counter %d, want 3", d.Count)
		}
	})
}

func TestLoginMFASecretBoundToUser(t *testing.T) {
	m := newMFAEnv(t)
	other := m.env.CreateUser(t, identitytest.UserSpec{Email: "copycat@example.org"})
	// Give the other user the admin's sealed secret, as a database edit
	// would: it must not open under the other user's context.
	admin, _ := m.env.Store.GetUser(ctx(t), m.admin.ID)
	if _, err := m.env.Store.SetMFA(ctx(t), other.ID, store.MFA{Enabled: true, SecretCiphertext: admin.MFA.SecretCiphertext}, other.Version); err != nil {
		t.Fatal(err)
	}
	res, err := m.svc.Login(ctx(t), meta("192.0.2.52"), identity.LoginRequest{Email: other.Email, Password: identitytest.Password})
	if err != nil || res.Challenge == nil {
		t.Fatalf("password step: %v", err)
	}
	_, err = m.svc.LoginMFA(ctx(t), meta("192.0.2.52"), identity.LoginMFARequest{Challenge: res.Challenge.Challenge, Code: m.env.TOTPCode(t, m.secret)})
	if !errors.Is(err, keys.ErrInvalidCiphertext) {
		t.Fatalf("LoginMFA with a moved secret = %v, want an internal ErrInvalidCiphertext", err)
	}
	var ae *apigw.Error
	if errors.As(identity.APIError(err), &ae) {
		t.Errorf("a broken secret is answered as a client error %d", ae.Status)
	}
	if sessions, _ := m.env.Store.ListSessions(ctx(t), other.ID); len(sessions) != 0 {
		t.Error("a moved secret logged someone in")
	}
}

// TestLoginMFAChallengeDiesWithThePassword: a challenge won with the old
// password is refused once the password has changed.
func TestLoginMFAChallengeDiesWithThePassword(t *testing.T) {
	m := newMFAEnv(t)
	const ip = "192.0.2.61"
	ch := m.challenge(t, ip)
	u, err := m.env.Store.GetUser(ctx(t), m.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.env.Store.SetPassword(ctx(t), u.ID, "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaG5ld2hhc2huZXdoYXNobmV3aGFzaA", u.Version); err != nil {
		t.Fatal(err)
	}
	_, err = m.svc.LoginMFA(ctx(t), meta(ip), identity.LoginMFARequest{Challenge: ch, Code: m.env.TOTPCode(t, m.secret)})
	wantAPI(t, err, 401, identity.CodeInvalidCredentials)
	if e := last(t, m.env, "auth.mfa.failed"); e.Reason != "challenge issued before a password change" {
		t.Errorf("audited reason %q", e.Reason)
	}
}
