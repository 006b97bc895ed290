package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
)

// Creator adds tasks.
type Creator interface {
	CreateTask(ctx context.Context, c programs.Caller, programID string, in programs.CreateTaskRequest, ik programs.IdempotencyKey) (programs.Created[programs.TaskView], error)
}

var _ Creator = (*programs.Service)(nil)

// Handler answers POST /v1/programs/{programId}/tasks.
type Handler struct{ svc Creator }

// NewHandler returns the handler.
func NewHandler(svc Creator) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("tasks-create: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle adds the task and answers it with its ETag.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodPost); err != nil {
		return apigw.Response{}, err
	}
	c, err := programs.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	programID, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	ik, err := programs.IdempotencyKeyFrom(req, programs.MaxBody)
	if err != nil {
		return apigw.Response{}, err
	}
	var in programs.CreateTaskRequest
	if err := programs.DecodePatch(req, &in, programs.MaxBody, false); err != nil {
		return apigw.Response{}, err
	}
	res, err := h.svc.CreateTask(ctx, c, programID, in, ik)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return programs.CreatedResponse(res.View, res.View.ETag(), res.Replayed)
}
