package work

import (
	"errors"
	"net/http"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
)

// Sentinel errors of the services; test them with errors.Is. Messages are
// for logs; ToHTTP decides what the caller is told.
var (
	// ErrNotFound: the resource does not exist, or the caller may not see it
	// (the denial is audited). Answered 404 either way.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the route is not for the caller's role. Answered 403.
	ErrForbidden = errors.New("forbidden")
	// ErrEnrollmentClosed: the enrollment is completed or ended; it takes
	// no more submissions or reviews. Answered 409.
	ErrEnrollmentClosed = errors.New("enrollment is not active")
	// ErrNotSubmittable: the task has a version pending review or already
	// accepted, or reached the version limit. Answered 409.
	ErrNotSubmittable = errors.New("task cannot take a new submission now")
	// ErrAlreadyReviewed: this submission version already has its review.
	// Answered 409.
	ErrAlreadyReviewed = errors.New("submission already reviewed")
	// ErrConflict: rival writes kept changing the enrollment; retrying is
	// safe. Answered 409.
	ErrConflict = errors.New("concurrent update")
	// ErrIdempotencyMismatch: an Idempotency-Key was reused with another
	// request. Answered 422.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyInFlight: the first request with this key is still
	// being processed. Answered 409.
	ErrIdempotencyInFlight = errors.New("idempotent request in progress")
	// ErrInvalidIdempotencyKey: the Idempotency-Key header is malformed.
	// Answered 400.
	ErrInvalidIdempotencyKey = errors.New("invalid idempotency key")
)

// CodeIdempotencyMismatch is the error code of a 422 (the code the other
// create routes use too).
const CodeIdempotencyMismatch = "idempotency_key_reused"

// ToHTTP maps a service error to the API's answer, keeping the cause for
// the log line apigw.Wrap writes. validate.Errors and *apigw.Error pass
// unchanged, and so does anything else, which Wrap answers as a 500 saying
// nothing.
func ToHTTP(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return apigw.NotFound().WithCause(err)
	case errors.Is(err, ErrForbidden):
		return apigw.Forbidden().WithCause(err)
	case errors.Is(err, ErrEnrollmentClosed):
		return apigw.Conflict("The enrollment is no longer active.").WithCause(err)
	case errors.Is(err, ErrNotSubmittable):
		return apigw.Conflict("This task cannot take a new submission now: its latest version is awaiting review or accepted.").WithCause(err)
	case errors.Is(err, ErrAlreadyReviewed):
		return apigw.Conflict("This submission has already been reviewed.").WithCause(err)
	case errors.Is(err, ErrConflict):
		return apigw.Conflict("The enrollment changed while this request was processed; retry.").WithCause(err)
	case errors.Is(err, ErrIdempotencyMismatch):
		return apigw.NewError(http.StatusUnprocessableEntity, CodeIdempotencyMismatch,
			"This Idempotency-Key was used with a different request.").WithCause(err)
	case errors.Is(err, ErrIdempotencyInFlight):
		e := apigw.Conflict("A request with this Idempotency-Key is still being processed; retry later.").WithCause(err)
		e.RetryAfter = time.Second
		return e
	case errors.Is(err, ErrInvalidIdempotencyKey):
		return apigw.BadRequest("The Idempotency-Key header must be 1 to 255 printable ASCII characters.").WithCause(err)
	}
	return err
}
