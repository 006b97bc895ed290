package programs

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/validate"
)

// Sentinel errors of the service; test them with errors.Is. Messages are
// for logs; ToHTTP decides what the caller is told.
var (
	// ErrUnauthenticated: the caller's user no longer exists or is not
	// active (suspended after the token was issued). Answered 401.
	ErrUnauthenticated = errors.New("caller is not an active user")
	// ErrNotVisible: the caller may not even see the resource (another
	// organization's program or org, a draft). Answered with the very 404
	// an unknown ID gets; the denial is audited.
	ErrNotVisible = errors.New("resource not visible to the caller")
	// ErrForbidden: the caller may see the resource but not change it.
	// Answered 403; the denial is audited.
	ErrForbidden = errors.New("caller may not change the resource")
	// ErrNotFound: the resource does not exist. Answered 404.
	ErrNotFound = errors.New("not found")
	// ErrPreconditionRequired: an update came without If-Match. Answered
	// 428.
	ErrPreconditionRequired = errors.New("if-match required")
	// ErrStale: If-Match named a version that is not the current one.
	// Answered 412.
	ErrStale = errors.New("version is stale")
	// ErrInvalidCursor: the cursor was tampered with, expired, or belongs
	// to another listing. Answered 400.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrIdempotencyMismatch: an Idempotency-Key was reused with another
	// request. Answered 422.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
)

// StateError is a request the resource's current state forbids (a task for
// a closed program, publishing an archived program): answered 409 with
// Message, which is written for the caller and holds no user content.
type StateError struct {
	Message string
	cause   error
}

func conflict(message string, cause error) *StateError {
	return &StateError{Message: message, cause: cause}
}

// Error includes the cause, for logs.
func (e *StateError) Error() string {
	if e.cause == nil {
		return "conflict: " + e.Message
	}
	return "conflict: " + e.Message + ": " + e.cause.Error()
}

// Unwrap returns the cause.
func (e *StateError) Unwrap() error { return e.cause }

// CodePreconditionRequired is the error code of a 428.
const CodePreconditionRequired = "precondition_required"

// CodeIdempotencyMismatch is the error code of a 422.
const CodeIdempotencyMismatch = "idempotency_key_reused"

// ToHTTP maps a service error to the API's answer (cause kept for the log
// line apigw.Wrap writes). validate.Errors and *apigw.Error pass unchanged,
// and anything else too, which Wrap answers as a 500 saying nothing.
func ToHTTP(err error) error {
	var se *StateError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return apigw.Conflict(se.Message).WithCause(err)
	case errors.Is(err, ErrUnauthenticated):
		return apigw.Unauthorized().WithCause(err)
	case errors.Is(err, ErrNotVisible):
		return apigw.NotFoundForDenied(err)
	case errors.Is(err, ErrForbidden):
		return apigw.Forbidden().WithCause(err)
	case errors.Is(err, ErrNotFound):
		return apigw.NotFound().WithCause(err)
	case errors.Is(err, ErrPreconditionRequired):
		return apigw.NewError(http.StatusPreconditionRequired, CodePreconditionRequired,
			`This update needs an If-Match header with the version you read, like "3".`).WithCause(err)
	case errors.Is(err, ErrStale):
		return apigw.PreconditionFailed("The resource has changed since that version; read it again.").WithCause(err)
	case errors.Is(err, ErrInvalidCursor), errors.Is(err, cursor.ErrInvalidCursor):
		return apigw.Validation(validate.Errors{{Field: "cursor", Reason: "is invalid or expired; start again from the first page"}}).WithCause(err)
	case errors.Is(err, ErrIdempotencyMismatch):
		return apigw.NewError(http.StatusUnprocessableEntity, CodeIdempotencyMismatch,
			"This Idempotency-Key was already used for a different request.").WithCause(err)
	}
	return fmt.Errorf("programs: %w", err)
}
