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

// Lister lists an organization's programs.
type Lister interface {
	ListOrgPrograms(ctx context.Context, c programs.Caller, orgID string, limit int, cursorToken string) (programs.ProgramList, error)
}

var _ Lister = (*programs.Service)(nil)

// Handler answers GET /v1/orgs/{orgId}/programs.
type Handler struct{ svc Lister }

// NewHandler returns the handler.
func NewHandler(svc Lister) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("orgs-programs-list: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle answers one page of the organization's programs.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodGet); err != nil {
		return apigw.Response{}, err
	}
	c, err := programs.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req, "limit", "cursor"); err != nil {
		return apigw.Response{}, err
	}
	if err := programs.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	orgID, err := apigw.PathID(req, "orgId", ids.Org)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, token, err := programs.PageParams(req)
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.svc.ListOrgPrograms(ctx, c, orgID, limit, token)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
