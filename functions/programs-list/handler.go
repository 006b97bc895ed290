package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/programs"
)

// Lister lists open programs publicly.
type Lister interface {
	ListOpenPrograms(ctx context.Context, skill string, limit int, cursorToken string) (programs.PublicProgramList, error)
}

var _ Lister = (*programs.Service)(nil)

// Handler answers GET /v1/programs (public: no authorizer runs).
type Handler struct{ svc Lister }

// NewHandler returns the handler.
func NewHandler(svc Lister) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("programs-list: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle answers one page of open programs in their public shape.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodGet); err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req, "skill", "limit", "cursor"); err != nil {
		return apigw.Response{}, err
	}
	if err := programs.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	skill, err := apigw.Query(req, "skill")
	if err != nil {
		return apigw.Response{}, err
	}
	limit, token, err := programs.PageParams(req)
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.svc.ListOpenPrograms(ctx, skill, limit, token)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
