package work

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// SubmitStore is the part of the store submitting uses.
type SubmitStore interface {
	GetEnrollment(ctx context.Context, id string) (store.Enrollment, error)
	GetProgram(ctx context.Context, id string) (store.Program, error)
	GetTask(ctx context.Context, programID, taskID string) (store.Task, error)
	CreateSubmission(ctx context.Context, sub store.Submission, change store.EnrollmentChange, notify store.Notification,
		extra ...types.TransactWriteItem) error
}

var _ SubmitStore = (*store.Store)(nil)

// Idempotency remembers creates by Idempotency-Key.
type Idempotency interface {
	Begin(ctx context.Context, scope, callerID, key string, requestHash []byte) (idempotency.Outcome, error)
	CompleteItem(lease idempotency.Lease, resp idempotency.Response) (types.TransactWriteItem, error)
	Abandon(ctx context.Context, lease idempotency.Lease) error
}

var _ Idempotency = (*idempotency.Store)(nil)

// IdempotencyScope names the submit route's idempotency records.
const IdempotencyScope = "submissions-create"

// writeAttempts bounds how often a write is re-decided after a rival write
// changed the enrollment in between.
const writeAttempts = 4

// SubmitInput is the request body (openapi CreateSubmissionRequest).
type SubmitInput struct {
	Text      string   `json:"text"`
	Links     []string `json:"links"`
	UploadIDs []string `json:"uploadIds"`
}

// Idem is a request's Idempotency-Key (empty Key: none given) and the
// fingerprint of the request (idempotency.RequestHash).
type Idem struct {
	Key         string
	RequestHash []byte
}

// Created is a successful (or replayed) create: the HTTP status and JSON
// body to answer with. A replay answers the stored bytes of the first
// response, exactly.
type Created struct {
	Status   int
	Body     []byte
	Replayed bool
}

// Submitter creates submission versions.
type Submitter struct {
	store  SubmitStore
	idem   Idempotency
	denier denier
	log    *slog.Logger
	now    func() time.Time
}

// NewSubmitter returns the submit service.
func NewSubmitter(st SubmitStore, idem Idempotency, aud audit.Auditor, log *slog.Logger, now func() time.Time) (*Submitter, error) {
	if st == nil || idem == nil || aud == nil || log == nil || now == nil {
		return nil, errors.New("work: submitter needs a store, idempotency, an auditor, a logger and a clock")
	}
	return &Submitter{store: st, idem: idem, denier: denier{aud}, log: log, now: now}, nil
}

// Submit creates the next version of the caller's work on task taskID of
// enrollment enrollmentID and notifies the mentor, in one transaction. With
// an Idempotency-Key, a retry of the same request answers the first
// response and writes nothing; the same key with another body is
// ErrIdempotencyMismatch.
func (s *Submitter) Submit(ctx context.Context, c Caller, enrollmentID, taskID string, in SubmitInput, idem Idem) (Created, error) {
	if c.Role != apigw.RoleIntern {
		return Created{}, s.denier.deny(ctx, c, RouteSubmit, enrollmentID, "only interns submit work", ErrForbidden)
	}
	if err := precheckSubmission(in); err != nil {
		return Created{}, err
	}
	var lease idempotency.Lease
	if idem.Key != "" {
		out, err := s.idem.Begin(ctx, IdempotencyScope, c.UserID, idem.Key, idem.RequestHash)
		switch {
		case errors.Is(err, idempotency.ErrInvalidKey):
			return Created{}, fmt.Errorf("%w: %w", ErrInvalidIdempotencyKey, err)
		case err != nil:
			return Created{}, fmt.Errorf("idempotency begin: %w", err)
		}
		switch out.Kind {
		case idempotency.Replay:
			return Created{Status: out.Response.StatusCode, Body: out.Response.Body, Replayed: true}, nil
		case idempotency.InProgress:
			return Created{}, ErrIdempotencyInFlight
		case idempotency.Mismatch:
			return Created{}, ErrIdempotencyMismatch
		}
		lease = out.Lease
	}
	created, err := s.submit(ctx, c, enrollmentID, taskID, in, lease)
	if err != nil && lease.Valid() {
		// Nothing was created: let a retry run again.
		if aerr := s.idem.Abandon(ctx, lease); aerr != nil {
			s.log.WarnContext(ctx, "abandon idempotency record", slog.String("error", aerr.Error()))
		}
	}
	return created, err
}

// precheckSubmission enforces what the schema requires beyond the domain
// rules (text is required and non-blank); links and uploads are checked by
// domain.NewSubmission.
func precheckSubmission(in SubmitInput) error {
	v := validate.New()
	v.Check(strings.TrimSpace(in.Text) != "", "text", "is required")
	return v.Err()
}

func (s *Submitter) submit(ctx context.Context, c Caller, enrollmentID, taskID string, in SubmitInput, lease idempotency.Lease) (Created, error) {
	// Upload references stay refused until the upload pipeline exists: it
	// is what will check that an upload is the caller's, scanned clean and
	// meant for a submission. Storing unchecked IDs would let a submission
	// point at someone else's (or an infected) file.
	if len(in.UploadIDs) > 0 {
		return Created{}, validate.Errors{{Field: "uploadIds", Reason: "file uploads are not available yet; submit text and links"}}
	}
	for attempt := 1; ; attempt++ {
		enr, err := s.store.GetEnrollment(ctx, enrollmentID)
		if errors.Is(err, store.ErrNotFound) {
			return Created{}, fmt.Errorf("%w: enrollment", ErrNotFound)
		}
		if err != nil {
			return Created{}, fmt.Errorf("read enrollment: %w", err)
		}
		if enr.InternID != c.UserID {
			return Created{}, s.denier.deny(ctx, c, RouteSubmit, enrollmentID, "not the enrollment's intern", ErrNotFound)
		}
		if !enr.Active() {
			return Created{}, fmt.Errorf("%w: %s", ErrEnrollmentClosed, enr.Status)
		}
		task, err := s.store.GetTask(ctx, enr.ProgramID, taskID)
		if errors.Is(err, store.ErrNotFound) {
			return Created{}, fmt.Errorf("%w: task of the enrollment's program", ErrNotFound)
		}
		if err != nil {
			return Created{}, fmt.Errorf("read task: %w", err)
		}
		prog, err := s.store.GetProgram(ctx, enr.ProgramID)
		if err != nil {
			return Created{}, fmt.Errorf("read program: %w", err)
		}
		now := s.now()
		dsub, err := domain.NewSubmission(c.actor(), domainEnrollment(enr), task, latestOf(enr, taskID),
			domain.SubmissionInput{Text: in.Text, Links: in.Links, UploadIDs: in.UploadIDs}, now)
		switch {
		case errors.Is(err, domain.ErrInvalidTransition), errors.Is(err, domain.ErrTooManyVersions):
			return Created{}, fmt.Errorf("%w: %w", ErrNotSubmittable, err)
		case errors.Is(err, domain.ErrNotAllowed):
			return Created{}, s.denier.deny(ctx, c, RouteSubmit, enrollmentID, err.Error(), ErrNotFound)
		case err != nil:
			return Created{}, err // validate.Errors: 400 with every field
		}
		sub := store.Submission{
			ID: dsub.ID, EnrollmentID: enr.ID, TaskID: task.ID, Version: dsub.Version, Text: dsub.Text,
			Links: dsub.Links, UploadIDs: dsub.UploadIDs, Status: store.SubmissionSubmitted,
			InternID: enr.InternID, MentorID: enr.MentorID, OrgID: enr.OrgID, ProgramID: enr.ProgramID,
			CreatedAt: dsub.SubmittedAt,
		}
		change := store.EnrollmentChange{
			EnrollmentID: enr.ID, ExpectedVersion: enr.Version, TaskID: task.ID,
			Task: store.TaskProgress{Status: store.TaskSubmitted, LatestVersion: sub.Version},
		}
		notify := store.NotificationFromDomain(domain.SubmissionReceivedNotification(dsub, task, prog, now))
		resp, err := apigw.JSON(http.StatusCreated, SubmissionViewOf(sub))
		if err != nil {
			return Created{}, err
		}
		var extra []types.TransactWriteItem
		if lease.Valid() {
			item, err := s.idem.CompleteItem(lease, idempotency.Response{
				StatusCode: resp.Status, Headers: map[string]string{"Content-Type": "application/json"}, Body: resp.Body,
			})
			if err != nil {
				return Created{}, fmt.Errorf("idempotency completion: %w", err)
			}
			extra = append(extra, item)
		}
		err = s.store.CreateSubmission(ctx, sub, change, notify, extra...)
		switch {
		case err == nil:
			return Created{Status: resp.Status, Body: resp.Body}, nil
		case errors.Is(err, store.ErrExtraItemFailed):
			// The idempotency lease was taken over by a retry: that request
			// decides; this one created nothing.
			return Created{}, fmt.Errorf("%w: idempotency lease lost", ErrIdempotencyInFlight)
		case errors.Is(err, store.ErrConflict) && attempt < writeAttempts:
			continue // a rival write changed the enrollment: decide again
		case errors.Is(err, store.ErrConflict):
			return Created{}, fmt.Errorf("%w: %w", ErrConflict, err)
		}
		return Created{}, fmt.Errorf("create submission: %w", err)
	}
}
