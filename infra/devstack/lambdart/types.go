// Package lambdart is the devstack's own implementation of the AWS Lambda
// Runtime API: it runs each function's bootstrap binary as a local process
// (one at first use, more when invocations overlap), hands it invocations over
// the Runtime API, and enforces the function's timeout.
package lambdart

import (
	"errors"
	"fmt"
	"time"
)

// Errors an invocation can end with besides a handler error. The REST gateway
// answers each of them with API Gateway's 502.
var (
	// ErrUnknownFunction: no function of that name was registered.
	ErrUnknownFunction = errors.New("lambdart: unknown function")
	// ErrTimeout: the invocation ran past the function's timeout; the process
	// was killed, as Lambda resets the sandbox.
	ErrTimeout = errors.New("lambdart: task timed out")
	// ErrCrashed: the process exited (or panicked) during the invocation; it
	// is replaced on the next call.
	ErrCrashed = errors.New("lambdart: runtime exited")
	// ErrInitFailed: the process reported /init/error or exited before asking
	// for its first invocation.
	ErrInitFailed = errors.New("lambdart: init failed")
)

// FunctionError is the body a runtime posts to /invocation/{id}/error, as
// aws-lambda-go sends it.
type FunctionError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

// Result is the outcome of one invocation that reached a runtime.
type Result struct {
	// RequestID is the Lambda request ID handed to the function.
	RequestID string
	// Payload is the response body the function posted (nil on error).
	Payload []byte
	// FunctionError is set when the handler returned an error.
	FunctionError *FunctionError
	// Cold is true when this invocation started a new process.
	Cold bool
	// InitDuration is process start to first /next call (cold starts only).
	InitDuration time.Duration
	// Duration is the invocation time, /next handed out to response posted.
	Duration time.Duration
}

// ErrClosed: the Manager was closed; in-flight invocations end with it too.
var ErrClosed = errors.New("lambdart: manager closed")

// InvokeError is the error Invoke returns when an invocation ended with one
// of the sentinels above: errors.Is(err, ErrTimeout) and friends work on it,
// and errors.As gives the gateway or `make invoke` the request ID and what
// the runtime reported before it went away (a panic's message, an
// /init/error body), so they can print it the way Lambda would.
type InvokeError struct {
	// Kind is ErrTimeout, ErrCrashed or ErrInitFailed.
	Kind error
	// Function is the logical ID the invocation was for.
	Function string
	// RequestID is empty when no request reached a runtime (init failures).
	RequestID string
	// Reason says what happened, in Lambda's words where Lambda has some
	// ("Task timed out after 3.00 seconds", "exit status 2").
	Reason string
	// Reported is what the runtime posted to /error or /init/error before
	// failing, if anything.
	Reported *FunctionError
}

// Error joins the kind, the function, the reason and the reported error.
func (e *InvokeError) Error() string {
	s := fmt.Sprintf("%v: function %s", e.Kind, e.Function)
	if e.RequestID != "" {
		s += " request " + e.RequestID
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Reported != nil {
		s += fmt.Sprintf(" (%s: %s)", e.Reported.ErrorType, e.Reported.ErrorMessage)
	}
	return s
}

// Unwrap returns Kind, so errors.Is matches the sentinel.
func (e *InvokeError) Unwrap() error { return e.Kind }
