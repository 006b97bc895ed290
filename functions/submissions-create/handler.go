package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/work"
)

// Submitter creates submission versions.
type Submitter interface {
	Submit(ctx context.Context, c work.Caller, enrollmentID, taskID string, in work.SubmitInput, idem work.Idem) (work.Created, error)
}

var _ Submitter = (*work.Submitter)(nil)

// maxBody fits the largest valid body: 20000 characters of text (up to 4
// bytes each in UTF-8) plus 10 links of 2048 bytes and 10 upload IDs.
const maxBody = 128 << 10

// Handler answers POST /v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions.
type Handler struct {
	svc Submitter
}

// NewHandler returns the handler.
func NewHandler(svc Submitter) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("submissions-create: nil submitter")
	}
	return &Handler{svc: svc}, nil
}

// Handle submits the work and answers 201 with the new version (or the
// first answer again for a retried Idempotency-Key).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	c, err := work.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	enrollmentID, err := apigw.PathID(req, "enrollmentId", ids.Enrollment)
	if err != nil {
		return apigw.Response{}, err
	}
	taskID, err := apigw.PathID(req, "taskId", ids.Task)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	var in work.SubmitInput
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	idem, err := work.IdemFrom(req, maxBody)
	if err != nil {
		return apigw.Response{}, work.ToHTTP(err)
	}
	res, err := h.svc.Submit(ctx, c, enrollmentID, taskID, in, idem)
	if err != nil {
		return apigw.Response{}, work.ToHTTP(err)
	}
	resp := apigw.Response{Status: res.Status, Headers: map[string]string{"Content-Type": "application/json"}, Body: res.Body}
	if res.Replayed {
		resp = resp.WithHeader(idempotency.ReplayedHeader, "true")
	}
	return resp, nil
}
