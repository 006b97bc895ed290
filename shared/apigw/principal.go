package apigw

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/ids"
)

// Keys of the REST (and WebSocket) Lambda authorizer's context, the
// contract between the authorizer and every handler. The authorizer sets
// exactly these, as strings; API Gateway delivers them in
// requestContext.authorizer.
const (
	// AuthorizerUserID is the user's public ID (usr_…), the token's sub.
	AuthorizerUserID = "sub"
	// AuthorizerRole is one of the Role* constants.
	AuthorizerRole = "role"
	// AuthorizerOrgID is the organization (org_…) of a mentor or org admin;
	// absent or empty for interns and platform admins.
	AuthorizerOrgID = "org"
	// AuthorizerSessionID is the session's public ID (ses_…), the token's
	// sid.
	AuthorizerSessionID = "sid"
)

// Roles (DESIGN.md, Identity and sessions).
const (
	RoleIntern   = "intern"
	RoleMentor   = "mentor"
	RoleOrgAdmin = "org_admin"
	RoleAdmin    = "admin"
)

// Principal is the authenticated caller, as the authorizer vouched for it.
type Principal struct {
	UserID    string
	Role      string
	OrgID     string
	SessionID string
}

// ErrMalformedPrincipal is the cause behind every PrincipalFrom failure.
var ErrMalformedPrincipal = errors.New("authorizer context missing or malformed")

// PrincipalFrom reads the caller from req's authorizer context. Anything
// missing or malformed is a 401 (*Error, cause logged): a handler behind an
// authorizer that gets no principal must fail closed.
func PrincipalFrom(req events.APIGatewayProxyRequest) (Principal, error) {
	return ParsePrincipal(req.RequestContext.Authorizer)
}

// ParsePrincipal validates an authorizer context map (REST or WebSocket
// request context): sub a usr_ ID, sid a ses_ ID, role a known role, org an
// org_ ID when present and required for mentors and org admins.
func ParsePrincipal(authorizer map[string]any) (Principal, error) {
	var p Principal
	var err error
	if p.UserID, err = stringKey(authorizer, AuthorizerUserID, true); err != nil {
		return Principal{}, err
	}
	if p.Role, err = stringKey(authorizer, AuthorizerRole, true); err != nil {
		return Principal{}, err
	}
	if p.OrgID, err = stringKey(authorizer, AuthorizerOrgID, false); err != nil {
		return Principal{}, err
	}
	if p.SessionID, err = stringKey(authorizer, AuthorizerSessionID, true); err != nil {
		return Principal{}, err
	}
	switch {
	case !ids.Valid(p.UserID, ids.User):
		return Principal{}, malformed("%s is not a user ID", AuthorizerUserID)
	case !ids.Valid(p.SessionID, ids.Session):
		return Principal{}, malformed("%s is not a session ID", AuthorizerSessionID)
	case p.OrgID != "" && !ids.Valid(p.OrgID, ids.Org):
		return Principal{}, malformed("%s is not an org ID", AuthorizerOrgID)
	}
	switch p.Role {
	case RoleIntern, RoleAdmin:
	case RoleMentor, RoleOrgAdmin:
		if p.OrgID == "" {
			return Principal{}, malformed("role %s without %s", p.Role, AuthorizerOrgID)
		}
	default:
		return Principal{}, malformed("%s is not a known role", AuthorizerRole)
	}
	return p, nil
}

func stringKey(m map[string]any, key string, required bool) (string, error) {
	raw, ok := m[key]
	if !ok || raw == nil {
		if required {
			return "", malformed("%s missing", key)
		}
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", malformed("%s is not a string", key)
	}
	if s == "" && required {
		return "", malformed("%s empty", key)
	}
	return s, nil
}

func malformed(format string, args ...any) error {
	return Unauthorized().WithCause(fmt.Errorf("%w: %s", ErrMalformedPrincipal, fmt.Sprintf(format, args...)))
}
