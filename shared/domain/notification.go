package domain

import (
	"time"

	"github.com/vip-platform/backend/shared/ids"
)

// NotificationKind names what happened. The values are also the WebSocket
// event names when notifications are pushed (api-docs/asyncapi.yaml).
type NotificationKind string

// Notification kinds and their recipients.
const (
	// NotifyApplicationDecided goes to the applicant.
	NotifyApplicationDecided NotificationKind = "application.decided"
	// NotifySubmissionReceived goes to the enrollment's mentor.
	NotifySubmissionReceived NotificationKind = "submission.received"
	// NotifyReviewPosted goes to the intern.
	NotifyReviewPosted NotificationKind = "review.posted"
	// NotifyEnrollmentCompleted goes to the intern.
	NotifyEnrollmentCompleted NotificationKind = "enrollment.completed"
)

// Notification is one entry of a user's stored inbox.
type Notification struct {
	ID          string
	RecipientID string
	Kind        NotificationKind
	Payload     NotificationPayload
	CreatedAt   time.Time
	// ReadAt is zero while unread.
	ReadAt time.Time
	// ExpiresAt is CreatedAt + NotificationRetention (the TTL attribute).
	ExpiresAt time.Time
}

// NotificationPayload is what the recipient gets, in the inbox and over
// WebSocket: public IDs to fetch details with, the titles the recipient can
// already read, and the outcome. Deliberately absent: feedback, scores,
// rejection reasons, motivation, submission content, and who decided;
// details are read through REST, which checks permissions at read time.
type NotificationPayload struct {
	ProgramID         string `json:"programId,omitzero"`
	ProgramTitle      string `json:"programTitle,omitzero"`
	ApplicationID     string `json:"applicationId,omitzero"`
	EnrollmentID      string `json:"enrollmentId,omitzero"`
	TaskID            string `json:"taskId,omitzero"`
	TaskTitle         string `json:"taskTitle,omitzero"`
	SubmissionID      string `json:"submissionId,omitzero"`
	SubmissionVersion int    `json:"submissionVersion,omitzero"`
	// Outcome is the application status (accepted, rejected) or the review
	// decision (accepted, changes_requested).
	Outcome string `json:"outcome,omitzero"`
}

func newNotification(recipient string, kind NotificationKind, pl NotificationPayload, now time.Time) Notification {
	now = stamp(now)
	return Notification{
		ID: ids.New(NotificationPrefix), RecipientID: recipient, Kind: kind, Payload: pl,
		CreatedAt: now, ExpiresAt: now.Add(NotificationRetention),
	}
}

// ApplicationDecidedNotification tells the applicant their application of
// p was decided (a is accepted or rejected).
func ApplicationDecidedNotification(a Application, p Program, now time.Time) Notification {
	return newNotification(a.InternID, NotifyApplicationDecided, NotificationPayload{
		ProgramID: p.ID, ProgramTitle: p.Title, ApplicationID: a.ID, EnrollmentID: a.EnrollmentID,
		Outcome: string(a.Status),
	}, now)
}

// SubmissionReceivedNotification tells the mentor a submission awaits review.
func SubmissionReceivedNotification(s Submission, t Task, p Program, now time.Time) Notification {
	return newNotification(s.MentorID, NotifySubmissionReceived, NotificationPayload{
		ProgramID: p.ID, ProgramTitle: p.Title, EnrollmentID: s.EnrollmentID, TaskID: t.ID, TaskTitle: t.Title,
		SubmissionID: s.ID, SubmissionVersion: s.Version,
	}, now)
}

// ReviewPostedNotification tells the intern their submission was reviewed.
func ReviewPostedNotification(r Review, t Task, p Program, now time.Time) Notification {
	return newNotification(r.InternID, NotifyReviewPosted, NotificationPayload{
		ProgramID: p.ID, ProgramTitle: p.Title, EnrollmentID: r.EnrollmentID, TaskID: t.ID, TaskTitle: t.Title,
		SubmissionID: r.SubmissionID, SubmissionVersion: r.SubmissionVersion, Outcome: string(r.Decision),
	}, now)
}

// EnrollmentCompletedNotification tells the intern they completed p.
func EnrollmentCompletedNotification(ev EnrollmentCompleted, p Program, now time.Time) Notification {
	return newNotification(ev.InternID, NotifyEnrollmentCompleted, NotificationPayload{
		ProgramID: p.ID, ProgramTitle: p.Title, EnrollmentID: ev.EnrollmentID,
	}, now)
}

// MarkRead marks the notification read by its recipient; marking it again
// keeps the first time.
func (n *Notification) MarkRead(actor Actor, now time.Time) error {
	if !actor.IsUser(n.RecipientID) {
		return notAllowed("mark notification read: not its recipient")
	}
	if n.ReadAt.IsZero() {
		n.ReadAt = stamp(now)
	}
	return nil
}

// Unread reports whether the notification has not been read.
func (n Notification) Unread() bool { return n.ReadAt.IsZero() }
