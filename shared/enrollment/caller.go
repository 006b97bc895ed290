package enrollment

import (
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

// IfMatch returns the version the request's If-Match header names (see
// apigw.IfMatch). Absent is ErrPreconditionRequired (428): these writes are
// never unconditional.
func IfMatch(req events.APIGatewayProxyRequest) (int64, error) {
	v, present, err := apigw.IfMatch(req)
	if err == nil && !present {
		return 0, ErrPreconditionRequired
	}
	return v, err
}

// ETag is the entity tag of a resource version, the value If-Match takes
// back.
func ETag(version int64) string { return apigw.ETag(version) }

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
