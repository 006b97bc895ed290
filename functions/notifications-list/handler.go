package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/notify"
	"github.com/vip-platform/backend/shared/validate"
)

// Inbox lists the caller's notifications.
type Inbox interface {
	List(ctx context.Context, userID string, q notify.ListQuery) (notify.Page, error)
}

var _ Inbox = (*notify.Lister)(nil)

// Handler answers GET /v1/notifications.
type Handler struct {
	inbox Inbox
}

// NewHandler returns the handler.
func NewHandler(inbox Inbox) (*Handler, error) {
	if inbox == nil {
		return nil, errors.New("notifications-list: nil inbox")
	}
	return &Handler{inbox: inbox}, nil
}

// Handle answers 200 with one page of the caller's own inbox; the user ID
// comes from the authorizer only, so no parameter can name another inbox.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
	}
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req, "unread", "limit", "cursor"); err != nil {
		return apigw.Response{}, err
	}
	if req.Body != "" {
		return apigw.Response{}, apigw.BadRequest("This request takes no body.")
	}
	q, err := query(req)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.inbox.List(ctx, p.UserID, q)
	switch {
	case errors.Is(err, notify.ErrInvalidCursor):
		return apigw.Response{}, apigw.Validation(validate.Errors{{Field: "cursor", Reason: "is invalid or expired; start again from the first page"}}).WithCause(err)
	case errors.Is(err, notify.ErrInvalidQuery):
		return apigw.Response{}, apigw.BadRequest("The query is invalid.").WithCause(err)
	case err != nil:
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, page)
}

// query reads unread ("true"/"false"), limit (1..50, default 20) and the
// cursor, every failing parameter reported at once.
func query(req events.APIGatewayProxyRequest) (notify.ListQuery, error) {
	var errs validate.Errors
	var q notify.ListQuery
	unread, err := apigw.Query(req, "unread")
	switch {
	case err != nil:
		errs = appendErr(errs, err)
	case unread == "true":
		q.UnreadOnly = true
	case unread == "" || unread == "false":
	default:
		errs = append(errs, validate.FieldError{Field: "unread", Reason: `must be "true" or "false"`})
	}
	if q.Limit, err = apigw.QueryInt(req, "limit", notify.DefaultLimit, 1, notify.MaxLimit); err != nil {
		errs = appendErr(errs, err)
	}
	if q.Cursor, err = apigw.Query(req, "cursor"); err != nil {
		errs = appendErr(errs, err)
	}
	if len(errs) > 0 {
		return notify.ListQuery{}, apigw.Validation(errs)
	}
	return q, nil
}

// appendErr collects the field errors of a parameter's *apigw.Error.
func appendErr(errs validate.Errors, err error) validate.Errors {
	var ae *apigw.Error
	if errors.As(err, &ae) {
		return append(errs, ae.Fields...)
	}
	return append(errs, validate.FieldError{Field: "query", Reason: "is invalid"})
}
