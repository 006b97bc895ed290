package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
)

// Enroller starts a TOTP enrolment once the current password is verified.
type Enroller interface {
	Enrol(ctx context.Context, c account.Caller, currentPassword string) (account.TOTPEnrollment, error)
}

var _ Enroller = (*account.TOTPEnroller)(nil)

// enrolRequest is the body, exactly the openapi TOTPEnrollRequest: any
// other member is refused by apigw.Decode.
type enrolRequest struct {
	CurrentPassword string `json:"currentPassword"`
}

// Handler answers POST /v1/auth/mfa/totp.
type Handler struct {
	enroller Enroller
}

// NewHandler returns the handler.
func NewHandler(e Enroller) (*Handler, error) {
	if e == nil {
		return nil, errors.New("auth-mfa-totp: nil enroller")
	}
	return &Handler{enroller: e}, nil
}

// Handle verifies the caller's current password, starts the enrolment and
// answers the secret and its otpauth URL, the only time either leaves the
// service (the response is no-store, as every response). A wrong password
// answers 403 invalid_credentials, too many of them 429, an account with
// TOTP already enabled 409; the password (1..1024 characters) is validated
// by the service.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	c, err := account.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	var in enrolRequest
	if err := apigw.Decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	enr, err := h.enroller.Enrol(ctx, c, in.CurrentPassword)
	if err != nil {
		return apigw.Response{}, toHTTP(err)
	}
	return apigw.JSON(http.StatusOK, enr)
}

// toHTTP is the function's one error mapping: the account sentinels
// (account.ToHTTP), then the re-authentication answers, which the service
// gives in identity's terms so they match a password change exactly
// (identity.APIError). The two sets are disjoint and each mapper passes
// the other's errors through unchanged.
func toHTTP(err error) error {
	return identity.APIError(account.ToHTTP(err))
}
