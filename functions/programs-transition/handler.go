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

// Transitioner moves programs through their states.
type Transitioner interface {
	TransitionProgram(ctx context.Context, c programs.Caller, id string, ifMatch int64, in programs.TransitionRequest) (programs.ProgramView, error)
}

var _ Transitioner = (*programs.Service)(nil)

// Handler answers POST /v1/programs/{programId}/transitions.
type Handler struct{ svc Transitioner }

// NewHandler returns the handler.
func NewHandler(svc Transitioner) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("programs-transition: nil service")
	}
	return &Handler{svc: svc}, nil
}

// maxBody is generous for {"to":"archived"}.
const maxBody = 1 << 10

// Handle moves the program and answers its new state and ETag.
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
	id, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	ifMatch, err := programs.ParseIfMatch(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in programs.TransitionRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	p, err := h.svc.TransitionProgram(ctx, c, id, ifMatch, in)
	if err != nil {
		return apigw.Response{}, programs.ToHTTP(err)
	}
	return programs.JSONWithETag(http.StatusOK, p, p.ETag())
}
