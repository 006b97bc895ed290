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

// Decider decides an application.
type Decider interface {
	Decide(ctx context.Context, c enrollment.Caller, applicationID string, ifMatch int64, in enrollment.DecisionInput) (store.Application, error)
}

var _ Decider = (*enrollment.Decider)(nil)

// Handler answers POST /v1/applications/{applicationId}/decision.
type Handler struct {
	decider Decider
}

// NewHandler returns the handler.
func NewHandler(d Decider) (*Handler, error) {
	if d == nil {
		return nil, errors.New("applications-decide: nil decider")
	}
	return &Handler{decider: d}, nil
}

// decisionRequest is the openapi DecisionRequest, member for member.
type decisionRequest struct {
	Decision string `json:"decision"`
	MentorID string `json:"mentorId"`
	Reason   string `json:"reason"`
}

// maxBody fits a 1000-character reason of 4-byte characters, escaped.
const maxBody = 16 << 10

// Handle decides the application named by the path at the If-Match
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
	version, err := enrollment.IfMatch(req)
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	var in decisionRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.decider.Decide(ctx, c, id, version, enrollment.DecisionInput{
		Decision: in.Decision, MentorID: in.MentorID, Reason: in.Reason,
	})
	if err != nil {
		return apigw.Response{}, enrollment.ToHTTP(err)
	}
	resp, err := apigw.JSON(http.StatusOK, enrollment.ViewApplication(a))
	return resp.WithHeader("ETag", enrollment.ETag(a.Version)), err
}
