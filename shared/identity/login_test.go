package identity_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/auth/refresh"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/store"
)

func TestLoginIssuesSession(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "mentor@example.org", Role: apigw.RoleMentor})

	res, err := svc.Login(ctx(t), meta("192.0.2.7"), identity.LoginRequest{Email: "MENTOR@example.org ", Password: identitytest.Password})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if res.Challenge != nil || res.Tokens == nil {
		t.Fatalf("result = %+v, want tokens", res)
	}
	tok := *res.Tokens
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 {
		t.Errorf("tokenType %q expiresIn %d", tok.TokenType, tok.ExpiresIn)
	}
	if want := int64(identity.RefreshTTL / time.Second); tok.RefreshExpiresIn != want {
		t.Errorf("refreshExpiresIn = %d, want %d", tok.RefreshExpiresIn, want)
	}
	if _, err := refresh.Parse(tok.RefreshToken); err != nil {
		t.Errorf("refresh token malformed: %v", err)
	}
	c, err := env.Verifier.Verify(ctx(t), tok.AccessToken)
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt); life < 10*time.Minute || life > 15*time.Minute {
		t.Errorf("access token lives %s, want 10-15 min", life)
	}
	if c.UserID != u.ID || c.Role != apigw.RoleMentor || c.OrgID != u.OrgID {
		t.Errorf("claims = %+v, want the user's id, role and org", c.Subject)
	}
	sess, err := env.Store.GetSession(ctx(t), u.ID, c.SessionID)
	if err != nil {
		t.Fatalf("session not stored: %v", err)
	}
	if !sess.Live(env.Clock.Now()) || sess.SourceIP != "192.0.2.7" || sess.UserAgent != "identity-test/1.0" {
		t.Errorf("session = %+v", sess)
	}
	if want := env.Clock.Now().Add(identity.SessionLifetime); !sess.ExpiresAt.Equal(want) {
		t.Errorf("session expires %s, want %s", sess.ExpiresAt, want)
	}
	if sess.RefreshHash != refresh.Hash(tok.RefreshToken) {
		t.Error("session does not store the refresh token's hash")
	}
	e := last(t, env, "auth.login.succeeded")
	if e.Actor != u.ID || e.Details["session"] != c.SessionID || e.SourceIP != "192.0.2.7" {
		t.Errorf("audit = %+v", e)
	}
	for _, en := range env.Audit.Entries() {
		assertNoSecret(t, "audit entry", fmt.Sprint(en), tok.AccessToken, tok.RefreshToken, identitytest.Password)
	}
}

func TestLoginFailuresAreIndistinguishable(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	known := env.CreateUser(t, identitytest.UserSpec{Email: "known@example.org"})
	suspended := env.CreateUser(t, identitytest.UserSpec{Email: "gone@example.org", Status: store.UserSuspended})

	type attempt struct {
		name, email, password string
		wantDummy             int64
		wantActor, reason     string
	}
	attempts := []attempt{
		{"unknown email", "nobody@example.org", "whatever-password-1", 1, "anonymous", "unknown account"},
		{"malformed email", "not an email", "whatever-password-1", 1, "anonymous", "unknown account"},
		{"wrong password", "known@example.org", "whatever-password-1", 0, known.ID, "wrong password"},
		{"suspended, right password", "gone@example.org", identitytest.Password, 0, suspended.ID, "account suspended"},
		{"suspended, wrong password", "gone@example.org", "whatever-password-1", 0, suspended.ID, "wrong password"},
	}
	var first *apigw.Error
	for i, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			before := env.Hasher.Counts()
			// Each from its own IP, so no attempt is throttled by another.
			_, err := svc.Login(ctx(t), meta(fmt.Sprintf("192.0.2.%d", 100+i)), identity.LoginRequest{Email: a.email, Password: a.password})
			ae := wantAPI(t, err, 401, identity.CodeInvalidCredentials)
			if first == nil {
				first = ae
			}
			if ae.Message != first.Message || len(ae.Fields) != 0 || ae.RetryAfter != 0 || len(ae.Header) != 0 {
				t.Errorf("answer %+v differs from %+v", ae, first)
			}
			after := env.Hasher.Counts()
			if got := after.DummyVerify - before.DummyVerify; got != a.wantDummy {
				t.Errorf("DummyVerify ran %d times, want %d", got, a.wantDummy)
			}
			// One argon2id derivation per attempt, whichever kind.
			if work := (after.DummyVerify - before.DummyVerify) + (after.Verify - before.Verify); work != 1 {
				t.Errorf("%d derivations, want 1", work)
			}
			e := last(t, env, "auth.login.failed")
			if e.Actor != a.wantActor || e.Reason != a.reason {
				t.Errorf("audit actor %q reason %q, want %q %q", e.Actor, e.Reason, a.wantActor, a.reason)
			}
			assertNoSecret(t, "error", err.Error()+ae.Message, a.password)
		})
	}
	if got := count(env, "auth.login.failed"); got != len(attempts) {
		t.Errorf("%d failures audited, want %d", got, len(attempts))
	}
	if got := count(env, "auth.login.succeeded"); got != 0 {
		t.Errorf("a failed login succeeded: %d", got)
	}
}

func TestLoginValidation(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	tests := []struct {
		name string
		in   identity.LoginRequest
		want []string
	}{
		{"empty", identity.LoginRequest{}, []string{"email", "password"}},
		{"blank email", identity.LoginRequest{Email: "  ", Password: "x"}, []string{"email"}},
		{"overlong email", identity.LoginRequest{Email: strings.Repeat("a", 250) + "@x.io", Password: "x"}, []string{"email"}},
		{"overlong password", identity.LoginRequest{Email: "a@example.org", Password: strings.Repeat("p", 1025)}, []string{"password"}},
		{"password of 1024 four-byte characters", identity.LoginRequest{Email: "a@example.org", Password: strings.Repeat("😀", 1024)}, []string{"password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Login(ctx(t), meta("192.0.2.9"), tc.in)
			got := fieldErrors(t, err)
			if len(got) != len(tc.want) {
				t.Fatalf("fields %v, want %v", got, tc.want)
			}
			for _, f := range tc.want {
				if got[f] == "" {
					t.Errorf("field %s not reported (%v)", f, got)
				}
			}
		})
	}
	if c := env.Hasher.Counts(); c.Verify+c.DummyVerify != 0 {
		t.Errorf("invalid requests cost %d derivations", c.Verify+c.DummyVerify)
	}
}

func TestLoginRehashesWhenParametersRise(t *testing.T) {
	stronger := password.DefaultParams
	stronger.Iterations = 3
	env := identitytest.New(t, identitytest.WithHasherParams(stronger))

	old, err := password.NewHasher(password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	oldHash, err := old.Hash(identitytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	u := env.CreateUser(t, identitytest.UserSpec{Email: "old@example.org", PasswordHash: oldHash})
	if !strings.Contains(u.PasswordHash, ",t=2,") {
		t.Fatalf("setup: stored hash %.40q", u.PasswordHash)
	}

	env.Login(t, "old@example.org", identitytest.Password, "192.0.2.20")
	after, err := env.Store.GetUser(ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=19456,t=3,p=1$") {
		t.Fatalf("hash after login %.40q…, want re-hashed with t=3", after.PasswordHash)
	}
	if after.Version != u.Version+1 {
		t.Errorf("version %d, want %d", after.Version, u.Version+1)
	}
	if ok, err := env.Hasher.Verify(identitytest.Password, after.PasswordHash); !ok || err != nil {
		t.Fatalf("re-hashed password does not verify: %v %v", ok, err)
	}
	// Now current: the next login does not hash again.
	hashes := env.Hasher.Counts().Hash
	env.Login(t, "old@example.org", identitytest.Password, "192.0.2.20")
	if n := env.Hasher.Counts().Hash - hashes; n != 0 {
		t.Errorf("second login hashed %d times, want 0", n)
	}
}

func TestLoginMFAAndAdmins(t *testing.T) {
	env := identitytest.New(t, identitytest.WithKMS())
	svc := env.Service(t, identity.FlowLogin)
	admin := env.CreateUser(t, identitytest.UserSpec{Email: "admin@example.org", Role: apigw.RoleAdmin})
	mfaAdmin := env.CreateUser(t, identitytest.UserSpec{Email: "mfa-admin@example.org", Role: apigw.RoleAdmin})
	env.EnableTOTP(t, mfaAdmin.ID)
	mfaIntern := env.CreateUser(t, identitytest.UserSpec{Email: "mfa-intern@example.org"})
	env.EnableTOTP(t, mfaIntern.ID)

	t.Run("admin without MFA is refused", func(t *testing.T) {
		_, err := svc.Login(ctx(t), meta("192.0.2.30"), identity.LoginRequest{Email: "admin@example.org", Password: identitytest.Password})
		wantAPI(t, err, 403, identity.CodeMFARequired)
		e := last(t, env, "auth.login.failed")
		if e.Actor != admin.ID || e.Outcome != "denied" {
			t.Errorf("audit = %+v", e)
		}
		if sessions, _ := env.Store.ListSessions(ctx(t), admin.ID); len(sessions) != 0 {
			t.Errorf("admin without MFA got %d sessions", len(sessions))
		}
	})
	t.Run("admin without MFA, wrong password, gets the plain 401", func(t *testing.T) {
		_, err := svc.Login(ctx(t), meta("192.0.2.30"), identity.LoginRequest{Email: "admin@example.org", Password: "not-the-password-1"})
		wantAPI(t, err, 401, identity.CodeInvalidCredentials)
	})
	for _, u := range []store.User{mfaAdmin, mfaIntern} {
		t.Run("challenge for "+u.Role, func(t *testing.T) {
			res, err := svc.Login(ctx(t), meta("192.0.2.31"), identity.LoginRequest{Email: u.Email, Password: identitytest.Password})
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if res.Tokens != nil || res.Challenge == nil {
				t.Fatalf("result = %+v, want a challenge only", res)
			}
			c := res.Challenge
			if !c.MFARequired || c.ExpiresIn != 300 || refresh.Check(c.Challenge, identity.ChallengePrefix, identity.ChallengeBytes) != nil {
				t.Errorf("challenge = %+v", c)
			}
			if sessions, _ := env.Store.ListSessions(ctx(t), u.ID); len(sessions) != 0 {
				t.Errorf("the password step alone created %d sessions", len(sessions))
			}
			// Only the hash is stored: the plain challenge is no key.
			if _, err := env.Store.ConsumeChallenge(ctx(t), c.Challenge); err == nil {
				t.Error("the challenge is stored in plain text")
			}
			stored, err := env.Store.ConsumeChallenge(ctx(t), refresh.Hash(c.Challenge))
			if err != nil || stored.UserID != u.ID || !stored.ExpiresAt.Equal(env.Clock.Now().Add(identity.ChallengeTTL)) {
				t.Errorf("stored challenge = %+v, %v", stored, err)
			}
		})
	}
}
