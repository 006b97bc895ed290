package apigw

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vip-platform/backend/shared/validate"
)

// Error codes of the error envelope. They are part of the public contract
// (api-docs/openapi.yaml); clients branch on them, never on messages.
const (
	CodeBadRequest           = "bad_request"
	CodeInvalidBody          = "invalid_body"
	CodeValidationFailed     = "validation_failed"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"
	CodePreconditionFailed   = "precondition_failed"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeInternal             = "internal_error"
)

// Error is a client error: returned (possibly wrapped) by a handler, Wrap
// answers it with Status and the envelope built from Code, Message and
// Fields. Build one with the constructors; the cause (WithCause) is logged,
// never sent.
type Error struct {
	// Status is the HTTP status, 4xx. A 5xx Error is answered like any
	// internal error: internal_error and nothing else.
	Status int
	// Code is the stable snake_case error code.
	Code string
	// Message is a human-readable explanation safe to show to the caller.
	Message string
	// Fields lists offending fields, for validation and body errors.
	Fields []validate.FieldError
	// RetryAfter, when positive, becomes a Retry-After header (seconds).
	RetryAfter time.Duration
	// Allow, for 405, lists the allowed methods (Allow header).
	Allow []string
	// Header holds extra response headers (e.g. WWW-Authenticate).
	Header map[string]string

	cause error
}

// Error describes the client error for logs; it includes the cause.
func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the cause given to WithCause.
func (e *Error) Unwrap() error { return e.cause }

// Cause returns the cause given to WithCause, or nil.
func (e *Error) Cause() error { return e.cause }

// WithCause returns a copy of e carrying cause, which Wrap logs (with the
// request ID) and never sends: the reason behind a 401, 403 or a
// 404-for-denied is for operators, not for the caller.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// NewError builds a client error with a domain-specific code, e.g.
// NewError(401, "invalid_credentials", "Email or password is incorrect.").
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest is a 400 for a request that is wrong as a whole (fields go in
// Validation).
func BadRequest(message string) *Error {
	return NewError(http.StatusBadRequest, CodeBadRequest, message)
}

// Validation is a 400 listing every failing field.
func Validation(fields validate.Errors) *Error {
	e := NewError(http.StatusBadRequest, CodeValidationFailed, "Some fields are invalid.")
	e.Fields = slices.Clone(fields)
	return e
}

// Unauthorized is a 401: no valid credentials. The message is the same
// whatever went wrong, so it tells an attacker nothing; put the reason in
// WithCause.
func Unauthorized() *Error {
	e := NewError(http.StatusUnauthorized, CodeUnauthorized, "Authentication is required.")
	e.Header = map[string]string{"WWW-Authenticate": "Bearer"}
	return e
}

// Forbidden is a 403: authenticated but not allowed, for resources the
// caller may know exist (their own account, their org). For a resource the
// caller may not even see, use NotFoundForDenied.
func Forbidden() *Error {
	return NewError(http.StatusForbidden, CodeForbidden, "You are not allowed to do this.")
}

// NotFound is a 404.
func NotFound() *Error {
	return NewError(http.StatusNotFound, CodeNotFound, "The resource was not found.")
}

// NotFoundForDenied answers a denied access to a resource the caller may not
// see with the very 404 a missing resource gets (DESIGN.md: "a resource the
// caller may not see answers 404, not 403"), so IDs of other users, orgs or
// programs cannot be probed for existence. The denial reason is logged by
// Wrap; the handler still audits it.
func NotFoundForDenied(reason error) *Error {
	return NotFound().WithCause(fmt.Errorf("access denied, answered 404: %w", reason))
}

// MethodNotAllowed is a 405 with an Allow header.
func MethodNotAllowed(allowed ...string) *Error {
	e := NewError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "This method is not allowed here.")
	e.Allow = slices.Clone(allowed)
	return e
}

// Conflict is a 409: the request conflicts with the current state.
func Conflict(message string) *Error {
	return NewError(http.StatusConflict, CodeConflict, message)
}

// PreconditionFailed is a 412: If-Match did not match the current version.
func PreconditionFailed(message string) *Error {
	return NewError(http.StatusPreconditionFailed, CodePreconditionFailed, message)
}

// PayloadTooLarge is a 413 naming the limit.
func PayloadTooLarge(limit int64) *Error {
	return NewError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
		fmt.Sprintf("The request body must be at most %d bytes.", limit))
}

// UnsupportedMediaType is a 415: the body is not declared as JSON.
func UnsupportedMediaType() *Error {
	return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		"The request body must be sent with Content-Type: application/json.")
}

// TooManyRequests is a 429 telling the client when to retry.
func TooManyRequests(retryAfter time.Duration) *Error {
	e := NewError(http.StatusTooManyRequests, CodeRateLimited, "Too many requests; try again later.")
	e.RetryAfter = retryAfter
	return e
}

// ErrorEnvelope is the body of every error response.
type ErrorEnvelope struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the content of an ErrorEnvelope.
type ErrorBody struct {
	Code      string                `json:"code"`
	Message   string                `json:"message"`
	Fields    []validate.FieldError `json:"fields,omitempty"`
	RequestID string                `json:"requestId,omitempty"`
}

// internalBody is all a 5xx ever says.
func internalBody(requestID string) ErrorEnvelope {
	return ErrorEnvelope{Error: ErrorBody{Code: CodeInternal, Message: "An internal error occurred.", RequestID: requestID}}
}

// clientError finds the client error in err's chain: an *Error, or
// validate.Errors (answered as Validation). It returns nil for anything else,
// which is an internal error.
func clientError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ve validate.Errors
	if errors.As(err, &ve) {
		return Validation(ve).WithCause(err)
	}
	return nil
}

// retryAfterSeconds rounds up, at least 1: "Retry-After: 0" invites a
// hammering retry loop.
func retryAfterSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

func joinMethods(m []string) string { return strings.Join(m, ", ") }
