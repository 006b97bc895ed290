package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Audit actions of TOTP enrolment.
const (
	ActionMFAEnrolmentStarted = "auth.mfa.enrolment_started"
	ActionMFAEnrolled         = "auth.mfa.enrolled"
	ActionMFAFailed           = "auth.mfa.failed"
)

// Sealer envelope-encrypts a value bound to an encryption context.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, encCtx map[string]string) ([]byte, error)
}

// Envelope seals and opens values bound to an encryption context.
type Envelope interface {
	Sealer
	Open(ctx context.Context, blob []byte, encCtx map[string]string) ([]byte, error)
}

// MFAStore is what TOTP confirmation needs.
type MFAStore interface {
	UserReader
	SetMFA(ctx context.Context, userID string, m store.MFA, expectedVersion int64) (store.User, error)
	UseMFAStep(ctx context.Context, userID string, step int64) error
}

var (
	_ Envelope = (*keys.Envelope)(nil)
	_ MFAStore = (*store.Store)(nil)
)

// TOTPEncryptionContext binds a TOTP secret to its user: a ciphertext
// copied onto another user's record does not open. Every reader of
// store.MFA ciphertexts (login MFA step) must open with exactly this.
func TOTPEncryptionContext(userID string) map[string]string {
	// One definition for writers and readers: identity's MFA login step.
	return identity.TOTPContext(userID)
}

// TOTPEnrollment is the answer to POST /v1/auth/mfa/totp (openapi
// TOTPEnrollment): the one time the secret leaves the service.
type TOTPEnrollment struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauthUrl"`
}

// Format prints no secret, whatever the verb: an enrolment passed to a
// logger or fmt by mistake must not leak.
func (TOTPEnrollment) Format(f fmt.State, _ rune) {
	fmt.Fprint(f, "account.TOTPEnrollment{[redacted]}")
}

// LogValue keeps the secret out of slog output.
func (TOTPEnrollment) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// invalidCode is the one answer to a wrong, expired or replayed code.
var invalidCode = validate.Errors{{Field: "code", Reason: "is incorrect or expired"}}

// MFA confirms TOTP enrolments (TOTPEnroller starts them).
type MFA struct {
	store MFAStore
	env   Envelope
	audit audit.Auditor
	now   func() time.Time
}

// NewMFA returns the TOTP confirmation service; now is the clock codes are
// checked against.
func NewMFA(st MFAStore, env Envelope, aud audit.Auditor, now func() time.Time) (*MFA, error) {
	if st == nil || env == nil || aud == nil || now == nil {
		return nil, errors.New("account: mfa needs a store, an envelope, an auditor and a clock")
	}
	return &MFA{store: st, env: env, audit: aud, now: now}, nil
}

// maxPresentedPassword bounds a current password (openapi
// TOTPEnrollRequest): it is verified, not set, so it must still match
// whatever an older policy allowed; the hasher refuses longer ones cheaply.
const maxPresentedPassword = 1024

// PasswordVerifier checks a presented password against a stored hash
// (argon2id in production). A non-nil error means the stored hash is
// unusable, which counts as a wrong password.
type PasswordVerifier interface {
	Verify(password, encoded string) (bool, error)
}

// Limiter counts failures per scope and key (shared/ratelimit).
type Limiter interface {
	Reserve(ctx context.Context, scope, key string) (ratelimit.Decision, *ratelimit.Reservation, error)
	Reset(ctx context.Context, scope, key string) error
}

// EnrolmentStore is what starting a TOTP enrolment needs.
type EnrolmentStore interface {
	UserReader
	SetMFA(ctx context.Context, userID string, m store.MFA, expectedVersion int64) (store.User, error)
}

var (
	_ PasswordVerifier = (*password.Hasher)(nil)
	_ Limiter          = (*ratelimit.Limiter)(nil)
	_ EnrolmentStore   = (*store.Store)(nil)
)

// reauthScope is the counter of wrong current passwords. It is the password
// change's own (same scope, same key: the user ID), so a stolen access
// token gets one budget of guesses across both routes, not one per route.
const reauthScope = identity.ScopePasswordChange

// actionThrottled is the audit action of a refused attempt, the one the
// identity flows record too.
const actionThrottled = "auth.throttled"

// TOTPEnroller starts TOTP enrolments, only for a caller who proves, with
// their current password, that they are the account's owner and not just
// the holder of its access token: otherwise a stolen token would be enough
// to enrol an attacker's authenticator and lock the owner out.
type TOTPEnroller struct {
	store   EnrolmentStore
	seal    Sealer
	pw      PasswordVerifier
	limiter Limiter
	audit   audit.Auditor
}

// NewTOTPEnroller returns the enrolment service. The limiter must know
// identity.ScopePasswordChange (identity.RateLimitPolicies).
func NewTOTPEnroller(st EnrolmentStore, seal Sealer, pw PasswordVerifier, lim Limiter, aud audit.Auditor) (*TOTPEnroller, error) {
	if st == nil || seal == nil || pw == nil || lim == nil || aud == nil {
		return nil, errors.New("account: totp enroller needs a store, a sealer, a password verifier, a limiter and an auditor")
	}
	return &TOTPEnroller{store: st, seal: seal, pw: pw, limiter: lim, audit: aud}, nil
}

// Enrol starts a TOTP enrolment for the caller after verifying
// currentPassword: a fresh secret is sealed into the pending slot
// (replacing any earlier unconfirmed one) and returned.
//
// The password is checked before anything about the account's MFA is
// answered. Wrong passwords count against identity.ScopePasswordChange and
// are audited (auth.mfa.failed, stage reauth); they return
// identity.ErrWrongPassword, and a throttled caller *identity.ThrottledError
// (audited auth.throttled): identity.APIError maps both, to the answers a
// password change gives. validate.Errors for a missing or over-long
// password; ErrMFAEnabled if TOTP is already on (turning it off or
// rotating it is not self-service); ErrUnknownCaller if the account is
// gone or no longer active.
func (e *TOTPEnroller) Enrol(ctx context.Context, c Caller, currentPassword string) (TOTPEnrollment, error) {
	v := validate.New()
	v.Length("currentPassword", currentPassword, 1, maxPresentedPassword)
	if err := v.Err(); err != nil {
		return TOTPEnrollment{}, err
	}
	r, err := e.checkLimit(ctx, c)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	// Whatever is not settled as a failure is given back (a success, an
	// internal error): only wrong passwords count.
	defer func() { _ = r.Succeeded(ctx) }()
	u, err := getCaller(ctx, e.store, c)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if !u.Active() {
		return TOTPEnrollment{}, fmt.Errorf("%w: user %s is %s", ErrUnknownCaller, u.ID, u.Status)
	}
	if err := e.reauthenticate(ctx, c, u, currentPassword, r); err != nil {
		return TOTPEnrollment{}, err
	}
	if u.MFA.Enabled {
		return TOTPEnrollment{}, ErrMFAEnabled
	}
	enr, err := totp.Generate(u.Email)
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("generate totp secret: %w", err)
	}
	blob, err := e.seal.Seal(ctx, []byte(enr.Secret), TOTPEncryptionContext(u.ID))
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("seal totp secret: %w", err)
	}
	_, err = e.store.SetMFA(ctx, u.ID, store.MFA{PendingCiphertext: blob}, u.Version)
	if err = mapUserWrite(err); err != nil {
		return TOTPEnrollment{}, fmt.Errorf("store pending totp secret: %w", err)
	}
	if err := e.audit.Append(ctx, c.entry(ActionMFAEnrolmentStarted, u.ID, audit.OutcomeSuccess)); err != nil {
		return TOTPEnrollment{}, fmt.Errorf("audit %s: %w", ActionMFAEnrolmentStarted, err)
	}
	return TOTPEnrollment{Secret: enr.Secret, OTPAuthURL: enr.URL}, nil
}

// checkLimit reserves this attempt's place in the caller's wrong-password
// counter, or refuses it while the counter is throttled, auditing the
// refusal. Reserved before the password is verified, so concurrent guesses
// cannot all pass before the first is counted, and a throttled guess costs
// no argon2id work. The caller settles the reservation.
func (e *TOTPEnroller) checkLimit(ctx context.Context, c Caller) (*ratelimit.Reservation, error) {
	d, r, err := e.limiter.Reserve(ctx, reauthScope, c.UserID)
	if err != nil {
		return nil, fmt.Errorf("reserve %s: %w", reauthScope, err)
	}
	if d.Allowed {
		return r, nil
	}
	en := c.entry(actionThrottled, c.UserID, audit.OutcomeDenied)
	en.Reason = "rate limit " + reauthScope
	en.Details = map[string]string{
		"flow": "mfa-enrol", "scope": reauthScope, "retryAfter": strconv.Itoa(d.RetryAfterSeconds()) + "s",
	}
	if err := e.audit.Append(ctx, en); err != nil {
		return nil, fmt.Errorf("audit %s: %w", en.Action, err)
	}
	return nil, &identity.ThrottledError{Scope: reauthScope, RetryAfter: d.RetryAfter}
}

// reauthenticate verifies the caller's current password: a wrong one is
// counted and audited; a right one forgets earlier mistakes, as a
// successful password change does.
func (e *TOTPEnroller) reauthenticate(ctx context.Context, c Caller, u store.User, currentPassword string, r *ratelimit.Reservation) error {
	ok, err := e.pw.Verify(currentPassword, u.PasswordHash)
	if err != nil {
		obs.FromContext(ctx).LogAttrs(ctx, slog.LevelError, "stored password hash unusable",
			slog.String("userId", u.ID), slog.String("error", err.Error()))
	}
	if ok {
		if err := e.limiter.Reset(ctx, reauthScope, u.ID); err != nil {
			// Not worth refusing the owner for: the counter expires anyway.
			obs.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "reset rate limit failed",
				slog.String("scope", reauthScope), slog.String("error", err.Error()))
		}
		return nil
	}
	if err := r.Failed(ctx); err != nil {
		return fmt.Errorf("count %s: %w", reauthScope, err)
	}
	en := c.entry(ActionMFAFailed, u.ID, audit.OutcomeFailure)
	en.Reason = "wrong current password"
	en.Details = map[string]string{"stage": "reauth"}
	if err := e.audit.Append(ctx, en); err != nil {
		return fmt.Errorf("audit %s: %w", en.Action, err)
	}
	return fmt.Errorf("%w: totp enrolment by user %s", identity.ErrWrongPassword, u.ID)
}

// Confirm finishes the enrolment with a current code from the pending
// secret: the code's time step is recorded first (atomically, so the same
// code cannot confirm twice, nor be replayed at the login MFA step), then
// the pending secret becomes the enabled one. A wrong, expired or replayed
// code is the validation error "code is incorrect or expired", audited.
func (m *MFA) Confirm(ctx context.Context, c Caller, code string) error {
	v := validate.New()
	v.Required("code", code)
	v.Check(sixDigits(code), "code", "must be 6 digits")
	if err := v.Err(); err != nil {
		return err
	}
	u, err := getCaller(ctx, m.store, c)
	if err != nil {
		return err
	}
	switch {
	case u.MFA.Enabled:
		return ErrMFAEnabled
	case len(u.MFA.PendingCiphertext) == 0:
		return ErrNoEnrolment
	}
	secret, err := m.env.Open(ctx, u.MFA.PendingCiphertext, TOTPEncryptionContext(u.ID))
	if err != nil {
		return fmt.Errorf("open pending totp secret: %w", err)
	}
	step, ok := totp.ValidateAfter(string(secret), code, m.now(), u.MFA.LastStep)
	clear(secret)
	if !ok {
		return m.codeRefused(ctx, c, "incorrect or expired code")
	}
	if err := m.store.UseMFAStep(ctx, u.ID, step); errors.Is(err, store.ErrConflict) {
		return m.codeRefused(ctx, c, "code already used")
	} else if err = mapUserWrite(err); err != nil {
		return fmt.Errorf("record totp step: %w", err)
	}
	_, err = m.store.SetMFA(ctx, u.ID, store.MFA{Enabled: true, SecretCiphertext: u.MFA.PendingCiphertext}, u.Version)
	if err = mapUserWrite(err); err != nil {
		return fmt.Errorf("enable totp: %w", err)
	}
	if err := m.audit.Append(ctx, c.entry(ActionMFAEnrolled, u.ID, audit.OutcomeSuccess)); err != nil {
		return fmt.Errorf("audit %s: %w", ActionMFAEnrolled, err)
	}
	return nil
}

func (m *MFA) codeRefused(ctx context.Context, c Caller, why string) error {
	e := c.entry(ActionMFAFailed, c.UserID, audit.OutcomeFailure)
	e.Reason = why
	e.Details = map[string]string{"stage": "enrolment"}
	if err := m.audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return invalidCode
}

// mapUserWrite turns the store's errors on a versioned user write into the
// service's.
func mapUserWrite(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrUnknownCaller, err)
	}
	return err
}

func sixDigits(s string) bool {
	if len(s) != totp.Digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
