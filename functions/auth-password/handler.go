package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// PasswordChanger is the one call the handler makes.
type PasswordChanger interface {
	ChangePassword(ctx context.Context, m identity.Meta, p apigw.Principal, in identity.ChangePasswordRequest) error
}

var _ PasswordChanger = (*identity.Service)(nil)

// Handler answers POST /v1/auth/password.
type Handler struct{ svc PasswordChanger }

// NewHandler returns a Handler over svc.
func NewHandler(svc PasswordChanger) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("auth-password: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle changes the caller's password and answers 204; every other session
// of the caller is revoked. A wrong current password answers 403
// invalid_credentials, a new password the policy refuses 400 on
// newPassword, too many wrong attempts 429.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in identity.ChangePasswordRequest
	if err := apigw.Decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	if err := h.svc.ChangePassword(ctx, identity.MetaFrom(req), p, in); err != nil {
		return apigw.Response{}, identity.APIError(err)
	}
	return apigw.NoContent()
}
