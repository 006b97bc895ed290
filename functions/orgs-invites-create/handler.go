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

// Inviter creates invites.
type Inviter interface {
	CreateInvite(ctx context.Context, c programs.Caller, orgID string, in programs.CreateInviteRequest, ik programs.IdempotencyKey) (programs.InviteView, error)
}

var _ Inviter = (*programs.Service)(nil)

// Handler answers POST /v1/orgs/{orgId}/invites.
type Handler struct{ svc Inviter }

// NewHandler returns the handler.
func NewHandler(svc Inviter) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("orgs-invites-create: nil service")
	}
	return &Handler{svc: svc}, nil
}

// maxBody is generous for an email and a role.
const maxBody = 4 << 10

// Handle creates the invite and answers it, code included, once.
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
	ik, err := programs.IdempotencyKeyFrom(req, maxBody)
	if err != nil {
		return apigw.Response{}, err
	}
	var in programs.CreateInviteRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	inv, err := h.svc.CreateInvite(ctx, c, orgID, in, ik)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return apigw.JSON(http.StatusCreated, inv)
}
