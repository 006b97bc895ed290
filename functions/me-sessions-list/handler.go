package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
)

// Lister lists the caller's sessions.
type Lister interface {
	List(ctx context.Context, c account.Caller) (account.SessionList, error)
}

var _ Lister = (*account.SessionLister)(nil)

// Handler answers GET /v1/me/sessions.
type Handler struct {
	lister Lister
}

// NewHandler returns the handler.
func NewHandler(l Lister) (*Handler, error) {
	if l == nil {
		return nil, errors.New("me-sessions-list: nil lister")
	}
	return &Handler{lister: l}, nil
}

// Handle answers the caller's live sessions, newest first, the one this
// request came with marked current.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
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
	list, err := h.lister.List(ctx, c)
	if err != nil {
		return apigw.Response{}, account.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
