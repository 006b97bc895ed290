// Package pwpolicy adapts the server-side password policy
// (shared/auth/password/policy) to identity.PasswordPolicy. It is a package
// of its own so that only the functions that set passwords (registration,
// password change) import the policy and pay its dictionaries' start-up
// cost; identity itself never imports it.
package pwpolicy

import (
	"errors"

	"github.com/vip-platform/backend/shared/auth/password/policy"
	"github.com/vip-platform/backend/shared/identity"
)

// Policy is the platform's password policy.
type Policy struct{}

var _ identity.PasswordPolicy = Policy{}

// Reject returns the policy's reason for refusing password, or "" if it is
// acceptable. The email and display name are the context a password must
// not be built from.
func (Policy) Reject(password, email, displayName string) string {
	err := policy.Check(password, email, displayName)
	if err == nil {
		return ""
	}
	var pe *policy.Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	// policy.Check returns only *policy.Error; anything else is refused
	// rather than accepted.
	return "is not acceptable"
}
