package domain

import (
	"fmt"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// SubmissionStatus is the state of one submission version:
// pending → accepted | changes_requested, by exactly one review.
type SubmissionStatus string

// Submission states.
const (
	SubmissionPending          SubmissionStatus = "pending"
	SubmissionAccepted         SubmissionStatus = "accepted"
	SubmissionChangesRequested SubmissionStatus = "changes_requested"
)

func (s SubmissionStatus) String() string { return string(s) }

// Submission is one version of an intern's work on one task. Every version
// is its own item with its own ID; versions of a task count 1..n.
type Submission struct {
	ID           string
	EnrollmentID string
	ProgramID    string
	OrgID        string
	TaskID       string
	InternID     string
	MentorID     string
	Version      int
	Text         string
	Links        []string
	// UploadIDs reference uploads (upl_…) the upload flow fills in; their
	// existence and ownership are checked by the handler.
	UploadIDs   []string
	Status      SubmissionStatus
	SubmittedAt time.Time
	ReviewedAt  time.Time
}

// SubmissionInput is the content of a submission: at least one of text,
// links and uploads.
type SubmissionInput struct {
	Text      string
	Links     []string
	UploadIDs []string
}

// NextSubmissionVersion is the version number a new submission of a task
// gets, given the task's latest version (nil for none): 1 for the first, n+1
// after changes were requested on n; an error while n is pending review,
// after n was accepted, or at MaxSubmissionVersions.
func NextSubmissionVersion(latest *Submission) (int, error) {
	if latest == nil {
		return 1, nil
	}
	switch latest.Status {
	case SubmissionPending:
		return 0, transition("submission", latest.Status, "resubmit")
	case SubmissionAccepted:
		return 0, transition("submission", latest.Status, "resubmit")
	case SubmissionChangesRequested:
		if latest.Version >= MaxSubmissionVersions {
			return 0, fmt.Errorf("resubmit: %w (limit %d)", ErrTooManyVersions, MaxSubmissionVersions)
		}
		return latest.Version + 1, nil
	}
	return 0, transition("submission", latest.Status, "resubmit")
}

// NewSubmission is the intern's next version of work on task t of active
// enrollment e; latest is the task's latest version from this enrollment
// (nil for none). The store writes it with attribute_not_exists on its
// version key and conditioned on latest still being in the state read, so
// two concurrent submissions cannot both become version n.
func NewSubmission(actor Actor, e Enrollment, t Task, latest *Submission, in SubmissionInput, now time.Time) (Submission, error) {
	if actor.Role != RoleIntern || !actor.IsUser(e.InternID) {
		return Submission{}, notAllowed("submit: not the enrollment's intern")
	}
	if t.ProgramID != e.ProgramID {
		return Submission{}, notAllowed("submit: task of another program")
	}
	if latest != nil && (latest.EnrollmentID != e.ID || latest.TaskID != t.ID) {
		return Submission{}, notAllowed("submit: latest version of another enrollment or task")
	}
	if e.Status != EnrollmentStatusActive {
		return Submission{}, transition("enrollment", e.Status, "submit")
	}
	version, err := NextSubmissionVersion(latest)
	if err != nil {
		return Submission{}, err
	}
	v := validate.New()
	text := body(v, "text", in.Text, 0, MaxSubmissionTextLen)
	lnk := links(v, "links", in.Links)
	ups := uploadRefs(v, "uploadIds", in.UploadIDs)
	if !v.Failed("text") && !v.Failed("links") && !v.Failed("uploadIds") {
		v.Check(text != "" || len(in.Links) > 0 || len(in.UploadIDs) > 0, "text", "a submission needs text, links or uploads")
	}
	if err := v.Err(); err != nil {
		return Submission{}, err
	}
	return Submission{
		ID: ids.New(ids.Submission), EnrollmentID: e.ID, ProgramID: e.ProgramID, OrgID: e.OrgID, TaskID: t.ID,
		InternID: e.InternID, MentorID: e.MentorID, Version: version, Text: text, Links: lnk, UploadIDs: ups,
		Status: SubmissionPending, SubmittedAt: stamp(now),
	}, nil
}

// LatestSubmissions picks the highest version per task from one
// enrollment's submissions, in any order.
func LatestSubmissions(subs []Submission) map[string]Submission {
	latest := make(map[string]Submission, len(subs))
	for _, s := range subs {
		if cur, ok := latest[s.TaskID]; !ok || s.Version > cur.Version {
			latest[s.TaskID] = s
		}
	}
	return latest
}
