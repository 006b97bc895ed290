package domain

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is. Transitions wrap them with the
// reason, which is for logs and audit, not for the caller.
var (
	// ErrInvalidTransition: the entity's current state forbids the action.
	ErrInvalidTransition = errors.New("invalid state transition")
	// ErrNotAllowed: the actor may not act on this entity, or the entities
	// passed together do not belong together.
	ErrNotAllowed = errors.New("not allowed")
	// ErrCapacityReached: every seat of the program is taken.
	ErrCapacityReached = errors.New("program capacity reached")
	// ErrApplicationsClosed: the program is not open or now is outside its
	// application window.
	ErrApplicationsClosed = errors.New("program is not accepting applications")
	// ErrTooManyTasks: the program already has MaxTasksPerProgram tasks.
	ErrTooManyTasks = errors.New("too many tasks in program")
	// ErrTooManyVersions: the task already has MaxSubmissionVersions
	// submissions from this enrollment.
	ErrTooManyVersions = errors.New("too many submission versions")
	// ErrNotComplete: the enrollment does not meet the completion rule.
	ErrNotComplete = errors.New("enrollment does not meet the completion rule")
	// ErrInviteInvalid covers every reason an invite cannot be redeemed.
	ErrInviteInvalid = errors.New("invite invalid or expired")
)

// TransitionError reports an action the entity's state forbids. It matches
// ErrInvalidTransition with errors.Is.
type TransitionError struct {
	// Entity is the kind of thing ("program", "application", ...).
	Entity string
	// From is the state the entity is in.
	From string
	// Action is what was attempted ("publish", "withdraw", ...).
	Action string
}

// Error says what was attempted in which state; it holds no user content.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s: cannot %s while %s", e.Entity, e.Action, e.From)
}

// Is makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

func transition(entity string, from fmt.Stringer, action string) error {
	return &TransitionError{Entity: entity, From: from.String(), Action: action}
}

func notAllowed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotAllowed, fmt.Sprintf(format, args...))
}
