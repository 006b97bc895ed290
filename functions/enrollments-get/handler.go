package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/ids"
)

// Reader reads one enrollment.
type Reader interface {
	Get(ctx context.Context, c enrollment.Caller, id string) (enrollment.EnrollmentView, error)
}

var _ Reader = (*enrollment.EnrollmentReader)(nil)

// Handler answers GET /v1/enrollments/{enrollmentId}.
type Handler struct {
	reader Reader
}

// NewHandler returns the handler.
func NewHandler(r Reader) (*Handler, error) {
	if r == nil {
		return nil, errors.New("enrollments-get: nil reader")
	}
	return &Handler{reader: r}, nil
}

// Handle answers the enrollment with its ETag.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
	}
	c, err := enrollment.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	id, err := apigw.PathID(req, "enrollmentId", ids.Enrollment)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := enrollment.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	v, err := h.reader.Get(ctx, c, id)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	resp, err := apigw.JSON(http.StatusOK, v)
	return resp.WithHeader("ETag", enrollment.ETag(v.Version)), err
}
