package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
)

// Revoker revokes one of the caller's sessions.
type Revoker interface {
	Revoke(ctx context.Context, c account.Caller, sessionID string) error
}

var _ Revoker = (*account.SessionRevoker)(nil)

// Handler answers DELETE /v1/me/sessions/{sessionId}.
type Handler struct {
	revoker Revoker
}

// NewHandler returns the handler.
func NewHandler(r Revoker) (*Handler, error) {
	if r == nil {
		return nil, errors.New("me-sessions-revoke: nil revoker")
	}
	return &Handler{revoker: r}, nil
}

// Handle revokes the session and answers 204. A malformed ID, an unknown
// session and another user's session all answer the same 404.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodDelete {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodDelete)
	}
	c, err := account.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	sessionID, err := apigw.PathID(req, "sessionId", ids.Session)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := account.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	if err := h.revoker.Revoke(ctx, c, sessionID); err != nil {
		return apigw.Response{}, account.ToHTTP(err)
	}
	return apigw.NoContent()
}
