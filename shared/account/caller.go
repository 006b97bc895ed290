package account

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
)

// Caller is the authenticated user a REST request acts for, as the
// authorizer vouched for it, plus where the request came from (for audit).
type Caller struct {
	UserID    string
	Role      string
	OrgID     string
	SessionID string
	RequestID string
	SourceIP  string
}

// CallerFrom reads the caller from req's authorizer context; a missing or
// malformed principal is a 401 (*apigw.Error), so a handler that somehow
// runs without the authorizer fails closed.
func CallerFrom(req events.APIGatewayProxyRequest) (Caller, error) {
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return Caller{}, err
	}
	return Caller{
		UserID: p.UserID, Role: p.Role, OrgID: p.OrgID, SessionID: p.SessionID,
		RequestID: req.RequestContext.RequestID,
		SourceIP:  req.RequestContext.Identity.SourceIP,
	}, nil
}

// entry starts an audit entry for an action of the caller on target.
func (c Caller) entry(action, target, outcome string) audit.Entry {
	return audit.Entry{
		Actor: c.UserID, ActorRole: c.Role, Action: action, Target: target, Outcome: outcome,
		RequestID: c.RequestID, SourceIP: c.SourceIP,
	}
}

// RejectBody refuses a body on routes whose contract has none: data the
// service would silently ignore is data a client believes was applied.
func RejectBody(req events.APIGatewayProxyRequest) error {
	if strings.TrimSpace(req.Body) != "" {
		return apigw.BadRequest("This request takes no body.")
	}
	return nil
}

// invocationID is the Lambda request ID of a CLI invocation, the one the
// operator's `aws lambda invoke` output and the function's logs show.
func invocationID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
