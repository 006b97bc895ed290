package work

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/idempotency"
)

// IdemFrom reads a request's optional Idempotency-Key and fingerprints the
// request (method, path, body of at most maxBody bytes). No header is the
// zero Idem. A key sent twice, or malformed, is ErrInvalidIdempotencyKey
// (400), never silently ignored: ignoring it would turn a retry into a
// second create.
func IdemFrom(req events.APIGatewayProxyRequest, maxBody int64) (Idem, error) {
	values := 0
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, idempotency.HeaderName) {
			values += len(vs)
		}
	}
	present := values > 0
	for k := range req.Headers {
		if strings.EqualFold(k, idempotency.HeaderName) {
			present = true
		}
	}
	if !present {
		return Idem{}, nil
	}
	if values > 1 {
		return Idem{}, fmt.Errorf("%w: sent more than once", ErrInvalidIdempotencyKey)
	}
	key, err := idempotency.ParseHeader(apigw.Header(req, idempotency.HeaderName))
	if err != nil {
		return Idem{}, fmt.Errorf("%w: %w", ErrInvalidIdempotencyKey, err)
	}
	var body []byte
	if strings.TrimSpace(req.Body) != "" {
		if body, err = apigw.Body(req, maxBody); err != nil {
			return Idem{}, err
		}
	}
	return Idem{Key: key, RequestHash: idempotency.RequestHash(req.HTTPMethod, req.Path, body)}, nil
}

// RejectBody refuses a body on a route that takes none (400): unexpected
// input is refused, not ignored.
func RejectBody(req events.APIGatewayProxyRequest) error {
	if req.Body != "" {
		return apigw.BadRequest("This request takes no body.")
	}
	return nil
}
