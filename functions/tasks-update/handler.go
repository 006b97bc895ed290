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

// Updater edits tasks.
type Updater interface {
	UpdateTask(ctx context.Context, c programs.Caller, programID, taskID string, ifMatch int64, in programs.UpdateTaskRequest) (programs.TaskView, error)
}

var _ Updater = (*programs.Service)(nil)

// Handler answers PATCH /v1/programs/{programId}/tasks/{taskId}.
type Handler struct{ svc Updater }

// NewHandler returns the handler.
func NewHandler(svc Updater) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("tasks-update: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle applies the partial update and answers the task and its ETag.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodPatch); err != nil {
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
	taskID, err := apigw.PathID(req, "taskId", ids.Task)
	if err != nil {
		return apigw.Response{}, err
	}
	ifMatch, err := programs.ParseIfMatch(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in programs.UpdateTaskRequest
	if err := programs.DecodePatch(req, &in, programs.MaxBody, true); err != nil {
		return apigw.Response{}, err
	}
	t, err := h.svc.UpdateTask(ctx, c, programID, taskID, ifMatch, in)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return programs.JSONWithETag(http.StatusOK, t, t.ETag())
}
