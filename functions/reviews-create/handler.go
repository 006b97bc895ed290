package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
	"github.com/vip-platform/backend/shared/work"
)

// Reviewer records reviews.
type Reviewer interface {
	Review(ctx context.Context, c work.Caller, submissionID string, in work.ReviewInput) (work.Reviewed, error)
}

var _ Reviewer = (*work.Reviewer)(nil)

// reviewRequest is openapi CreateReviewRequest. Pointers tell a missing
// member from a zero: a score of 0 is a valid score, a missing one is not.
type reviewRequest struct {
	Score    *int    `json:"score"`
	Feedback *string `json:"feedback"`
	Decision *string `json:"decision"`
}

func (r reviewRequest) input() (work.ReviewInput, error) {
	v := validate.New()
	v.Check(r.Score != nil, "score", "is required")
	v.Check(r.Feedback != nil, "feedback", "is required")
	v.Check(r.Decision != nil, "decision", "is required")
	if err := v.Err(); err != nil {
		return work.ReviewInput{}, err
	}
	return work.ReviewInput{Score: *r.Score, Feedback: *r.Feedback, Decision: *r.Decision}, nil
}

// Handler answers POST /v1/submissions/{submissionId}/reviews.
type Handler struct {
	svc Reviewer
}

// NewHandler returns the handler.
func NewHandler(svc Reviewer) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("reviews-create: nil reviewer")
	}
	return &Handler{svc: svc}, nil
}

// Handle records the review and answers 201 with it.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	c, err := work.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	submissionID, err := apigw.PathID(req, "submissionId", ids.Submission)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	var body reviewRequest
	if err := apigw.Decode(req, &body); err != nil {
		return apigw.Response{}, err
	}
	in, err := body.input()
	if err != nil {
		return apigw.Response{}, err
	}
	res, err := h.svc.Review(ctx, c, submissionID, in)
	if err != nil {
		return apigw.Response{}, work.ToHTTP(err)
	}
	return apigw.JSON(http.StatusCreated, res.Review)
}
