package main

import (
	"context"
	"encoding/json/jsontext"
	"errors"
	"log/slog"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/programs"
)

// OrgCreator is the one admin operation this function performs.
type OrgCreator interface {
	CreateOrg(ctx context.Context, in programs.CreateOrgRequest) (programs.CreateOrgResult, error)
}

var _ OrgCreator = (*programs.Service)(nil)

// Handler serves the CLI invocation.
type Handler struct {
	svc OrgCreator
	log *slog.Logger
}

// NewHandler returns the handler; log receives one line per invocation
// (never the invite code: only the result carries it).
func NewHandler(svc OrgCreator, log *slog.Logger) (*Handler, error) {
	if svc == nil || log == nil {
		return nil, errors.New("admin-create-org: nil service or logger")
	}
	return &Handler{svc: svc, log: log}, nil
}

// Handle decodes the payload strictly (a misspelled member is refused, not
// ignored) and runs the operation. Errors are safe to print in the
// operator's terminal: refusals and validation say what is wrong, faults
// only "internal error" and the request ID.
func (h *Handler) Handle(ctx context.Context, raw jsontext.Value) (programs.CreateOrgResult, error) {
	return account.RunCLI(ctx, h.log, raw, func(ctx context.Context, in programs.CreateOrgRequest) (programs.CreateOrgResult, error) {
		res, err := h.svc.CreateOrg(ctx, in)
		var ref *programs.Refusal
		if errors.As(err, &ref) {
			// RunCLI shows an account.Refusal's message to the operator.
			return res, &account.Refusal{Message: ref.Message}
		}
		return res, err
	})
}
