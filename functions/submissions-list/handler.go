package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/work"
)

// Lister lists an enrollment's submissions.
type Lister interface {
	List(ctx context.Context, c work.Caller, enrollmentID string) (work.SubmissionList, error)
}

var _ Lister = (*work.Lister)(nil)

// Handler answers GET /v1/enrollments/{enrollmentId}/submissions.
type Handler struct {
	svc Lister
}

// NewHandler returns the handler.
func NewHandler(svc Lister) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("submissions-list: nil lister")
	}
	return &Handler{svc: svc}, nil
}

// Handle answers 200 with every version, by task and version.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
	}
	c, err := work.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	enrollmentID, err := apigw.PathID(req, "enrollmentId", ids.Enrollment)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := work.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	list, err := h.svc.List(ctx, c, enrollmentID)
	if err != nil {
		return apigw.Response{}, work.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
