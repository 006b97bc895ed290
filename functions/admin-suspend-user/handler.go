package main

import (
	"context"
	"encoding/json/jsontext"
	"errors"
	"log/slog"

	"github.com/vip-platform/backend/shared/account"
)

// Suspender is the one admin operation this function performs.
type Suspender interface {
	Suspend(ctx context.Context, in account.StatusChange) (account.SuspendResult, error)
}

var _ Suspender = (*account.Admin)(nil)

// Handler serves the CLI invocation.
type Handler struct {
	suspender Suspender
	log       *slog.Logger
}

// NewHandler returns the handler; log receives one line per invocation.
func NewHandler(a Suspender, log *slog.Logger) (*Handler, error) {
	if a == nil || log == nil {
		return nil, errors.New("admin-suspend-user: nil admin service or logger")
	}
	return &Handler{suspender: a, log: log}, nil
}

// Handle decodes the payload strictly (a misspelled member is refused,
// not ignored: lambda.Start alone would decode leniently) and runs the
// operation. Errors are safe to print in the operator's terminal.
func (h *Handler) Handle(ctx context.Context, raw jsontext.Value) (account.SuspendResult, error) {
	return account.RunCLI(ctx, h.log, raw, h.suspender.Suspend)
}
