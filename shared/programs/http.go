package programs

import (
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/idempotency"
)

// Helpers the route handlers share.

// MaxBody caps every request body of these routes: the largest is a
// program with a 5000-character description and ten skills.
const MaxBody int64 = 32 << 10

// Page size bounds of the listings (the openapi Limit parameter).
const (
	DefaultLimit = 20
	MaxLimit     = 50
)

// ParseIfMatch returns the version an If-Match header names, 0 when the
// header is absent (the service answers 428); see apigw.IfMatch.
func ParseIfMatch(req events.APIGatewayProxyRequest) (int64, error) {
	v, _, err := apigw.IfMatch(req)
	return v, err
}

// RejectBody refuses a body on routes whose contract has none: data the
// service would silently ignore is data a client believes was applied.
func RejectBody(req events.APIGatewayProxyRequest) error {
	if strings.TrimSpace(req.Body) != "" {
		return apigw.BadRequest("This request takes no body.")
	}
	return nil
}

// RequireMethod answers 405 for any other method than m.
func RequireMethod(req events.APIGatewayProxyRequest, m string) error {
	if req.HTTPMethod != m {
		return apigw.MethodNotAllowed(m)
	}
	return nil
}

// PageParams reads the limit (1..MaxLimit, DefaultLimit when absent) and
// cursor query parameters.
func PageParams(req events.APIGatewayProxyRequest) (limit int, cursorToken string, err error) {
	limit, err = apigw.QueryInt(req, "limit", DefaultLimit, 1, MaxLimit)
	if err != nil {
		return 0, "", err
	}
	cursorToken, err = apigw.Query(req, "cursor")
	return limit, cursorToken, err
}

// JSONWithETag answers v with status and, when etag is not empty, its ETag.
func JSONWithETag(status int, v any, etag string) (apigw.Response, error) {
	resp, err := apigw.JSON(status, v)
	if err != nil || etag == "" {
		return resp, err
	}
	return resp.WithHeader("ETag", etag), nil
}

// CreatedResponse answers a create: 201 with the ETag, marked as a replay
// when the Idempotency-Key repeated an earlier request.
func CreatedResponse(v any, etag string, replayed bool) (apigw.Response, error) {
	resp, err := JSONWithETag(http.StatusCreated, v, etag)
	if err != nil || !replayed {
		return resp, err
	}
	return resp.WithHeader(idempotency.ReplayedHeader, "true"), nil
}
