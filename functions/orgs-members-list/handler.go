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

// MemberLister lists an organization's staff.
type MemberLister interface {
	ListMembers(ctx context.Context, c programs.Caller, orgID string) (programs.MemberList, error)
}

var _ MemberLister = (*programs.Service)(nil)

// Handler answers GET /v1/orgs/{orgId}/members.
type Handler struct{ svc MemberLister }

// NewHandler returns the handler.
func NewHandler(svc MemberLister) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("orgs-members-list: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle answers the organization's mentors and org admins.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodGet); err != nil {
		return apigw.Response{}, err
	}
	c, err := programs.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := programs.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	orgID, err := apigw.PathID(req, "orgId", ids.Org)
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.svc.ListMembers(ctx, c, orgID)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
