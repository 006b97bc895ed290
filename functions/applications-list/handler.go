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

// Lister lists a program's applications.
type Lister interface {
	ForProgram(ctx context.Context, c enrollment.Caller, programID, status string, p enrollment.Page) (enrollment.ApplicationList, error)
}

var _ Lister = (*enrollment.ApplicationLister)(nil)

// Handler answers GET /v1/programs/{programId}/applications.
type Handler struct {
	lister Lister
}

// NewHandler returns the handler.
func NewHandler(l Lister) (*Handler, error) {
	if l == nil {
		return nil, errors.New("applications-list: nil lister")
	}
	return &Handler{lister: l}, nil
}

// Handle answers one page of applications, oldest first.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
	}
	c, err := enrollment.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	programID, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req, "status", "limit", "cursor"); err != nil {
		return apigw.Response{}, err
	}
	if err := enrollment.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	page, err := enrollment.PageFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	status, err := apigw.Query(req, "status")
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.lister.ForProgram(ctx, c, programID, status, page)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	return apigw.JSON(http.StatusOK, list)
}
