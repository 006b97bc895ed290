// Package domain holds the internship platform's entities (organizations,
// invites, programs, tasks, applications, enrollments, submissions, reviews,
// notifications), their validated constructors and state machines, and the
// pure rules between them (capacity, progress, completion). It imports
// nothing of AWS (a test parses the package and its module imports to prove
// it), so every rule runs and is tested without a database; the store maps
// these types to items and turns the preconditions documented here into
// conditional writes.
//
// # Errors
//
// Constructors and transitions return:
//
//   - validate.Errors, every failing field named by its JSON member
//     (apigw.Wrap answers 400 validation_failed by itself). A field that
//     may not change in the current state is a field error too ("cannot be
//     changed while the program is open"), so a client learns all at once.
//   - *TransitionError (errors.Is(err, ErrInvalidTransition)): the entity's
//     state forbids the action. Answer 409.
//   - ErrNotAllowed (wrapped with the reason, for logs): the actor may not do
//     this to this entity, or two entities do not belong together (a task of
//     another program). Answer 404 for things the caller may not see, 403
//     for the caller's own things; audit the denial.
//   - ErrCapacityReached, ErrApplicationsClosed, ErrTooManyTasks,
//     ErrTooManyVersions, ErrNotComplete: state conflicts with their own
//     message. Answer 409.
//   - ErrInviteInvalid: one error for unknown, expired, used, revoked and
//     wrong-email invites, so an invite code cannot be probed. Answer 400
//     or 404, always the same way.
//
// # Decisions
//
// Programs move draft → open → closed → archived, one step at a time, each
// by an org admin of the program's org. Publishing needs at least one
// required task, valid tasks and a window that has not closed. In draft
// every field is editable; while open only description and dates are (see
// Program.Update for the date rules); closed and archived programs are
// frozen. Tasks are added and edited in draft and open, deleted only in draft
// (once open, enrollments may already have submissions for them), and while
// open a task's grading (required, maxScore, passMark) is frozen, because
// interns are already being graded against it.
//
// Applications are accepted while the program is open and now is inside
// its window [opensAt, closesAt). One live application (pending or
// accepted) per intern and program: the store enforces it with a claim item;
// after a withdrawal or rejection the intern may apply again while the
// window is open. Only the applying intern withdraws, and only while pending.
// Decisions are taken by an org admin of the program's org while the
// application is pending and the program is open or closed (not draft, not
// archived): closing the window should not strand pending applications.
// Accepting needs a seat (enrolled < capacity) and an active mentor of the
// same org; it increments Program.Enrolled and returns the Enrollment, which
// the store writes in one transaction with the decision, conditioned on
// enrolled < capacity and the application still pending, so concurrent
// accepts cannot overfill a program.
//
// An enrollment is active until it is completed (all required tasks
// accepted) or ended by an org admin. Submissions are versioned 1..n per
// task: a new version is allowed while the enrollment is active and the task
// has no submission yet or its latest version got changes_requested; never
// while one is pending review, never after accepted. Each version is kept.
//
// A review decides one submission version exactly once (the store
// conditions on the version still being pending). Only the enrollment's
// assigned mentor reviews, while the enrollment is active or completed
// (pending optional work of a completed enrollment still gets its review),
// not once it was ended. The score is 0..maxScore; accepted requires
// score >= passMark, so a pass mark means something; changes_requested is
// allowed at any score (something may be missing from otherwise good work)
// and requires feedback, because "change something" without saying what
// helps nobody.
//
// Progress counts required tasks whose latest version is accepted against
// all required tasks; an enrollment with zero required tasks never completes
// by itself. Completion produces an EnrollmentCompleted event for the
// certificate issuer (CompletionHook).
//
// Notifications carry IDs, titles and the decision only: never feedback,
// scores, rejection reasons, motivation or another person's identity. The
// recipient reads details through the REST API, which checks permissions
// again at read time; so the same payload is safe to push over WebSocket.
//
// Times are stored in UTC at millisecond precision. Entities carry a
// Version for optimistic locking; transitions do not change it, the store
// increments it on every conditional write.
package domain
