package account

import (
	"errors"

	"github.com/vip-platform/backend/shared/apigw"
)

// Sentinel errors of the services; test them with errors.Is. Messages are
// for logs; ToHTTP and RunCLI decide what the caller is told.
var (
	// ErrUnknownCaller: the authenticated user does not exist (deleted after
	// the authorizer ran, or a forged context). Answered 401.
	ErrUnknownCaller = errors.New("caller's user not found")
	// ErrSessionNotFound: no live session of the caller has this ID. A
	// session of another user is never looked up (sessions are keyed under
	// their user), so it lands here too: no enumeration. Answered 404.
	ErrSessionNotFound = errors.New("session not found")
	// ErrStale: If-Match named a version that is not the current one.
	// Answered 412.
	ErrStale = errors.New("version is stale")
	// ErrConflict: the record changed between read and write. Answered 409;
	// retrying is safe.
	ErrConflict = errors.New("concurrent update")
	// ErrMFAEnabled: TOTP is already enabled for the account. Answered 409.
	ErrMFAEnabled = errors.New("mfa already enabled")
	// ErrNoEnrolment: a confirmation arrived without a pending enrolment.
	// Answered 409.
	ErrNoEnrolment = errors.New("no mfa enrolment in progress")
)

// Refusal is an error whose Message is safe to show to whoever invoked a
// CLI operation (validation aside): "platform already bootstrapped", "the
// actor is not an active platform admin". The cause, if any, is for logs.
type Refusal struct {
	Message string
	cause   error
}

// refuse builds a Refusal; cause may be nil.
func refuse(message string, cause error) *Refusal { return &Refusal{Message: message, cause: cause} }

// Error includes the cause, for logs.
func (r *Refusal) Error() string {
	if r.cause == nil {
		return r.Message
	}
	return r.Message + ": " + r.cause.Error()
}

// Unwrap returns the cause, so errors.Is sees store sentinels through it.
func (r *Refusal) Unwrap() error { return r.cause }

// ToHTTP maps a service error to the API's answer: the sentinels above to
// their client errors (cause kept for the log line apigw.Wrap writes),
// validate.Errors and *apigw.Error unchanged, anything else unchanged too,
// which Wrap answers as a 500 saying nothing.
func ToHTTP(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnknownCaller):
		return apigw.Unauthorized().WithCause(err)
	case errors.Is(err, ErrSessionNotFound):
		return apigw.NotFound().WithCause(err)
	case errors.Is(err, ErrStale):
		return apigw.PreconditionFailed("The profile has changed since that version; read it again.").WithCause(err)
	case errors.Is(err, ErrConflict):
		return apigw.Conflict("The account changed while this request was processed; retry.").WithCause(err)
	case errors.Is(err, ErrMFAEnabled):
		return apigw.Conflict("TOTP is already enabled for this account.").WithCause(err)
	case errors.Is(err, ErrNoEnrolment):
		return apigw.Conflict("No TOTP enrolment is in progress; start one first.").WithCause(err)
	}
	return err
}
