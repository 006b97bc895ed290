package work

import (
	"time"

	"github.com/vip-platform/backend/shared/store"
)

// SubmissionView is a submission version as the parties of its enrollment
// see it (api-docs/openapi.yaml Submission), member for member.
type SubmissionView struct {
	ID           string      `json:"id"`
	EnrollmentID string      `json:"enrollmentId"`
	TaskID       string      `json:"taskId"`
	Version      int         `json:"version"`
	Text         string      `json:"text"`
	Links        []string    `json:"links"`
	UploadIDs    []string    `json:"uploadIds"`
	Status       string      `json:"status"`
	CreatedAt    time.Time   `json:"createdAt"`
	Review       *ReviewView `json:"review,omitzero"`
}

// ReviewView is the review of one version (openapi Review).
type ReviewView struct {
	ID           string    `json:"id"`
	SubmissionID string    `json:"submissionId"`
	MentorID     string    `json:"mentorId"`
	Score        int       `json:"score"`
	Feedback     string    `json:"feedback"`
	Decision     string    `json:"decision"`
	CreatedAt    time.Time `json:"createdAt"`
}

// SubmissionList is every version of an enrollment (openapi
// SubmissionList), by task and version.
type SubmissionList struct {
	Items []SubmissionView `json:"items"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SubmissionViewOf is the view of a stored submission.
func SubmissionViewOf(s store.Submission) SubmissionView {
	v := SubmissionView{
		ID: s.ID, EnrollmentID: s.EnrollmentID, TaskID: s.TaskID, Version: s.Version, Text: s.Text,
		Links: nonNil(s.Links), UploadIDs: nonNil(s.UploadIDs), Status: s.Status, CreatedAt: s.CreatedAt.UTC(),
	}
	if s.Review != nil {
		r := ReviewViewOf(s.ID, *s.Review)
		v.Review = &r
	}
	return v
}

// ReviewViewOf is the view of the review of submission submissionID.
func ReviewViewOf(submissionID string, r store.Review) ReviewView {
	return ReviewView{
		ID: r.ID, SubmissionID: submissionID, MentorID: r.MentorID, Score: r.Score, Feedback: r.Feedback,
		Decision: r.Decision, CreatedAt: r.CreatedAt.UTC(),
	}
}
