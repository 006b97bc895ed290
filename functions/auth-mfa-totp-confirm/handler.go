package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
)

// Confirmer confirms a TOTP enrolment.
type Confirmer interface {
	Confirm(ctx context.Context, c account.Caller, code string) error
}

var _ Confirmer = (*account.MFA)(nil)

// Handler answers POST /v1/auth/mfa/totp/confirm.
type Handler struct {
	confirmer Confirmer
}

// NewHandler returns the handler.
func NewHandler(c Confirmer) (*Handler, error) {
	if c == nil {
		return nil, errors.New("auth-mfa-totp-confirm: nil confirmer")
	}
	return &Handler{confirmer: c}, nil
}

// confirmRequest is the openapi TOTPCode.
type confirmRequest struct {
	Code string `json:"code"`
}

// maxBody is generous for a six-digit code.
const maxBody = 1 << 10

// Handle enables TOTP when the code matches the pending secret: 204; a
// wrong, expired or replayed code is 400 validation_failed on "code"; 409
// without a pending enrolment or when TOTP is already on.
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
	var in confirmRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	if err := h.confirmer.Confirm(ctx, c, in.Code); err != nil {
		return apigw.Response{}, account.ToHTTP(err)
	}
	return apigw.NoContent()
}
