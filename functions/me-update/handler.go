package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/validate"
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
	ifMatch, err := parseIfMatch(req)
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

// ifMatchInvalid is the one answer to an If-Match that is not a version.
var ifMatchInvalid = validate.Errors{{Field: "If-Match", Reason: `must be the profile version from the ETag, like "3"`}}

// parseIfMatch returns the version an If-Match header names, 0 when the
// header is absent. Only a single strong tag of a version number is
// accepted ("3" or 3): "*", weak tags and lists cannot be honoured
// precisely, and a header sent twice is refused rather than ignored,
// which would silently turn a conditional update unconditional.
func parseIfMatch(req events.APIGatewayProxyRequest) (int64, error) {
	present := false
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, "If-Match") {
			if len(vs) != 1 {
				return 0, apigw.Validation(ifMatchInvalid)
			}
			present = true
		}
	}
	for k := range req.Headers {
		if strings.EqualFold(k, "If-Match") {
			present = true
		}
	}
	if !present {
		return 0, nil
	}
	v := strings.TrimSpace(apigw.Header(req, "If-Match"))
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > 19 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, apigw.Validation(ifMatchInvalid)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, apigw.Validation(ifMatchInvalid)
	}
	return n, nil
}
