package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/enrollment"
)

// Reader lists the caller's enrollments.
type Reader interface {
	Mine(ctx context.Context, c enrollment.Caller, p enrollment.Page) (enrollment.EnrollmentList, error)
}

var _ Reader = (*enrollment.EnrollmentReader)(nil)

// Handler answers GET /v1/me/enrollments.
type Handler struct {
	reader Reader
}

// NewHandler returns the handler.
func NewHandler(r Reader) (*Handler, error) {
	if r == nil {
		return nil, errors.New("me-enrollments-list: nil reader")
	}
	return &Handler{reader: r}, nil
}

// Handle answers one page of the caller's enrollments, newest first, each
// with its progress.
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
	list, err := h.reader.Mine(ctx, c, page)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
