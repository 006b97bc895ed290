package account_test

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

const testPassword = "correct horse battery staple"

// countingVerifier is the real hasher, counting verifications: a throttled
// or invalid attempt must not cost (or allow) an argon2id guess.
type countingVerifier struct {
	account.PasswordVerifier
	n atomic.Int32
}

func (v *countingVerifier) Verify(pw, encoded string) (bool, error) {
	v.n.Add(1)
	return v.PasswordVerifier.Verify(pw, encoded)
}

type enrolWorld struct {
	env      *accounttest.Env
	limiter  *ratelimit.Limiter
	verifier *countingVerifier
	enroller *account.TOTPEnroller
}

func newEnrolWorld(t *testing.T) *enrolWorld {
	t.Helper()
	w := &enrolWorld{env: accounttest.New(t), verifier: &countingVerifier{PasswordVerifier: accounttest.Hasher(t)}}
	w.limiter = w.env.Limiter(t)
	e, err := account.NewTOTPEnroller(w.env.Store, w.env.Envelope(), w.verifier, w.limiter, w.env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	w.enroller = e
	return w
}

func (w *enrolWorld) caller(u store.User) account.Caller {
	return account.Caller{UserID: u.ID, Role: u.Role, SessionID: ids.New(ids.Session), RequestID: "req-enrol", SourceIP: "198.51.100.9"}
}

// failures is the caller's wrong-password count in the password change's
// scope, which enrolment shares.
func (w *enrolWorld) failures(t *testing.T, userID string) int {
	t.Helper()
	d, err := w.limiter.Check(accounttest.Ctx(t), identity.ScopePasswordChange, userID)
	if err != nil {
		t.Fatal(err)
	}
	return d.Count
}

// failPasswordChange counts n wrong passwords the way POST /v1/auth/password
// does.
func (w *enrolWorld) failPasswordChange(t *testing.T, userID string, n int) {
	t.Helper()
	for range n {
		if _, err := w.limiter.Fail(accounttest.Ctx(t), identity.ScopePasswordChange, userID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTOTPEnrollerEnrol(t *testing.T) {
	withPassword := func(t *testing.T, w *enrolWorld) store.User {
		return w.env.User(t, accounttest.WithPassword(t, testPassword))
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, w *enrolWorld) store.User
		password string
		// wantErr is the sentinel expected (errors.Is); nil for success
		// unless wantField or wantThrottled says otherwise.
		wantErr       error
		wantField     string
		wantThrottled bool
		wantVerified  bool
		wantAudit     []string
		wantFailures  int
	}{
		{name: "correct password enrols", setup: withPassword, password: testPassword,
			wantVerified: true, wantAudit: []string{account.ActionMFAEnrolmentStarted}},
		{name: "correct password forgets earlier mistakes", password: testPassword,
			setup: func(t *testing.T, w *enrolWorld) store.User {
				u := withPassword(t, w)
				w.failPasswordChange(t, u.ID, 4)
				return u
			},
			wantVerified: true, wantAudit: []string{account.ActionMFAEnrolmentStarted}},
		{name: "wrong password", setup: withPassword, password: testPassword + "!",
			wantErr: identity.ErrWrongPassword, wantVerified: true, wantAudit: []string{account.ActionMFAFailed}, wantFailures: 1},
		{name: "password of 1024 characters is verified, not refused", setup: withPassword, password: strings.Repeat("p", 1024),
			wantErr: identity.ErrWrongPassword, wantVerified: true, wantAudit: []string{account.ActionMFAFailed}, wantFailures: 1},
		{name: "unusable stored hash counts as wrong",
			setup: func(t *testing.T, w *enrolWorld) store.User {
				return w.env.User(t, func(u *store.User) { u.PasswordHash = "$argon2id$v=19$broken" })
			},
			password: testPassword, wantErr: identity.ErrWrongPassword, wantVerified: true, wantAudit: []string{account.ActionMFAFailed}, wantFailures: 1},
		{name: "already enabled", password: testPassword,
			setup: func(t *testing.T, w *enrolWorld) store.User {
				u := withPassword(t, w)
				w.env.EnableMFA(t, u.ID)
				return u
			},
			wantErr: account.ErrMFAEnabled, wantVerified: true},
		{name: "already enabled says nothing without the password", password: "guess",
			setup: func(t *testing.T, w *enrolWorld) store.User {
				u := withPassword(t, w)
				w.env.EnableMFA(t, u.ID)
				return u
			},
			wantErr: identity.ErrWrongPassword, wantVerified: true, wantAudit: []string{account.ActionMFAFailed}, wantFailures: 1},
		{name: "throttled by wrong password changes", password: testPassword,
			setup: func(t *testing.T, w *enrolWorld) store.User {
				u := withPassword(t, w)
				w.failPasswordChange(t, u.ID, 5)
				return u
			},
			wantThrottled: true, wantAudit: []string{"auth.throttled"}, wantFailures: 5},
		{name: "empty password", setup: withPassword, password: "", wantField: "currentPassword"},
		{name: "1025 characters", setup: withPassword, password: strings.Repeat("p", 1025), wantField: "currentPassword"},
		{name: "invalid UTF-8", setup: withPassword, password: "pass\xff", wantField: "currentPassword"},
		{name: "suspended account", password: testPassword,
			setup: func(t *testing.T, w *enrolWorld) store.User {
				return w.env.User(t, accounttest.WithPassword(t, testPassword), accounttest.Status(store.UserSuspended))
			},
			wantErr: account.ErrUnknownCaller},
		{name: "account gone", password: testPassword,
			setup: func(*testing.T, *enrolWorld) store.User {
				return store.User{ID: ids.New(ids.User), Role: "intern"}
			},
			wantErr: account.ErrUnknownCaller},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newEnrolWorld(t)
			u := tt.setup(t, w)
			before, _ := w.env.Store.GetUser(accounttest.Ctx(t), u.ID)
			c := w.caller(u)

			enr, err := w.enroller.Enrol(accounttest.Ctx(t), c, tt.password)

			var te *identity.ThrottledError
			var ve validate.Errors
			switch {
			case tt.wantThrottled:
				if !errors.As(err, &te) || te.RetryAfter <= 0 || te.Scope != identity.ScopePasswordChange {
					t.Fatalf("error = %v, want a throttle", err)
				}
			case tt.wantField != "":
				if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != tt.wantField {
					t.Fatalf("error = %v, want a validation error on %s", err, tt.wantField)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Enrol: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.password) && tt.password != "" {
				t.Fatal("the error carries the password")
			}
			if verified := w.verifier.n.Load() > 0; verified != tt.wantVerified {
				t.Fatalf("password verified = %v, want %v", verified, tt.wantVerified)
			}
			if got := w.env.Audit.Actions(); !slices.Equal(got, tt.wantAudit) {
				t.Fatalf("audit = %v, want %v", got, tt.wantAudit)
			}
			for _, e := range w.env.Audit.Entries() {
				if e.Actor != u.ID || e.Target != u.ID || e.RequestID != c.RequestID || e.SourceIP != c.SourceIP {
					t.Fatalf("audit entry = %+v", e)
				}
				switch e.Action {
				case account.ActionMFAFailed:
					if e.Outcome != audit.OutcomeFailure || e.Details["stage"] != "reauth" {
						t.Fatalf("failure entry = %+v", e)
					}
				case "auth.throttled":
					if e.Outcome != audit.OutcomeDenied || e.Details["scope"] != identity.ScopePasswordChange || e.Details["retryAfter"] == "" {
						t.Fatalf("throttle entry = %+v", e)
					}
				}
			}
			if got := w.failures(t, u.ID); got != tt.wantFailures {
				t.Fatalf("counted failures = %d, want %d", got, tt.wantFailures)
			}

			after, _ := w.env.Store.GetUser(accounttest.Ctx(t), u.ID)
			if err != nil {
				if enr != (account.TOTPEnrollment{}) {
					t.Fatal("a refused enrolment returned a secret")
				}
				if after.Version != before.Version || string(after.MFA.PendingCiphertext) != string(before.MFA.PendingCiphertext) {
					t.Fatalf("a refused enrolment changed the account: %+v -> %+v", before.MFA, after.MFA)
				}
				return
			}
			if after.MFA.Enabled || len(after.MFA.PendingCiphertext) == 0 {
				t.Fatalf("MFA after enrolment = %+v", after.MFA)
			}
			secret, err := w.env.Envelope().Open(accounttest.Ctx(t), after.MFA.PendingCiphertext, account.TOTPEncryptionContext(u.ID))
			if err != nil || string(secret) != enr.Secret || !strings.Contains(enr.OTPAuthURL, enr.Secret) {
				t.Fatalf("pending ciphertext does not hold the returned secret: %v", err)
			}
		})
	}
}

// TestTOTPEnrollerThrottlesGuessing drives the limit through Enrol itself:
// five wrong passwords throttle even the right one, without consuming
// further guesses, and once the back-off has passed the owner gets in.
func TestTOTPEnrollerThrottlesGuessing(t *testing.T) {
	w := newEnrolWorld(t)
	u := w.env.User(t, accounttest.WithPassword(t, testPassword))
	ctx := accounttest.Ctx(t)
	for i := range 5 {
		if _, err := w.enroller.Enrol(ctx, w.caller(u), "guess"); !errors.Is(err, identity.ErrWrongPassword) {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	verified := w.verifier.n.Load()
	_, err := w.enroller.Enrol(ctx, w.caller(u), testPassword)
	var te *identity.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("sixth attempt: %v, want a throttle", err)
	}
	if w.verifier.n.Load() != verified {
		t.Fatal("a throttled attempt was verified")
	}
	w.env.Clock.Advance(te.RetryAfter)
	if _, err := w.enroller.Enrol(ctx, w.caller(u), testPassword); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
	if n := w.failures(t, u.ID); n != 0 {
		t.Fatalf("failures after success = %d, want 0", n)
	}
	if got := w.env.Audit.Actions(); len(got) != 7 || got[5] != "auth.throttled" || got[6] != account.ActionMFAEnrolmentStarted {
		t.Fatalf("audit = %v", got)
	}
}

func TestTOTPEnrollerAuditFailureFailsTheCall(t *testing.T) {
	tests := []struct {
		name     string
		password string
	}{
		{"success", testPassword},
		{"wrong password", "guess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newEnrolWorld(t)
			u := w.env.User(t, accounttest.WithPassword(t, testPassword))
			boom := errors.New("audit table unavailable")
			w.env.Audit.FailWith(boom)
			enr, err := w.enroller.Enrol(accounttest.Ctx(t), w.caller(u), tt.password)
			if !errors.Is(err, boom) || errors.Is(err, identity.ErrWrongPassword) || enr != (account.TOTPEnrollment{}) {
				t.Fatalf("Enrol = %v, %v; want the audit error alone", enr, err)
			}
		})
	}
}

func TestNewTOTPEnrollerRefusesMissingDependencies(t *testing.T) {
	w := newEnrolWorld(t)
	tests := []struct {
		name string
		st   account.EnrolmentStore
		seal account.Sealer
		pw   account.PasswordVerifier
		lim  account.Limiter
		aud  audit.Auditor
	}{
		{"store", nil, w.env.Envelope(), w.verifier, w.limiter, w.env.Audit},
		{"sealer", w.env.Store, nil, w.verifier, w.limiter, w.env.Audit},
		{"verifier", w.env.Store, w.env.Envelope(), nil, w.limiter, w.env.Audit},
		{"limiter", w.env.Store, w.env.Envelope(), w.verifier, nil, w.env.Audit},
		{"auditor", w.env.Store, w.env.Envelope(), w.verifier, w.limiter, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := account.NewTOTPEnroller(tt.st, tt.seal, tt.pw, tt.lim, tt.aud); err == nil {
				t.Fatal("built without a " + tt.name)
			}
		})
	}
}
