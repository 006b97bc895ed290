package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// Withdrawer withdraws the caller's application.
type Withdrawer interface {
	Withdraw(ctx context.Context, c enrollment.Caller, applicationID string, ifMatch int64) (store.Application, error)
}

var _ Withdrawer = (*enrollment.Withdrawer)(nil)

// Handler answers POST /v1/applications/{applicationId}/withdraw.
type Handler struct {
	withdrawer Withdrawer
}

// NewHandler returns the handler.
func NewHandler(w Withdrawer) (*Handler, error) {
	if w == nil {
		return nil, errors.New("applications-withdraw: nil withdrawer")
	}
	return &Handler{withdrawer: w}, nil
}

// Handle withdraws the application named by the path at the If-Match
// version and answers it with its new ETag.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	c, err := enrollment.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	id, err := apigw.PathID(req, "applicationId", ids.Application)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if err := enrollment.RejectBody(req); err != nil {
		return apigw.Response{}, err
	}
	version, err := enrollment.IfMatch(req)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	a, err := h.withdrawer.Withdraw(ctx, c, id, version)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	resp, err := apigw.JSON(http.StatusOK, enrollment.ViewApplication(a))
	return resp.WithHeader("ETag", enrollment.ETag(a.Version)), err
}
