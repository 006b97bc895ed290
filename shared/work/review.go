package work

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// ReviewStore is the part of the store reviewing uses.
type ReviewStore interface {
	GetSubmission(ctx context.Context, id string) (store.Submission, error)
	GetEnrollment(ctx context.Context, id string) (store.Enrollment, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	GetProgram(ctx context.Context, id string) (store.Program, error)
	ListTasks(ctx context.Context, programID string) ([]store.Task, error)
	ReviewSubmission(ctx context.Context, sub store.Submission, rev store.Review, change store.EnrollmentChange,
		notify ...store.Notification) error
}

var _ ReviewStore = (*store.Store)(nil)

// LogCompletionHook is the completion hook until certificates exist: it
// records the event in the function's log, so completions are visible and
// a certificate issuer can replace it without touching the review path.
type LogCompletionHook struct {
	Log *slog.Logger
}

var _ domain.CompletionHook = LogCompletionHook{}

// OnEnrollmentCompleted logs ev.
func (h LogCompletionHook) OnEnrollmentCompleted(ctx context.Context, ev domain.EnrollmentCompleted) error {
	h.Log.InfoContext(ctx, "enrollment completed",
		slog.String("enrollmentId", ev.EnrollmentID), slog.String("programId", ev.ProgramID),
		slog.String("internId", ev.InternID), slog.Time("completedAt", ev.CompletedAt))
	return nil
}

// ReviewInput is the request body (openapi CreateReviewRequest).
type ReviewInput struct {
	Score    int    `json:"score"`
	Feedback string `json:"feedback"`
	Decision string `json:"decision"`
}

// Reviewer records reviews.
type Reviewer struct {
	store  ReviewStore
	denier denier
	// Completion receives every enrollment the reviews complete, after the
	// completing transaction committed (the seam for certificate issuance).
	completion domain.CompletionHook
	log        *slog.Logger
	now        func() time.Time
}

// NewReviewer returns the review service; completion receives completed
// enrollments (LogCompletionHook until certificates are issued).
func NewReviewer(st ReviewStore, aud audit.Auditor, completion domain.CompletionHook, log *slog.Logger, now func() time.Time) (*Reviewer, error) {
	if st == nil || aud == nil || completion == nil || log == nil || now == nil {
		return nil, errors.New("work: reviewer needs a store, an auditor, a completion hook, a logger and a clock")
	}
	return &Reviewer{store: st, denier: denier{aud}, completion: completion, log: log, now: now}, nil
}

// Reviewed is the result of a review: the review, and the completion
// event when this review completed the enrollment.
type Reviewed struct {
	Review    ReviewView
	Completed *domain.EnrollmentCompleted
}

// precheckReview enforces the schema's own rules (decision enum, score
// 0..1000, feedback 1..5000 characters) before anything is read; the
// task's maxScore and passMark are checked by domain.NewReview.
func precheckReview(in ReviewInput) error {
	v := validate.New()
	v.OneOf("decision", in.Decision, string(domain.ReviewAccepted), string(domain.ReviewChangesRequested))
	v.Range("score", in.Score, 0, domain.MaxMaxScore)
	fb := strings.TrimSpace(in.Feedback)
	if v.Required("feedback", fb) && v.MultilineText("feedback", fb) {
		v.Length("feedback", fb, 1, domain.MaxFeedbackLen)
	}
	return v.Err()
}

// Review records the caller's decision on submission submissionID, once:
// the losers of concurrent reviews get ErrAlreadyReviewed. When the
// decision leaves every required task accepted the enrollment completes in
// the same transaction, the intern is notified, and the completion hook
// runs.
func (r *Reviewer) Review(ctx context.Context, c Caller, submissionID string, in ReviewInput) (Reviewed, error) {
	if c.Role != apigw.RoleMentor {
		return Reviewed{}, r.denier.deny(ctx, c, RouteReview, submissionID, "only mentors review", ErrForbidden)
	}
	if err := precheckReview(in); err != nil {
		return Reviewed{}, err
	}
	for attempt := 1; ; attempt++ {
		res, retry, err := r.attempt(ctx, c, submissionID, in)
		if !retry {
			if err == nil && res.Completed != nil {
				// The enrollment is completed whatever the hook does; a
				// failing hook must be retried from its own side (it is
				// idempotent by contract), not by failing this request.
				if herr := r.completion.OnEnrollmentCompleted(ctx, *res.Completed); herr != nil {
					r.log.ErrorContext(ctx, "completion hook failed",
						slog.String("enrollmentId", res.Completed.EnrollmentID), slog.String("error", herr.Error()))
				}
			}
			return res, err
		}
		if attempt == writeAttempts {
			return Reviewed{}, fmt.Errorf("%w: %w", ErrConflict, err)
		}
	}
}

// attempt reads, decides and writes once; retry reports a rival write to
// the enrollment that makes a fresh decision necessary.
func (r *Reviewer) attempt(ctx context.Context, c Caller, submissionID string, in ReviewInput) (Reviewed, bool, error) {
	sub, err := r.store.GetSubmission(ctx, submissionID)
	if errors.Is(err, store.ErrNotFound) {
		return Reviewed{}, false, fmt.Errorf("%w: submission", ErrNotFound)
	}
	if err != nil {
		return Reviewed{}, false, fmt.Errorf("read submission: %w", err)
	}
	enr, err := r.store.GetEnrollment(ctx, sub.EnrollmentID)
	if err != nil {
		return Reviewed{}, false, fmt.Errorf("read the submission's enrollment: %w", err)
	}
	if enr.MentorID != c.UserID {
		return Reviewed{}, false, r.denier.deny(ctx, c, RouteReview, submissionID, "not the enrollment's mentor", ErrNotFound)
	}
	mentor, err := r.storedMentor(ctx, c, enr, submissionID)
	if err != nil {
		return Reviewed{}, false, err
	}
	if !enr.Active() {
		return Reviewed{}, false, fmt.Errorf("%w: %s", ErrEnrollmentClosed, enr.Status)
	}
	if sub.Status != store.SubmissionSubmitted || sub.Review != nil {
		return Reviewed{}, false, fmt.Errorf("%w: status %s", ErrAlreadyReviewed, sub.Status)
	}
	tasks, err := r.store.ListTasks(ctx, enr.ProgramID)
	if err != nil {
		return Reviewed{}, false, fmt.Errorf("list tasks: %w", err)
	}
	var task *store.Task
	for i := range tasks {
		if tasks[i].ID == sub.TaskID {
			task = &tasks[i]
		}
	}
	if task == nil {
		return Reviewed{}, false, fmt.Errorf("task %s of the submission is not in the program", sub.TaskID)
	}
	prog, err := r.store.GetProgram(ctx, enr.ProgramID)
	if err != nil {
		return Reviewed{}, false, fmt.Errorf("read program: %w", err)
	}

	now := r.now()
	denr := domainEnrollment(enr)
	dsub := domain.Submission{
		ID: sub.ID, EnrollmentID: sub.EnrollmentID, ProgramID: sub.ProgramID, OrgID: sub.OrgID, TaskID: sub.TaskID,
		InternID: sub.InternID, MentorID: sub.MentorID, Version: sub.Version, Status: domainSubmissionStatus(sub.Status),
	}
	drev, err := domain.NewReview(mentor, denr, *task, &dsub,
		domain.ReviewInput{Score: in.Score, Feedback: in.Feedback, Decision: domain.ReviewDecision(in.Decision)}, now)
	switch {
	case errors.Is(err, domain.ErrNotAllowed):
		return Reviewed{}, false, r.denier.deny(ctx, c, RouteReview, submissionID, err.Error(), ErrNotFound)
	case errors.Is(err, domain.ErrInvalidTransition):
		return Reviewed{}, false, fmt.Errorf("%w: %w", ErrAlreadyReviewed, err)
	case err != nil:
		return Reviewed{}, false, err // validate.Errors: score above maxScore, below passMark...
	}

	decision := string(drev.Decision)
	pr := progressAfter(tasks, enr, sub.TaskID, decision, sub.Version)
	completed := denr.UpdateProgress(pr, now)
	rev := store.Review{
		ID: ids.New(ids.Review), MentorID: mentor.UserID, Score: drev.Score, Feedback: drev.Feedback,
		Decision: decision, CreatedAt: drev.CreatedAt,
	}
	change := store.EnrollmentChange{
		EnrollmentID: enr.ID, ExpectedVersion: enr.Version, TaskID: sub.TaskID,
		Task: store.TaskProgress{Status: decision, LatestVersion: sub.Version},
	}
	notify := []store.Notification{store.NotificationFromDomain(domain.ReviewPostedNotification(drev, *task, prog, now))}
	if completed != nil {
		change.CompletedAt = completed.CompletedAt
		notify = append(notify, store.NotificationFromDomain(domain.EnrollmentCompletedNotification(*completed, prog, now)))
	}
	err = r.store.ReviewSubmission(ctx, sub, rev, change, notify...)
	switch {
	case err == nil:
		return Reviewed{Review: ReviewViewOf(sub.ID, rev), Completed: completed}, false, nil
	case errors.Is(err, store.ErrAlreadyReviewed):
		return Reviewed{}, false, fmt.Errorf("%w: %w", ErrAlreadyReviewed, err)
	case errors.Is(err, store.ErrConflict):
		return Reviewed{}, true, err
	}
	return Reviewed{}, false, fmt.Errorf("review submission: %w", err)
}

// storedMentor re-reads the caller: a review needs an active mentor of the
// enrollment's organization as stored now. A mentor removed from the
// organization (or suspended) keeps a valid token for minutes; this check
// ends their access at once.
func (r *Reviewer) storedMentor(ctx context.Context, c Caller, enr store.Enrollment, target string) (domain.Actor, error) {
	u, err := r.store.GetUser(ctx, c.UserID)
	var rule string
	switch {
	case errors.Is(err, store.ErrNotFound):
		rule = "caller's user no longer exists"
	case err != nil:
		return domain.Actor{}, fmt.Errorf("read caller: %w", err)
	case !u.Active():
		rule = "caller is not active"
	case u.Role != apigw.RoleMentor:
		rule = "caller is no longer a mentor"
	case u.OrgID != enr.OrgID:
		rule = "caller is no longer a member of the enrollment's organization"
	}
	if rule != "" {
		return domain.Actor{}, r.denier.deny(ctx, c, RouteReview, target, rule, ErrNotFound)
	}
	return domain.Actor{UserID: u.ID, Role: domain.Role(u.Role), OrgID: u.OrgID}, nil
}
