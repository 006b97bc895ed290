package domain

import (
	"fmt"
	"time"

	"github.com/vip-platform/backend/shared/validate"
)

// ReviewDecision is a mentor's verdict on a submission version.
type ReviewDecision string

// Review decisions.
const (
	ReviewAccepted         ReviewDecision = "accepted"
	ReviewChangesRequested ReviewDecision = "changes_requested"
)

// Review is the single review of one submission version. It has no ID of
// its own: (SubmissionID) identifies it, which also makes "exactly once" a
// key constraint.
type Review struct {
	SubmissionID      string
	SubmissionVersion int
	EnrollmentID      string
	ProgramID         string
	OrgID             string
	TaskID            string
	InternID          string
	MentorID          string
	Score             int
	Feedback          string
	Decision          ReviewDecision
	CreatedAt         time.Time
}

// ReviewInput is what the mentor sends.
type ReviewInput struct {
	Score    int
	Feedback string
	Decision ReviewDecision
}

// NewReview is the assigned mentor's review of submission s (task t,
// enrollment e). It sets s's status to the decision; the store writes the
// review with attribute_not_exists and s conditioned on status = pending in
// one transaction, with the enrollment's progress (Enrollment.UpdateProgress).
func NewReview(actor Actor, e Enrollment, t Task, s *Submission, in ReviewInput, now time.Time) (Review, error) {
	if actor.Role != RoleMentor || !actor.IsUser(e.MentorID) || actor.OrgID != e.OrgID {
		return Review{}, notAllowed("review: not the enrollment's mentor")
	}
	if s.EnrollmentID != e.ID || s.TaskID != t.ID || t.ProgramID != e.ProgramID {
		return Review{}, notAllowed("review: submission, task and enrollment do not match")
	}
	// A completed enrollment may still have pending optional work, which
	// deserves its review; an ended one is over.
	if e.Status == EnrollmentStatusEnded {
		return Review{}, transition("enrollment", e.Status, "review")
	}
	if s.Status != SubmissionPending {
		return Review{}, transition("submission", s.Status, "review")
	}
	v := validate.New()
	v.OneOf("decision", string(in.Decision), string(ReviewAccepted), string(ReviewChangesRequested))
	if v.Range("score", in.Score, 0, t.MaxScore) && in.Decision == ReviewAccepted {
		v.Check(in.Score >= t.PassMark, "score", fmt.Sprintf("must be at least the pass mark (%d) to accept", t.PassMark))
	}
	minFeedback := 0
	if in.Decision == ReviewChangesRequested {
		minFeedback = 1
	}
	feedback := body(v, "feedback", in.Feedback, minFeedback, MaxFeedbackLen)
	if err := v.Err(); err != nil {
		return Review{}, err
	}
	now = stamp(now)
	s.Status = SubmissionStatus(in.Decision)
	s.ReviewedAt = now
	return Review{
		SubmissionID: s.ID, SubmissionVersion: s.Version, EnrollmentID: e.ID, ProgramID: e.ProgramID, OrgID: e.OrgID,
		TaskID: t.ID, InternID: e.InternID, MentorID: e.MentorID, Score: in.Score, Feedback: feedback,
		Decision: in.Decision, CreatedAt: now,
	}, nil
}
