package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// Refresher is the one call the handler makes.
type Refresher interface {
	Refresh(ctx context.Context, m identity.Meta, in identity.RefreshRequest) (identity.Tokens, error)
}

var _ Refresher = (*identity.Service)(nil)

// Handler answers POST /v1/auth/refresh.
type Handler struct{ svc Refresher }

// NewHandler returns a Handler over svc.
func NewHandler(svc Refresher) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("auth-refresh: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle decodes the RefreshRequest strictly and answers 200 with new
// Tokens; a malformed, unknown, expired or spent token answers 401
// invalid_credentials (a spent one also revokes its session).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	var in identity.RefreshRequest
	if err := apigw.Decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	t, err := h.svc.Refresh(ctx, identity.MetaFrom(req), in)
	if err != nil {
		return apigw.Response{}, identity.APIError(err)
	}
	return apigw.JSON(http.StatusOK, t)
}
