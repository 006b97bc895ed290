package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
)

// Profiles reads the caller's profile.
type Profiles interface {
	Get(ctx context.Context, c account.Caller) (account.Me, error)
}

var _ Profiles = (*account.Profiles)(nil)

// Handler answers GET /v1/me.
type Handler struct {
	profiles Profiles
}

// NewHandler returns the handler.
func NewHandler(p Profiles) (*Handler, error) {
	if p == nil {
		return nil, errors.New("me-get: nil profiles")
	}
	return &Handler{profiles: p}, nil
}

// Handle returns the caller's profile with its version as ETag (the value
// PATCH /v1/me takes in If-Match). No query parameters and no body.
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
	me, err := h.profiles.Get(ctx, c)
	if err != nil {
		return apigw.Response{}, account.ToHTTP(err)
	}
	resp, err := apigw.JSON(http.StatusOK, me)
	return resp.WithHeader("ETag", me.ETag()), err
}
