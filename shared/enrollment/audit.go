package enrollment

import (
	"context"
	"fmt"

	"github.com/vip-platform/backend/shared/audit"
)

// Audit actions of this package.
const (
	ActionDenied             = "authz.denied"
	ActionApplicationDecided = "application.decided"
)

// Routes, as api-docs/authorization.yaml names them: the route detail of
// denial entries and part of cursor purposes.
const (
	RouteApply               = "POST /v1/programs/{programId}/applications"
	RouteListApplications    = "GET /v1/programs/{programId}/applications"
	RouteMyApplications      = "GET /v1/me/applications"
	RouteWithdrawApplication = "POST /v1/applications/{applicationId}/withdraw"
	RouteDecideApplication   = "POST /v1/applications/{applicationId}/decision"
	RouteMyEnrollments       = "GET /v1/me/enrollments"
	RouteGetEnrollment       = "GET /v1/enrollments/{enrollmentId}"
)

// entry starts an audit entry for an action of the caller on target.
func (c Caller) entry(action, target, outcome string) audit.Entry {
	return audit.Entry{
		Actor: c.UserID, ActorRole: c.Role, Action: action, Target: target, Outcome: outcome,
		RequestID: c.RequestID, SourceIP: c.SourceIP,
	}
}

// deny audits a refused request (authz.denied, with the route and the rule
// that failed) and returns as, wrapped with the reason for the log line. An
// audit write that fails fails the request: a denial nobody can see later
// is worth a 500.
func deny(ctx context.Context, aud audit.Auditor, c Caller, route, target, reason string, as error) error {
	e := c.entry(ActionDenied, target, audit.OutcomeDenied)
	e.Reason = reason
	e.Details = map[string]string{"route": route, "reason": reason}
	if err := aud.Append(ctx, e); err != nil {
		return fmt.Errorf("audit denial: %w", err)
	}
	return fmt.Errorf("%w: %s", as, reason)
}
