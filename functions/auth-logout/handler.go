package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// Logouter is the one call the handler makes.
type Logouter interface {
	Logout(ctx context.Context, m identity.Meta, p apigw.Principal) error
}

var _ Logouter = (*identity.Service)(nil)

// Handler answers POST /v1/auth/logout.
type Handler struct{ svc Logouter }

// NewHandler returns a Handler over svc.
func NewHandler(svc Logouter) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("auth-logout: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle revokes the caller's session (its refresh token stops working and
// the authorizer refuses its access token on the next call) and answers 204.
// The caller is the principal the authorizer vouched for; without one the
// answer is 401. The route takes no body and ignores one.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.svc.Logout(ctx, identity.MetaFrom(req), p); err != nil {
		return apigw.Response{}, identity.APIError(err)
	}
	return apigw.NoContent()
}
