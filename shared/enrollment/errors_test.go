package enrollment_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/store"
)

func TestToHTTP(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{enrollment.ErrNotFound, 404, apigw.CodeNotFound},
		{enrollment.ErrForbidden, 403, apigw.CodeForbidden},
		{enrollment.ErrPreconditionRequired, 428, enrollment.CodePreconditionRequired},
		{enrollment.ErrStale, 412, apigw.CodePreconditionFailed},
		{enrollment.ErrNotPending, 409, apigw.CodeConflict},
		{enrollment.ErrAlreadyApplied, 409, apigw.CodeConflict},
		{enrollment.ErrNotAccepting, 409, apigw.CodeConflict},
		{enrollment.ErrFull, 409, apigw.CodeConflict},
		{enrollment.ErrConflict, 409, apigw.CodeConflict},
		{enrollment.ErrIdempotencyInFlight, 409, apigw.CodeConflict},
		{enrollment.ErrIdempotencyMismatch, 422, enrollment.CodeIdempotencyMismatch},
		{enrollment.ErrInvalidCursor, 400, apigw.CodeValidationFailed},
		{cursor.ErrInvalidCursor, 400, apigw.CodeValidationFailed},
		{store.ErrInvalidStartKey, 400, apigw.CodeValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			var ae *apigw.Error
			if !errors.As(enrollment.ToHTTP(fmt.Errorf("op: %w", tc.err)), &ae) || ae.Status != tc.status || ae.Code != tc.code {
				t.Fatalf("ToHTTP(%v) = %+v, want %d %s", tc.err, ae, tc.status, tc.code)
			}
			if !errors.Is(ae, tc.err) {
				t.Fatal("the cause is not kept for the log")
			}
		})
	}
	if enrollment.ToHTTP(nil) != nil {
		t.Fatal("ToHTTP(nil) != nil")
	}
	other := errors.New("dynamodb exploded")
	if got := enrollment.ToHTTP(other); got != other {
		t.Fatalf("an internal error changed: %v", got)
	}
	var ae *apigw.Error
	if errors.As(enrollment.ToHTTP(enrollment.ErrIdempotencyInFlight), &ae); ae.RetryAfter <= 0 {
		t.Fatal("in-flight conflict without Retry-After")
	}
}
