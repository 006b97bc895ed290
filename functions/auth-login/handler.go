package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// Authenticator is the one call the handler makes.
type Authenticator interface {
	Login(ctx context.Context, m identity.Meta, in identity.LoginRequest) (identity.LoginResult, error)
}

var _ Authenticator = (*identity.Service)(nil)

// Handler answers POST /v1/auth/login.
type Handler struct{ svc Authenticator }

// NewHandler returns a Handler over svc.
func NewHandler(svc Authenticator) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("auth-login: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle decodes the LoginRequest strictly and answers 200 with Tokens or an
// MFAChallenge; failures are mapped by identity.APIError (401
// invalid_credentials for every kind of wrong credentials, 403 mfa_required,
// 429 with Retry-After).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	var in identity.LoginRequest
	if err := apigw.Decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	res, err := h.svc.Login(ctx, identity.MetaFrom(req), in)
	switch {
	case err != nil:
		return apigw.Response{}, identity.APIError(err)
	case res.Challenge != nil:
		return apigw.JSON(http.StatusOK, res.Challenge)
	case res.Tokens != nil:
		return apigw.JSON(http.StatusOK, res.Tokens)
	}
	return apigw.Response{}, errors.New("auth-login: login returned neither tokens nor a challenge")
}
