package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// SecondFactor is the one call the handler makes.
type SecondFactor interface {
	LoginMFA(ctx context.Context, m identity.Meta, in identity.LoginMFARequest) (identity.Tokens, error)
}

var _ SecondFactor = (*identity.Service)(nil)

// Handler answers POST /v1/auth/login/mfa.
type Handler struct{ svc SecondFactor }

// NewHandler returns a Handler over svc.
func NewHandler(svc SecondFactor) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("auth-login-mfa: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle decodes the LoginMFARequest strictly and answers 200 with Tokens;
// every wrong, replayed or expired attempt answers the same 401
// invalid_credentials (and spends the challenge), a throttled one 429.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	var in identity.LoginMFARequest
	if err := apigw.Decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	t, err := h.svc.LoginMFA(ctx, identity.MetaFrom(req), in)
	if err != nil {
		return apigw.Response{}, identity.APIError(err)
	}
	return apigw.JSON(http.StatusOK, t)
}
