package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
)

// Applier files an application.
type Applier interface {
	Apply(ctx context.Context, c enrollment.Caller, in enrollment.ApplyInput) (apigw.Response, error)
}

var _ Applier = (*enrollment.Applier)(nil)

// Handler answers POST /v1/programs/{programId}/applications.
type Handler struct {
	applier Applier
}

// NewHandler returns the handler.
func NewHandler(a Applier) (*Handler, error) {
	if a == nil {
		return nil, errors.New("applications-create: nil applier")
	}
	return &Handler{applier: a}, nil
}

// createApplicationRequest is the openapi CreateApplicationRequest, member
// for member: status, internId or programId in a body are unknown members,
// which Decode refuses (no mass assignment).
type createApplicationRequest struct {
	Motivation string `json:"motivation"`
}

// maxBody fits a 3000-character motivation of 4-byte characters, escaped.
const maxBody = 32 << 10

// Handle files the application; a retry with the same Idempotency-Key
// answers the first 201 again.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	c, err := enrollment.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	programID, err := apigw.PathID(req, "programId", ids.Program)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	key, err := enrollment.IdempotencyKey(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in createApplicationRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	body, err := apigw.Body(req, maxBody)
	if err != nil {
		return apigw.Response{}, err
	}
	resp, err := h.applier.Apply(ctx, c, enrollment.ApplyInput{
		ProgramID: programID, Motivation: in.Motivation, IdempotencyKey: key,
		RequestHash: idempotency.RequestHash(req.HTTPMethod, req.Path, body),
	})
	return resp, enrollment.ToHTTP(err)
}
