package enrollment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/store"
)

// UserReader re-reads the caller (and a chosen mentor) from the store.
type UserReader interface {
	GetUser(ctx context.Context, id string) (store.User, error)
}

// ApplyStore is what applying needs.
type ApplyStore interface {
	UserReader
	GetProgram(ctx context.Context, id string) (store.Program, error)
	CreateApplication(ctx context.Context, a store.Application, extra ...types.TransactWriteItem) (store.Application, error)
}

// Idempotency remembers the first answer to a create per Idempotency-Key
// (*idempotency.Store).
type Idempotency interface {
	Begin(ctx context.Context, scope, callerID, key string, requestHash []byte) (idempotency.Outcome, error)
	CompleteItem(lease idempotency.Lease, resp idempotency.Response) (types.TransactWriteItem, error)
	Abandon(ctx context.Context, lease idempotency.Lease) error
}

var (
	_ ApplyStore  = (*store.Store)(nil)
	_ Idempotency = (*idempotency.Store)(nil)
)

// IdempotencyScope is the scope of apply's idempotency records.
const IdempotencyScope = "applications-create"

// ApplyInput is an application request.
type ApplyInput struct {
	ProgramID  string
	Motivation string
	// IdempotencyKey is the parsed Idempotency-Key header, "" when absent.
	IdempotencyKey string
	// RequestHash is idempotency.RequestHash of the request, required with
	// a key.
	RequestHash []byte
}

// Applier answers POST /v1/programs/{programId}/applications.
type Applier struct {
	store ApplyStore
	audit audit.Auditor
	idem  Idempotency
	now   func() time.Time
	log   *slog.Logger
}

// NewApplier returns the applier. log records idempotency records that
// could not be released (the retry then waits for the lease to expire).
func NewApplier(st ApplyStore, aud audit.Auditor, idem Idempotency, now func() time.Time, log *slog.Logger) (*Applier, error) {
	if st == nil || aud == nil || idem == nil || now == nil || log == nil {
		return nil, errors.New("applier: nil dependency")
	}
	return &Applier{store: st, audit: aud, idem: idem, now: now, log: log}, nil
}

// Apply files the caller's pending application to the program and returns
// the 201 response. The caller is re-read: only an active intern applies
// (403 otherwise, audited). A program the caller may not see is 404; one
// not taking applications now is ErrNotAccepting; a second live
// application is ErrAlreadyApplied, even under concurrent requests.
//
// With an Idempotency-Key, a retry of the same request returns the first
// response byte for byte (marked with Idempotent-Replayed) and writes
// nothing; the same key with another body is ErrIdempotencyMismatch. The
// application and the stored response commit in one transaction.
func (ap *Applier) Apply(ctx context.Context, c Caller, in ApplyInput) (apigw.Response, error) {
	if c.Role != apigw.RoleIntern {
		return apigw.Response{}, deny(ctx, ap.audit, c, RouteApply, in.ProgramID, "only interns apply", ErrForbidden)
	}
	u, err := ap.store.GetUser(ctx, c.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return apigw.Response{}, fmt.Errorf("read caller: %w", err)
	}
	if err != nil || !u.Active() || u.Role != apigw.RoleIntern {
		return apigw.Response{}, deny(ctx, ap.audit, c, RouteApply, in.ProgramID, "caller is not an active intern", ErrForbidden)
	}
	if in.IdempotencyKey == "" {
		resp, _, err := ap.apply(ctx, c, in, nil)
		return resp, err
	}
	out, err := ap.idem.Begin(ctx, IdempotencyScope, c.UserID, in.IdempotencyKey, in.RequestHash)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("idempotency: %w", err)
	}
	switch out.Kind {
	case idempotency.Replay:
		resp := apigw.Response{Status: out.Response.StatusCode, Headers: map[string]string{}, Body: out.Response.Body}
		for k, v := range out.Response.Headers {
			resp.Headers[k] = v
		}
		return resp.WithHeader(idempotency.ReplayedHeader, "true"), nil
	case idempotency.Mismatch:
		return apigw.Response{}, ErrIdempotencyMismatch
	case idempotency.InProgress:
		return apigw.Response{}, ErrIdempotencyInFlight
	case idempotency.Proceed:
	default:
		return apigw.Response{}, fmt.Errorf("idempotency: unknown outcome %q", out.Kind)
	}
	resp, leaseLost, err := ap.apply(ctx, c, in, &out.Lease)
	if err != nil && !leaseLost {
		// Nothing was created: let a retry run the request again.
		if aerr := ap.idem.Abandon(ctx, out.Lease); aerr != nil {
			ap.log.WarnContext(ctx, "idempotency record not released", slog.String("error", aerr.Error()))
		}
	}
	return resp, err
}

// apply does the work; with a lease, the idempotency record's completion
// joins the create's transaction. leaseLost reports a failure of that item,
// after which the record is no longer ours to abandon.
func (ap *Applier) apply(ctx context.Context, c Caller, in ApplyInput, lease *idempotency.Lease) (resp apigw.Response, leaseLost bool, err error) {
	p, err := ap.store.GetProgram(ctx, in.ProgramID)
	if errors.Is(err, store.ErrNotFound) {
		return apigw.Response{}, false, fmt.Errorf("program %w", ErrNotFound)
	}
	if err != nil {
		return apigw.Response{}, false, fmt.Errorf("read program: %w", err)
	}
	actor := c.actor()
	if !p.VisibleTo(&actor) {
		return apigw.Response{}, false, deny(ctx, ap.audit, c, RouteApply, p.ID, "program not visible to the caller", ErrNotFound)
	}
	a, err := domain.NewApplication(actor, p, in.Motivation, ap.now())
	switch {
	case errors.Is(err, domain.ErrApplicationsClosed):
		return apigw.Response{}, false, fmt.Errorf("%w: %w", ErrNotAccepting, err)
	case errors.Is(err, domain.ErrNotAllowed):
		return apigw.Response{}, false, deny(ctx, ap.audit, c, RouteApply, p.ID, "domain refused the applicant", ErrForbidden)
	case err != nil:
		return apigw.Response{}, false, err // validate.Errors: 400
	}
	a.Version = 1
	view := ViewApplication(a)
	resp, err = apigw.JSON(http.StatusCreated, view)
	if err != nil {
		return apigw.Response{}, false, err
	}
	resp = resp.WithHeader("ETag", ETag(a.Version))
	var extra []types.TransactWriteItem
	if lease != nil {
		item, err := ap.idem.CompleteItem(*lease, idempotency.Response{StatusCode: resp.Status, Headers: resp.Headers, Body: resp.Body})
		if err != nil {
			return apigw.Response{}, false, fmt.Errorf("idempotency: %w", err)
		}
		extra = append(extra, item)
	}
	_, err = ap.store.CreateApplication(ctx, a, extra...)
	switch {
	case err == nil:
		return resp, false, nil
	case errors.Is(err, store.ErrAlreadyApplied):
		return apigw.Response{}, false, fmt.Errorf("%w: %w", ErrAlreadyApplied, err)
	case errors.Is(err, store.ErrProgramNotAccepting):
		return apigw.Response{}, false, fmt.Errorf("%w: %w", ErrNotAccepting, err)
	case errors.Is(err, store.ErrExtraItemFailed):
		return apigw.Response{}, true, fmt.Errorf("%w: idempotency lease lost: %w", ErrIdempotencyInFlight, err)
	case errors.Is(err, store.ErrConflict):
		return apigw.Response{}, false, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return apigw.Response{}, false, fmt.Errorf("create application: %w", err)
}
