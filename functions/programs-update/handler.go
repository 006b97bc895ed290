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

// Updater edits programs.
type Updater interface {
	UpdateProgram(ctx context.Context, c programs.Caller, id string, ifMatch int64, in programs.UpdateProgramRequest) (programs.ProgramView, error)
}

var _ Updater = (*programs.Service)(nil)

// Handler answers PATCH /v1/programs/{programId}.
type Handler struct{ svc Updater }

// NewHandler returns the handler.
func NewHandler(svc Updater) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("programs-update: nil service")
	}
	return &Handler{svc: svc}, nil
}

// Handle applies the partial update and answers the program and its ETag.
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
	id, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	ifMatch, err := programs.ParseIfMatch(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in programs.UpdateProgramRequest
	if err := programs.DecodePatch(req, &in, programs.MaxBody, true); err != nil {
		return apigw.Response{}, err
	}
	p, err := h.svc.UpdateProgram(ctx, c, id, ifMatch, in)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return programs.JSONWithETag(http.StatusOK, p, p.ETag())
}
