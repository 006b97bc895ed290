package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// Registrar is the one call the handler makes.
type Registrar interface {
	Register(ctx context.Context, m identity.Meta, in identity.RegisterRequest) (identity.Accepted, error)
}

var _ Registrar = (*identity.Service)(nil)

// Handler answers POST /v1/auth/register.
type Handler struct{ svc Registrar }

// NewHandler returns a Handler over svc.
func NewHandler(svc Registrar) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("auth-register: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle decodes the RegisterRequest strictly and answers 202 Accepted, the
// same body whether or not the email was already registered; 400 lists
// every failing field (the password's policy reason included), 429 a
// throttled source IP.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	var in identity.RegisterRequest
	if err := apigw.Decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	out, err := h.svc.Register(ctx, identity.MetaFrom(req), in)
	if err != nil {
		return apigw.Response{}, identity.APIError(err)
	}
	return apigw.JSON(http.StatusAccepted, out)
}
