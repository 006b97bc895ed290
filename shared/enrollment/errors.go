package enrollment

import (
	"errors"
	"net/http"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Sentinel errors of the services; test them with errors.Is. Messages are
// for logs; ToHTTP decides what the caller is told.
var (
	// ErrNotFound: the resource does not exist, or the caller may not see
	// it (the denial is audited). Answered 404 either way.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller may see the resource but not do this (a
	// route of another role, an account no longer allowed to write).
	// Answered 403.
	ErrForbidden = errors.New("forbidden")
	// ErrPreconditionRequired: a conditional write came without If-Match.
	// Answered 428.
	ErrPreconditionRequired = errors.New("if-match required")
	// ErrStale: If-Match names a version that is not the current one.
	// Answered 412.
	ErrStale = errors.New("version is stale")
	// ErrNotPending: the application was already decided or withdrawn.
	// Answered 409.
	ErrNotPending = errors.New("application is not pending")
	// ErrAlreadyApplied: the intern has a live application to the program.
	// Answered 409.
	ErrAlreadyApplied = errors.New("already applied")
	// ErrNotAccepting: the program does not take applications (not open,
	// or outside its window) or decisions (draft, archived) now. Answered
	// 409.
	ErrNotAccepting = errors.New("program does not accept this now")
	// ErrFull: every seat of the program is taken. Answered 409.
	ErrFull = errors.New("program is full")
	// ErrConflict: a rival write got in between; retrying is safe.
	// Answered 409.
	ErrConflict = errors.New("concurrent update")
	// ErrInvalidCursor: the cursor is tampered, expired or of another
	// listing. Answered 400.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrIdempotencyMismatch: an Idempotency-Key was reused with another
	// request. Answered 422.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyInFlight: the first request with this key is still
	// being processed. Answered 409.
	ErrIdempotencyInFlight = errors.New("idempotent request in progress")
)

// Stable error codes this package adds to apigw's.
const (
	CodePreconditionRequired = "precondition_required"
	CodeIdempotencyMismatch  = "idempotency_key_reused"
)

// ToHTTP maps a service error to the API's answer (cause kept for the log
// line apigw.Wrap writes); validate.Errors and *apigw.Error pass unchanged,
// anything else too, which Wrap answers as a 500 saying nothing.
func ToHTTP(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return apigw.NotFound().WithCause(err)
	case errors.Is(err, ErrForbidden):
		return apigw.Forbidden().WithCause(err)
	case errors.Is(err, ErrPreconditionRequired):
		return apigw.NewError(http.StatusPreconditionRequired, CodePreconditionRequired,
			`This request must carry If-Match with the resource version, like "3".`).WithCause(err)
	case errors.Is(err, ErrStale):
		return apigw.PreconditionFailed("The resource has changed since that version; read it again.").WithCause(err)
	case errors.Is(err, ErrNotPending):
		return apigw.Conflict("The application is no longer pending.").WithCause(err)
	case errors.Is(err, ErrAlreadyApplied):
		return apigw.Conflict("You have already applied to this program.").WithCause(err)
	case errors.Is(err, ErrNotAccepting):
		return apigw.Conflict("The program does not accept this in its current state.").WithCause(err)
	case errors.Is(err, ErrFull):
		return apigw.Conflict("The program is full.").WithCause(err)
	case errors.Is(err, ErrConflict):
		return apigw.Conflict("The resource changed while this request was processed; retry.").WithCause(err)
	case errors.Is(err, ErrInvalidCursor), errors.Is(err, cursor.ErrInvalidCursor),
		errors.Is(err, store.ErrInvalidStartKey), errors.Is(err, store.ErrInvalidPageStart):
		return apigw.Validation(validate.Errors{{Field: "cursor", Reason: "is invalid or expired; start again from the first page"}}).WithCause(err)
	case errors.Is(err, ErrIdempotencyMismatch):
		return apigw.NewError(http.StatusUnprocessableEntity, CodeIdempotencyMismatch,
			"This Idempotency-Key was used with a different request.").WithCause(err)
	case errors.Is(err, ErrIdempotencyInFlight):
		e := apigw.Conflict("A request with this Idempotency-Key is still being processed; retry later.")
		e.RetryAfter = time.Second
		return e.WithCause(err)
	}
	return err
}
