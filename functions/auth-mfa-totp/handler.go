package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
)

// Enroller starts a TOTP enrolment.
type Enroller interface {
	Enrol(ctx context.Context, c account.Caller) (account.TOTPEnrollment, error)
}

var _ Enroller = (*account.MFA)(nil)

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

// Handle starts the enrolment and answers the secret and its otpauth URL,
// the only time either leaves the service (the response is no-store, as
// every response). 409 when TOTP is already enabled.
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
	if err := account.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	enr, err := h.enroller.Enrol(ctx, c)
	if err != nil {
		return apigw.Response{}, account.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, enr)
}
