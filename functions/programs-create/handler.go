package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
)

// Creator creates draft programs.
type Creator interface {
	CreateProgram(ctx context.Context, c programs.Caller, orgID string, in programs.CreateProgramRequest, ik programs.IdempotencyKey) (programs.Created[programs.ProgramView], error)
}

var _ Creator = (*programs.Service)(nil)

// Handler answers POST /v1/orgs/{orgId}/programs.
type Handler struct{ svc Creator }

// NewHandler returns the handler.
func NewHandler(svc Creator) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("programs-create: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle creates the draft and answers it with its ETag.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodPost); err != nil {
		return apigw.Response{}, err
	}
	c, err := programs.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	orgID, err := apigw.PathID(req, "orgId", ids.Org)
	if err != nil {
		return apigw.Response{}, err
	}
	ik, err := programs.IdempotencyKeyFrom(req, programs.MaxBody)
	if err != nil {
		return apigw.Response{}, err
	}
	var in programs.CreateProgramRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(programs.MaxBody)); err != nil {
		return apigw.Response{}, err
	}
	res, err := h.svc.CreateProgram(ctx, c, orgID, in, ik)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return programs.CreatedResponse(res.View, res.View.ETag(), res.Replayed)
}
