package enrollment

import (
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/validate"
)

// Caller is the authenticated user a request acts for, as the authorizer
// vouched for it, plus where the request came from (for audit). Writes
// re-read the user; the token's role and org only route reads.
type Caller struct {
	UserID    string
	Role      string
	OrgID     string
	RequestID string
	SourceIP  string
}

// CallerFrom reads the caller from req's authorizer context; a missing or
// malformed principal is a 401 (*apigw.Error).
func CallerFrom(req events.APIGatewayProxyRequest) (Caller, error) {
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return Caller{}, err
	}
	return Caller{
		UserID: p.UserID, Role: p.Role, OrgID: p.OrgID,
		RequestID: req.RequestContext.RequestID, SourceIP: req.RequestContext.Identity.SourceIP,
	}, nil
}

// actor is the caller as the domain rules see it, from the token. Writes
// use storedActor instead.
func (c Caller) actor() domain.Actor {
	return domain.Actor{UserID: c.UserID, Role: domain.Role(c.Role), OrgID: c.OrgID}
}

// ifMatchInvalid is the one answer to an If-Match that is not a version.
var ifMatchInvalid = validate.Errors{{Field: "If-Match", Reason: `must be the resource version from its ETag, like "3"`}}

// IfMatch returns the version the request's If-Match header names: a
// single strong tag of a positive version number ("3" or 3). Absent is
// ErrPreconditionRequired (428): these writes are never unconditional.
// "*", weak tags, lists and a header sent twice are a 400: none of them
// can be honoured precisely, and ignoring one would silently turn a
// conditional write unconditional.
func IfMatch(req events.APIGatewayProxyRequest) (int64, error) {
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
		return 0, ErrPreconditionRequired
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

// ETag is the entity tag of a resource version, the value If-Match takes
// back.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IdempotencyKey returns the request's Idempotency-Key ("" when absent).
// A malformed key, or the header sent twice, is a 400 naming the header:
// a key the service would ignore would silently make a retry create twice.
func IdempotencyKey(req events.APIGatewayProxyRequest) (string, error) {
	present := false
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, idempotency.HeaderName) {
			if len(vs) != 1 {
				return "", apigw.Validation(idemKeyInvalid)
			}
			present = true
		}
	}
	for k := range req.Headers {
		if strings.EqualFold(k, idempotency.HeaderName) {
			present = true
		}
	}
	if !present {
		return "", nil
	}
	key, err := idempotency.ParseHeader(apigw.Header(req, idempotency.HeaderName))
	if err != nil {
		return "", apigw.Validation(idemKeyInvalid).WithCause(err)
	}
	return key, nil
}

var idemKeyInvalid = validate.Errors{{Field: idempotency.HeaderName, Reason: "must be 1 to 255 printable ASCII characters, sent once"}}

// RejectBody refuses a body on routes whose contract has none: data the
// service would silently ignore is data a client believes was applied.
func RejectBody(req events.APIGatewayProxyRequest) error {
	if strings.TrimSpace(req.Body) != "" {
		return apigw.BadRequest("This request takes no body.")
	}
	return nil
}

// PageFrom reads the limit (1..MaxPageSize, default DefaultPageSize) and
// cursor query parameters; a bad limit is a 400 naming it.
func PageFrom(req events.APIGatewayProxyRequest) (Page, error) {
	limit, err := apigw.QueryInt(req, "limit", DefaultPageSize, 1, MaxPageSize)
	if err != nil {
		return Page{}, err
	}
	cur, err := apigw.Query(req, "cursor")
	if err != nil {
		return Page{}, err
	}
	return Page{Limit: limit, Cursor: cur}, nil
}
