package domain

// Role is a platform role. The values equal the access token's role claim
// and apigw.Role* (a test keeps them in step).
type Role string

// Roles (DESIGN.md, Identity and sessions).
const (
	RoleIntern   Role = "intern"
	RoleMentor   Role = "mentor"
	RoleOrgAdmin Role = "org_admin"
	RoleAdmin    Role = "admin"
)

// Actor is the caller a transition runs for, taken from the authenticated
// principal (apigw.Principal): domain rules check ownership against it.
type Actor struct {
	UserID string
	Role   Role
	// OrgID is the organization of a mentor or org admin, "" otherwise.
	OrgID string
}

// IsPlatformAdmin reports whether a is a platform admin.
func (a Actor) IsPlatformAdmin() bool { return a.Role == RoleAdmin && a.UserID != "" }

// IsOrgAdminOf reports whether a administers organization orgID.
func (a Actor) IsOrgAdminOf(orgID string) bool {
	return a.Role == RoleOrgAdmin && a.UserID != "" && orgID != "" && a.OrgID == orgID
}

// IsMemberOf reports whether a is a mentor or org admin of orgID.
func (a Actor) IsMemberOf(orgID string) bool {
	return (a.Role == RoleOrgAdmin || a.Role == RoleMentor) && a.UserID != "" && orgID != "" && a.OrgID == orgID
}

// IsUser reports whether a is the user userID (never true for an empty ID,
// so a zero Actor owns nothing).
func (a Actor) IsUser(userID string) bool { return a.UserID != "" && a.UserID == userID }

// Member is a stored user as another rule needs to see it: the mentor an
// application is accepted with.
type Member struct {
	UserID string
	Role   Role
	OrgID  string
	// Active is false for suspended users.
	Active bool
}
