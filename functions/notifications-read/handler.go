package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/notify"
)

// Marker marks one of the caller's notifications read.
type Marker interface {
	MarkRead(ctx context.Context, userID, id string) error
}

var _ Marker = (*notify.Marker)(nil)

// Handler answers POST /v1/notifications/{notificationId}/read.
type Handler struct {
	marker Marker
	audit  audit.Auditor
}

// NewHandler returns the handler.
func NewHandler(m Marker, a audit.Auditor) (*Handler, error) {
	if m == nil || a == nil {
		return nil, errors.New("notifications-read: nil marker or auditor")
	}
	return &Handler{marker: m, audit: a}, nil
}

// Handle answers 204. A malformed ID, an unknown notification and another
// user's all answer the same 404: the lookup is keyed by the caller, so
// another user's notification cannot even be addressed. The 404 for a
// well-formed ID is still a denial (it may be a probe for someone else's
// notification) and is audited like every other denial.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPost {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPost)
	}
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	id, err := apigw.PathID(req, "notificationId", ids.Notification)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	if req.Body != "" {
		return apigw.Response{}, apigw.BadRequest("This request takes no body.")
	}
	err = h.marker.MarkRead(ctx, p.UserID, id)
	switch {
	case errors.Is(err, notify.ErrNotFound):
		if aerr := h.audit.Append(ctx, audit.Entry{
			Actor: p.UserID, ActorRole: p.Role, Action: "authz.denied", Target: id,
			Outcome: audit.OutcomeDenied, Reason: "notification not found for caller",
			RequestID: req.RequestContext.RequestID, SourceIP: req.RequestContext.Identity.SourceIP,
			Details: map[string]string{"route": "POST /v1/notifications/{notificationId}/read"},
		}); aerr != nil {
			return apigw.Response{}, fmt.Errorf("audit denial: %w", aerr)
		}
		return apigw.Response{}, apigw.NotFound().WithCause(err)
	case err != nil:
		return apigw.Response{}, err
	}
	return apigw.NoContent()
}
