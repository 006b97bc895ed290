package work

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
)

// Caller is the authenticated user a request acts for, as the authorizer
// vouched for it, plus where the request came from (for audit). The token's
// role picks the rules; ownership is always checked against stored state.
type Caller struct {
	UserID    string
	Role      string
	OrgID     string
	RequestID string
	SourceIP  string
}

// CallerFrom reads the caller from req's authorizer context; a missing or
// malformed principal is a 401 (*apigw.Error).
func CallerFrom(req events.APIGatewayProxyRequest) (Caller, error) {
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return Caller{}, err
	}
	return Caller{
		UserID: p.UserID, Role: p.Role, OrgID: p.OrgID,
		RequestID: req.RequestContext.RequestID, SourceIP: req.RequestContext.Identity.SourceIP,
	}, nil
}

// Audit action and the routes, as api-docs/authorization.yaml names them
// (the route detail of denial entries).
const (
	ActionDenied         = "authz.denied"
	RouteSubmit          = "POST /v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions"
	RouteListSubmissions = "GET /v1/enrollments/{enrollmentId}/submissions"
	RouteReview          = "POST /v1/submissions/{submissionId}/reviews"
)

func (c Caller) actor() domain.Actor {
	return domain.Actor{UserID: c.UserID, Role: domain.Role(c.Role), OrgID: c.OrgID}
}

// denier audits refusals.
type denier struct{ audit audit.Auditor }

// deny audits a refused request (authz.denied, with the route and the rule
// that failed) and returns as, wrapped with the rule for the log line. An
// audit write that fails fails the request: a denial nobody can see later
// is worth a 500.
func (d denier) deny(ctx context.Context, c Caller, route, target, rule string, as error) error {
	e := audit.Entry{
		Actor: c.UserID, ActorRole: c.Role, Action: ActionDenied, Target: target, Outcome: audit.OutcomeDenied,
		Reason: rule, RequestID: c.RequestID, SourceIP: c.SourceIP,
		Details: map[string]string{"route": route, "reason": rule},
	}
	if err := d.audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit denial: %w", err)
	}
	return fmt.Errorf("%w: %s", as, rule)
}
