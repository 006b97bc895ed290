package identity

import (
	"encoding/json/v2"
	"regexp"

	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Request bodies, member for member the schemas of api-docs/openapi.yaml:
// handlers decode into them with apigw.Decode (unknown members, wrong types
// and duplicates refused), and each flow validates every field first, so a
// caller of the Service cannot skip validation.

// RegisterRequest is the body of POST /v1/auth/register. InviteCode is
// optional: without it the account is an intern's; with it the account
// takes the invite's role and organization.
type RegisterRequest struct {
	Email       string         `json:"email"`
	Password    string         `json:"password"`
	DisplayName string         `json:"displayName"`
	InviteCode  OptionalString `json:"inviteCode"`
}

// OptionalString is an optional JSON string member. Set tells an absent
// member from a present one, so an empty invite code is refused rather
// than read as "no invite"; null is refused by apigw.Decode like for any
// non-pointer member.
type OptionalString struct {
	Value string
	Set   bool
}

// Some returns a set OptionalString (for callers building requests).
func Some(v string) OptionalString { return OptionalString{Value: v, Set: true} }

// UnmarshalJSON accepts a JSON string only.
func (o *OptionalString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o.Value, o.Set = s, true
	return nil
}

// reasonInviteInvalid is the one answer to every invite problem: unknown,
// malformed, expired, used, or for another email. Invite codes are 256-bit
// secrets, so telling the caller "invalid" enables no enumeration.
const reasonInviteInvalid = "is invalid or expired"

// LoginRequest is the body of POST /v1/auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginMFARequest is the body of POST /v1/auth/login/mfa.
type LoginMFARequest struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// RefreshRequest is the body of POST /v1/auth/refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

// ChangePasswordRequest is the body of POST /v1/auth/password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// Field limits of the schemas.
const (
	maxEmailLen       = 254
	maxDisplayNameLen = 80
	// maxPresentedPassword bounds a password that is verified, not set: it
	// must still be able to match whatever an older policy allowed, and
	// the hasher refuses more than password.MaxPasswordBytes anyway.
	maxPresentedPassword = 1024
	maxChallengeLen      = 128
	maxRefreshTokenLen   = 128
)

var codePattern = regexp.MustCompile(`^[0-9]{6}$`)

// presentedPassword checks a password that will be verified: present,
// valid text, and not so long that hashing it is abuse.
func presentedPassword(v *validate.Validator, field, pw string) {
	if v.Length(field, pw, 1, maxPresentedPassword) {
		v.Check(len(pw) <= password.MaxPasswordBytes, field, "is too long")
	}
}

// validate checks every field except the password policy, which needs the
// service's PasswordPolicy (Register adds it to the same report).
func (r RegisterRequest) validate() *validate.Validator {
	v := validate.New()
	if v.Required("email", r.Email) && v.Length("email", r.Email, 1, maxEmailLen) {
		_, err := store.NormalizeEmail(r.Email)
		v.Check(err == nil, "email", "must be a valid email address, like name@example.com")
	}
	if v.Required("displayName", r.DisplayName) && v.Length("displayName", r.DisplayName, 1, maxDisplayNameLen) {
		v.Text("displayName", r.DisplayName)
	}
	if r.InviteCode.Set {
		v.Check(domain.ValidInviteCode(r.InviteCode.Value), "inviteCode", reasonInviteInvalid)
	}
	// The policy reports length and content; this only keeps absurd
	// input away from it.
	v.Check(len(r.Password) <= password.MaxPasswordBytes, "password", "must be at most 128 characters")
	return v
}

// Validate checks the fields' shape. A malformed email is not a field error:
// it is an unknown account, answered like any other.
func (r LoginRequest) Validate() error {
	v := validate.New()
	if v.Required("email", r.Email) {
		v.Length("email", r.Email, 1, maxEmailLen)
	}
	presentedPassword(v, "password", r.Password)
	return v.Err()
}

// Validate checks the fields' shape; a well-shaped but unknown challenge is
// an authentication failure, not a field error.
func (r LoginMFARequest) Validate() error {
	v := validate.New()
	if v.Required("challenge", r.Challenge) && v.Length("challenge", r.Challenge, 1, maxChallengeLen) {
		v.Text("challenge", r.Challenge)
	}
	v.Pattern("code", r.Code, codePattern, "must be the 6 digits shown by your authenticator app")
	return v.Err()
}

// Validate checks the field's shape; the token's format is checked by
// Refresh (a malformed token is an invalid one, 401).
func (r RefreshRequest) Validate() error {
	v := validate.New()
	if v.Required("refreshToken", r.RefreshToken) {
		v.Length("refreshToken", r.RefreshToken, 1, maxRefreshTokenLen)
	}
	return v.Err()
}

// validate checks the current password's shape; the new one is judged by
// the policy after the current one is verified.
func (r ChangePasswordRequest) validate() *validate.Validator {
	v := validate.New()
	presentedPassword(v, "currentPassword", r.CurrentPassword)
	v.Check(len(r.NewPassword) <= password.MaxPasswordBytes, "newPassword", "must be at most 128 characters")
	return v
}
