// Package token issues and verifies the platform's access tokens: short-lived
// JWTs signed with Ed25519 (EdDSA) by a key ring held in Secrets Manager.
//
// A token's header is {"alg":"EdDSA","kid":"<kid>","typ":"at+jwt"} and its
// claims are sub (usr_ ID), sid (ses_ ID), role, org (org_ ID, for mentors
// and org admins), iat, nbf, exp, iss, aud and jti. Verification pins the
// algorithm, the key ring, the issuer and the single audience, and requires
// every claim this package issues; see Verifier.
package token

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vip-platform/backend/shared/ids"
)

// The roles a token can carry (DESIGN.md, Identity and sessions). They are
// the same strings as the authorizer context's roles.
const (
	RoleIntern   = "intern"
	RoleMentor   = "mentor"
	RoleOrgAdmin = "org_admin"
	RoleAdmin    = "admin"
)

// Lifetime bounds of an access token.
const (
	MinTTL     = 10 * time.Minute
	MaxTTL     = 15 * time.Minute
	DefaultTTL = MaxTTL
)

// tokenType is the JWT "typ" header (RFC 9068): it keeps an access token
// from being accepted where another kind of JWT is expected, and vice versa.
const tokenType = "at+jwt"

// Subject is who a token is issued to.
type Subject struct {
	// UserID is the user's public ID (usr_…), the sub claim.
	UserID string
	// SessionID is the session's public ID (ses_…), the sid claim.
	SessionID string
	// Role is one of the Role* constants.
	Role string
	// OrgID is the organization (org_…) of a mentor or org admin; empty for
	// interns and platform admins.
	OrgID string
}

// validate applies the authorizer's rules for a principal, so the issuer
// never signs a token the authorizer would refuse.
func (s Subject) validate() error {
	switch {
	case !ids.Valid(s.UserID, ids.User):
		return fmt.Errorf("%w: sub is not a user ID", ErrTokenClaims)
	case !ids.Valid(s.SessionID, ids.Session):
		return fmt.Errorf("%w: sid is not a session ID", ErrTokenClaims)
	case s.OrgID != "" && !ids.Valid(s.OrgID, ids.Org):
		return fmt.Errorf("%w: org is not an org ID", ErrTokenClaims)
	}
	switch s.Role {
	case RoleIntern, RoleAdmin:
	case RoleMentor, RoleOrgAdmin:
		if s.OrgID == "" {
			return fmt.Errorf("%w: role %s requires org", ErrTokenClaims, s.Role)
		}
	default:
		return fmt.Errorf("%w: unknown role", ErrTokenClaims)
	}
	return nil
}

// Claims are the verified contents of an access token.
type Claims struct {
	Subject
	// ID is the token's unique jti.
	ID string
	// KeyID is the kid of the key that signed it (for logs and metrics).
	KeyID     string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// wireClaims is the JWT claims set.
type wireClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Role      string `json:"role"`
	OrgID     string `json:"org,omitempty"`
}
