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

// Getter reads a program publicly.
type Getter interface {
	GetPublicProgram(ctx context.Context, c programs.Caller, id string) (programs.PublicProgramView, error)
}

var _ Getter = (*programs.Service)(nil)

// Handler answers GET /v1/programs/{programId} (public: no authorizer
// runs).
type Handler struct{ svc Getter }

// NewHandler returns the handler.
func NewHandler(svc Getter) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("programs-get: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle answers the program's public shape, or 404 for drafts, archived
// and unknown programs alike.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodGet); err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := programs.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	id, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	p, err := h.svc.GetPublicProgram(ctx, programs.PublicCaller(req), id)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, p)
}
