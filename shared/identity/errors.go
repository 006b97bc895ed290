package identity

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
)

// Errors the flows return (wrapped, with the reason for logs). Each maps to
// one public answer (APIError) whatever the reason behind it, so the answer
// tells a caller nothing an attacker could use.
var (
	// ErrInvalidCredentials: login failed (unknown email, wrong password,
	// suspended account).
	ErrInvalidCredentials = errors.New("identity: invalid credentials")
	// ErrInvalidCode: the MFA step failed (unknown, expired or spent
	// challenge; wrong or replayed code).
	ErrInvalidCode = errors.New("identity: invalid or expired MFA code")
	// ErrInvalidRefreshToken: the refresh token is malformed, unknown,
	// expired, spent, or its session or user is no longer live.
	ErrInvalidRefreshToken = errors.New("identity: invalid refresh token")
	// ErrWrongPassword: a password change presented the wrong current
	// password.
	ErrWrongPassword = errors.New("identity: current password is incorrect")
	// ErrMFARequired: a platform admin without TOTP tried to log in.
	ErrMFARequired = errors.New("identity: account requires MFA")
	// ErrNotAuthenticated: the authorized caller's account vanished or was
	// suspended between the authorizer and the handler.
	ErrNotAuthenticated = errors.New("identity: caller is no longer authenticated")
	// ErrConflict: the account changed concurrently; the client may retry.
	ErrConflict = errors.New("identity: account changed concurrently")
)

// ThrottledError is returned while a rate limit refuses the attempt.
type ThrottledError struct {
	// Scope is the rate-limit scope that refused (for logs).
	Scope string
	// RetryAfter is how long the caller must wait.
	RetryAfter time.Duration
}

// Error names the scope; it carries no key (email or IP).
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("identity: rate limited by %s for %s", e.Scope, e.RetryAfter)
}

// Public error codes and messages beyond apigw's (api-docs/openapi.yaml).
const (
	CodeInvalidCredentials = "invalid_credentials"
	CodeMFARequired        = "mfa_required"

	msgInvalidCredentials = "Email or password is incorrect."
	msgInvalidCode        = "The code is incorrect or expired."
	msgInvalidRefresh     = "The refresh token is invalid."
	msgWrongPassword      = "The current password is incorrect."
	msgMFARequired        = "This account must set up multi-factor authentication before it can sign in."
)

// APIError maps a flow's error to the client error apigw.Wrap answers: the
// same status, code and message for every reason behind it, the reason kept
// as the (logged, never sent) cause. validate.Errors and other client errors
// pass through; anything else is an internal error and stays one (500).
func APIError(err error) error {
	var te *ThrottledError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return apigw.TooManyRequests(te.RetryAfter).WithCause(err)
	case errors.Is(err, ErrInvalidCredentials):
		return apigw.NewError(http.StatusUnauthorized, CodeInvalidCredentials, msgInvalidCredentials).WithCause(err)
	case errors.Is(err, ErrInvalidCode):
		return apigw.NewError(http.StatusUnauthorized, CodeInvalidCredentials, msgInvalidCode).WithCause(err)
	case errors.Is(err, ErrInvalidRefreshToken):
		return apigw.NewError(http.StatusUnauthorized, CodeInvalidCredentials, msgInvalidRefresh).WithCause(err)
	case errors.Is(err, ErrWrongPassword):
		return apigw.NewError(http.StatusForbidden, CodeInvalidCredentials, msgWrongPassword).WithCause(err)
	case errors.Is(err, ErrMFARequired):
		return apigw.NewError(http.StatusForbidden, CodeMFARequired, msgMFARequired).WithCause(err)
	case errors.Is(err, ErrNotAuthenticated):
		return apigw.Unauthorized().WithCause(err)
	case errors.Is(err, ErrConflict):
		return apigw.Conflict("The account changed while this request ran; try again.").WithCause(err)
	}
	return err
}
