package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
)

// Updater changes the caller's profile.
type Updater interface {
	Update(ctx context.Context, c account.Caller, in account.ProfileUpdate) (account.Me, error)
}

var _ Updater = (*account.ProfileUpdater)(nil)

// Handler answers PATCH /v1/me.
type Handler struct {
	updater Updater
}

// NewHandler returns the handler.
func NewHandler(u Updater) (*Handler, error) {
	if u == nil {
		return nil, errors.New("me-update: nil updater")
	}
	return &Handler{updater: u}, nil
}

// updateMeRequest is the openapi UpdateMeRequest, member for member: role,
// status, email, orgId or id in a body are unknown members, which Decode
// refuses (no mass assignment).
type updateMeRequest struct {
	DisplayName string `json:"displayName"`
}

// maxBody is generous for one 80-character name.
const maxBody = 4 << 10

// Handle applies the update and answers the new profile and its ETag.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodPatch {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodPatch)
	}
	c, err := account.CallerFrom(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := apigw.AllowQuery(req); err != nil {
		return apigw.Response{}, err
	}
	ifMatch, _, err := apigw.IfMatch(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in updateMeRequest
	if err := apigw.Decode(req, &in, apigw.MaxBodyBytes(maxBody)); err != nil {
		return apigw.Response{}, err
	}
	me, err := h.updater.Update(ctx, c, account.ProfileUpdate{DisplayName: in.DisplayName, IfMatch: ifMatch})
	if err != nil {
		return apigw.Response{}, account.ToHTTP(err)
	}
	resp, err := apigw.JSON(http.StatusOK, me)
	return resp.WithHeader("ETag", me.ETag()), err
}
