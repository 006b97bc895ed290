package main

import (
	"context"
	"encoding/json/jsontext"
	"errors"
	"log/slog"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/auth/password/policy"
)

// Bootstrapper creates the first platform admin.
type Bootstrapper interface {
	Bootstrap(ctx context.Context, in account.BootstrapRequest) (account.BootstrapResult, error)
}

var _ Bootstrapper = (*account.Bootstrapper)(nil)

// Handler serves the CLI invocation.
type Handler struct {
	bootstrapper Bootstrapper
	log          *slog.Logger
}

// NewHandler returns the handler; log receives one line per invocation.
func NewHandler(b Bootstrapper, log *slog.Logger) (*Handler, error) {
	if b == nil || log == nil {
		return nil, errors.New("admin-bootstrap: nil bootstrapper or logger")
	}
	return &Handler{bootstrapper: b, log: log}, nil
}

// Handle decodes the payload strictly (a misspelled member is refused,
// not ignored) and bootstraps. The raw payload is taken rather than a typed
// one because lambda.Start decodes leniently. Errors are safe to print in
// the operator's terminal.
func (h *Handler) Handle(ctx context.Context, raw jsontext.Value) (account.BootstrapResult, error) {
	return account.RunCLI(ctx, h.log, raw, h.bootstrapper.Bootstrap)
}

// PasswordViolation adapts the password policy to account.PasswordPolicy.
func PasswordViolation(password string, context ...string) string {
	err := policy.Check(password, context...)
	var pe *policy.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return pe.Reason
	}
	return "is not acceptable"
}
