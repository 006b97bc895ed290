package enrollment

import (
	"time"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
)

// ApplicationView is an application as its intern and the deciding org
// admins see it (openapi Application), member for member.
type ApplicationView struct {
	ID           string     `json:"id"`
	ProgramID    string     `json:"programId"`
	InternID     string     `json:"internId"`
	Motivation   string     `json:"motivation"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	EnrollmentID string     `json:"enrollmentId,omitempty"`
	Version      int64      `json:"version"`
	CreatedAt    time.Time  `json:"createdAt"`
	DecidedAt    *time.Time `json:"decidedAt,omitempty"`
}

// ApplicationList is a page of applications (openapi ApplicationList).
type ApplicationList struct {
	Items      []ApplicationView `json:"items"`
	NextCursor string            `json:"nextCursor,omitempty"`
}

// EnrollmentView is an enrollment with its progress (openapi Enrollment).
type EnrollmentView struct {
	ID          string             `json:"id"`
	ProgramID   string             `json:"programId"`
	InternID    string             `json:"internId"`
	MentorID    string             `json:"mentorId"`
	Status      string             `json:"status"`
	Progress    ProgressView       `json:"progress"`
	Tasks       []TaskProgressView `json:"tasks"`
	Version     int64              `json:"version"`
	CreatedAt   time.Time          `json:"createdAt"`
	CompletedAt *time.Time         `json:"completedAt,omitempty"`
}

// ProgressView counts the required tasks accepted.
type ProgressView struct {
	RequiredTotal    int `json:"requiredTotal"`
	RequiredAccepted int `json:"requiredAccepted"`
	Percent          int `json:"percent"`
}

// TaskProgressView is one task of the program and where the enrollment
// stands on it.
type TaskProgressView struct {
	TaskID        string `json:"taskId"`
	Title         string `json:"title"`
	Required      bool   `json:"required"`
	Status        string `json:"status"`
	LatestVersion int    `json:"latestVersion,omitzero"`
}

// EnrollmentList is a page of enrollments (openapi EnrollmentList).
type EnrollmentList struct {
	Items      []EnrollmentView `json:"items"`
	NextCursor string           `json:"nextCursor,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ViewApplication is a as the API shows it: the rejection reason only for
// rejected applications, no internal fields (org, decider, mentor).
func ViewApplication(a store.Application) ApplicationView {
	v := ApplicationView{
		ID: a.ID, ProgramID: a.ProgramID, InternID: a.InternID, Motivation: a.Motivation,
		Status: string(a.Status), EnrollmentID: a.EnrollmentID, Version: a.Version,
		CreatedAt: a.CreatedAt.UTC(), DecidedAt: optTime(a.DecidedAt),
	}
	if a.Status == domain.ApplicationRejected {
		v.Reason = a.RejectReason
	}
	return v
}

// enrollmentView joins the enrollment's task map with the program's tasks
// (in position order, for titles and the required flag). The counts come
// from domain.ComputeProgress, fed with the latest version of each task as
// the enrollment item records it (the submit and review transactions keep
// that map in step with the submissions), so the completion rule and the
// percentage are the domain's, not recomputed here.
func enrollmentView(e store.Enrollment, tasks []store.Task) EnrollmentView {
	subs := make([]domain.Submission, 0, len(e.Tasks))
	for id, tp := range e.Tasks {
		if tp.LatestVersion < 1 {
			continue
		}
		subs = append(subs, domain.Submission{TaskID: id, Version: tp.LatestVersion, Status: submissionStatus(tp.Status)})
	}
	pr := domain.ComputeProgress(tasks, subs)
	v := EnrollmentView{
		ID: e.ID, ProgramID: e.ProgramID, InternID: e.InternID, MentorID: e.MentorID, Status: e.Status,
		Progress: ProgressView{RequiredTotal: pr.RequiredTotal, RequiredAccepted: pr.RequiredAccepted, Percent: pr.Percent()},
		Tasks:    make([]TaskProgressView, 0, len(tasks)),
		Version:  e.Version, CreatedAt: e.CreatedAt.UTC(), CompletedAt: optTime(e.CompletedAt),
	}
	for i, t := range tasks {
		tp := pr.Tasks[i]
		v.Tasks = append(v.Tasks, TaskProgressView{
			TaskID: t.ID, Title: t.Title, Required: t.Required, Status: string(tp.State), LatestVersion: tp.LatestVersion,
		})
	}
	return v
}

// submissionStatus maps a task status of the enrollment item to the status
// of the task's latest submission version.
func submissionStatus(taskStatus string) domain.SubmissionStatus {
	switch taskStatus {
	case store.TaskAccepted:
		return domain.SubmissionAccepted
	case store.TaskChangesRequested:
		return domain.SubmissionChangesRequested
	}
	return domain.SubmissionPending
}
