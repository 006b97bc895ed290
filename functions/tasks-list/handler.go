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

// Lister lists a program's tasks.
type Lister interface {
	ListTasks(ctx context.Context, c programs.Caller, programID string) (programs.TaskList, error)
}

var _ Lister = (*programs.Service)(nil)

// Handler answers GET /v1/programs/{programId}/tasks.
type Handler struct{ svc Lister }

// NewHandler returns the handler.
func NewHandler(svc Lister) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("tasks-list: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle answers the program's tasks in order.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if err := programs.RequireMethod(req, http.MethodGet); err != nil {
		return apigw.Response{}, err
	}
	c, err := programs.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := programs.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	programID, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.svc.ListTasks(ctx, c, programID)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
