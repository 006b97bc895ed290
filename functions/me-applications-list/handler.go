package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/enrollment"
)

// Lister lists the caller's applications.
type Lister interface {
	Mine(ctx context.Context, c enrollment.Caller, p enrollment.Page) (enrollment.ApplicationList, error)
}

var _ Lister = (*enrollment.ApplicationLister)(nil)

// Handler answers GET /v1/me/applications.
type Handler struct {
	lister Lister
}

// NewHandler returns the handler.
func NewHandler(l Lister) (*Handler, error) {
	if l == nil {
		return nil, errors.New("me-applications-list: nil lister")
	}
	return &Handler{lister: l}, nil
}

// Handle answers one page of the caller's applications, newest first.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
	}
	c, err := enrollment.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req, "limit", "cursor"); err != nil {
		return apigw.Response{}, err
	}
	if err := enrollment.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	page, err := enrollment.PageFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.lister.Mine(ctx, c, page)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
