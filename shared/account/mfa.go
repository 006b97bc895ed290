package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/keys"
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

// MFAStore is what TOTP enrolment needs.
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
	return map[string]string{"userId": userID, "purpose": "totp"}
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

// MFA enrols the caller in TOTP.
type MFA struct {
	store MFAStore
	env   Envelope
	audit audit.Auditor
	now   func() time.Time
}

// NewMFA returns the TOTP enrolment service; now is the clock codes are
// checked against.
func NewMFA(st MFAStore, env Envelope, aud audit.Auditor, now func() time.Time) (*MFA, error) {
	if st == nil || env == nil || aud == nil || now == nil {
		return nil, errors.New("account: mfa needs a store, an envelope, an auditor and a clock")
	}
	return &MFA{store: st, env: env, audit: aud, now: now}, nil
}

// Enrol starts a TOTP enrolment: a fresh secret is sealed into the pending
// slot (replacing any earlier unconfirmed one) and returned. ErrMFAEnabled if
// TOTP is already on; turning it off or rotating it is not self-service.
func (m *MFA) Enrol(ctx context.Context, c Caller) (TOTPEnrollment, error) {
	u, err := getCaller(ctx, m.store, c)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if u.MFA.Enabled {
		return TOTPEnrollment{}, ErrMFAEnabled
	}
	enr, err := totp.Generate(u.Email)
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("generate totp secret: %w", err)
	}
	blob, err := m.env.Seal(ctx, []byte(enr.Secret), TOTPEncryptionContext(u.ID))
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("seal totp secret: %w", err)
	}
	_, err = m.store.SetMFA(ctx, u.ID, store.MFA{PendingCiphertext: blob}, u.Version)
	if err = mapUserWrite(err); err != nil {
		return TOTPEnrollment{}, fmt.Errorf("store pending totp secret: %w", err)
	}
	if err := m.audit.Append(ctx, c.entry(ActionMFAEnrolmentStarted, u.ID, audit.OutcomeSuccess)); err != nil {
		return TOTPEnrollment{}, fmt.Errorf("audit %s: %w", ActionMFAEnrolmentStarted, err)
	}
	return TOTPEnrollment{Secret: enr.Secret, OTPAuthURL: enr.URL}, nil
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
