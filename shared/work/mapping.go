package work

import (
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
)

// The store keeps the wire vocabulary of api-docs (a version is
// "submitted" until reviewed); the domain calls that state "pending". These
// conversions are the one place the two meet.

func domainEnrollment(e store.Enrollment) domain.Enrollment {
	return domain.Enrollment{
		ID: e.ID, ProgramID: e.ProgramID, OrgID: e.OrgID, InternID: e.InternID, MentorID: e.MentorID,
		ApplicationID: e.ApplicationID, Status: domain.EnrollmentStatus(e.Status),
		CompletedAt: e.CompletedAt, CreatedAt: e.CreatedAt, Version: e.Version,
	}
}

// domainStatusOfTask is the status of a task's latest version, from the
// enrollment's per-task progress.
func domainStatusOfTask(taskStatus string) domain.SubmissionStatus {
	switch taskStatus {
	case store.TaskAccepted:
		return domain.SubmissionAccepted
	case store.TaskChangesRequested:
		return domain.SubmissionChangesRequested
	}
	return domain.SubmissionPending
}

func domainSubmissionStatus(s string) domain.SubmissionStatus {
	switch s {
	case store.SubmissionAccepted:
		return domain.SubmissionAccepted
	case store.SubmissionChangesRequested:
		return domain.SubmissionChangesRequested
	case store.SubmissionSubmitted:
		return domain.SubmissionPending
	}
	// An unknown stored status must not look reviewable.
	return domain.SubmissionStatus(s)
}

// latestOf is the task's latest version as the domain rules need it, from
// the enrollment item (strongly consistent, and the item the write is
// conditioned on); nil before the first submission.
func latestOf(e store.Enrollment, taskID string) *domain.Submission {
	tp, ok := e.Tasks[taskID]
	if !ok || tp.LatestVersion == 0 || tp.Status == store.TaskNotStarted {
		return nil
	}
	return &domain.Submission{
		EnrollmentID: e.ID, TaskID: taskID, Version: tp.LatestVersion, Status: domainStatusOfTask(tp.Status),
	}
}

// progressAfter computes the enrollment's progress over the program's
// tasks with one task's status replaced by the decision being written.
// Tasks without an entry (added after the enrollment began) count as not
// started; entries of tasks the program no longer has are ignored.
func progressAfter(tasks []store.Task, e store.Enrollment, taskID, decision string, version int) domain.Progress {
	var subs []domain.Submission
	for id, tp := range e.Tasks {
		if id == taskID || tp.LatestVersion == 0 || tp.Status == store.TaskNotStarted {
			continue
		}
		subs = append(subs, domain.Submission{TaskID: id, Version: tp.LatestVersion, Status: domainStatusOfTask(tp.Status)})
	}
	subs = append(subs, domain.Submission{TaskID: taskID, Version: version, Status: domainStatusOfTask(decision)})
	return domain.ComputeProgress(tasks, subs)
}
