package programs

import (
	"context"
	"encoding/json/v2"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// IdempotencyKey is a create's Idempotency-Key and the fingerprint of the
// request it was sent with. The zero value means the client sent none.
type IdempotencyKey struct {
	Key         string
	RequestHash []byte
}

// IdempotencyKeyFrom reads the Idempotency-Key header of req and
// fingerprints the request (method, path with its IDs, canonical body).
// An absent header is the zero key; a malformed one, or one sent twice, is
// a 400.
func IdempotencyKeyFrom(req events.APIGatewayProxyRequest, maxBody int64) (IdempotencyKey, error) {
	present := false
	for k, vs := range req.MultiValueHeaders {
		if http.CanonicalHeaderKey(k) == idempotency.HeaderName && len(vs) > 1 {
			return IdempotencyKey{}, invalidIdemKey()
		}
		present = present || http.CanonicalHeaderKey(k) == idempotency.HeaderName
	}
	for k := range req.Headers {
		present = present || http.CanonicalHeaderKey(k) == idempotency.HeaderName
	}
	if !present {
		return IdempotencyKey{}, nil
	}
	key, err := idempotency.ParseHeader(apigw.Header(req, idempotency.HeaderName))
	if err != nil {
		return IdempotencyKey{}, invalidIdemKey()
	}
	body, err := apigw.Body(req, maxBody)
	if err != nil {
		return IdempotencyKey{}, err
	}
	return IdempotencyKey{Key: key, RequestHash: idempotency.RequestHash(req.HTTPMethod, req.Path, body)}, nil
}

func invalidIdemKey() error {
	return apigw.Validation(validate.Errors{{Field: idempotency.HeaderName, Reason: "must be 1 to 255 printable ASCII characters, sent once"}})
}

// Created is the answer of a create: the resource, and whether it is the
// stored answer of an earlier request with the same Idempotency-Key
// (nothing was written this time).
type Created[T any] struct {
	View     T
	Replayed bool
}

// idemRun is one create's claim on its idempotency record; the zero value
// (no key sent) makes every method a no-op.
type idemRun struct {
	s     *Service
	lease idempotency.Lease
}

// beginCreate claims ik for c in scope. A completed earlier request is
// replayed into replay (and replayed is true); one still running, or one
// with another body, is refused.
func (s *Service) beginCreate(ctx context.Context, scope string, c Caller, ik IdempotencyKey, replay any) (run idemRun, replayed bool, err error) {
	if ik.Key == "" {
		return idemRun{}, false, nil
	}
	if s.idem == nil {
		return idemRun{}, false, errNoIdempotency
	}
	out, err := s.idem.Begin(ctx, scope, c.UserID, ik.Key, ik.RequestHash)
	if errors.Is(err, idempotency.ErrInvalidKey) {
		return idemRun{}, false, invalidIdemKey()
	}
	if err != nil {
		return idemRun{}, false, fmt.Errorf("idempotency begin: %w", err)
	}
	switch out.Kind {
	case idempotency.Proceed:
		return idemRun{s: s, lease: out.Lease}, false, nil
	case idempotency.Replay:
		if replay == nil {
			return idemRun{}, true, nil
		}
		if err := json.Unmarshal(out.Response.Body, replay); err != nil {
			return idemRun{}, false, fmt.Errorf("decode replayed response: %w", err)
		}
		return idemRun{}, true, nil
	case idempotency.InProgress:
		return idemRun{}, false, conflict("A request with this Idempotency-Key is still being processed; retry shortly.", nil)
	case idempotency.Mismatch:
		return idemRun{}, false, ErrIdempotencyMismatch
	}
	return idemRun{}, false, fmt.Errorf("idempotency: unknown outcome %q", out.Kind)
}

// complete returns the transaction items that store body as the answer
// every retry replays (201 with the given ETag), committed with the create.
func (r idemRun) complete(body any, etag string) ([]types.TransactWriteItem, error) {
	if !r.lease.Valid() {
		return nil, nil
	}
	b, err := json.Marshal(body, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("encode response for idempotency: %w", err)
	}
	headers := map[string]string{"Content-Type": "application/json"}
	if etag != "" {
		headers["ETag"] = etag
	}
	item, err := r.s.idem.CompleteItem(r.lease, idempotency.Response{StatusCode: http.StatusCreated, Headers: headers, Body: b})
	if err != nil {
		return nil, fmt.Errorf("idempotency completion: %w", err)
	}
	return []types.TransactWriteItem{item}, nil
}

// abandon releases the claim after a create that wrote nothing, so a retry
// runs again; err is the create's error, returned with any release failure
// joined (a lost lease is expected after a takeover and not reported).
func (r idemRun) abandon(ctx context.Context, err error) error {
	if !r.lease.Valid() || err == nil {
		return err
	}
	if aerr := r.s.idem.Abandon(ctx, r.lease); aerr != nil && !errors.Is(aerr, idempotency.ErrLeaseLost) {
		return errors.Join(err, fmt.Errorf("idempotency abandon: %w", aerr))
	}
	return err
}

// leaseLost turns a failed idempotency completion inside the create's
// transaction into a retryable conflict: another request took the key over
// and nothing was written.
func leaseLost(err error) error {
	if errors.Is(err, store.ErrExtraItemFailed) {
		return conflict("Another request with this Idempotency-Key took over; retry to get its result.", err)
	}
	return err
}
