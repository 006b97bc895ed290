package domain

import (
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// Org is an organization that publishes programs.
type Org struct {
	ID        string
	Name      string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// NewOrg creates an organization. Only platform admins create organizations
// (its first org admin then joins through an invite).
func NewOrg(actor Actor, name string, now time.Time) (Org, error) {
	if !actor.IsPlatformAdmin() {
		return Org{}, notAllowed("create org: role %s", actor.Role)
	}
	v := validate.New()
	name = line(v, "name", name, MaxOrgNameLen)
	if err := v.Err(); err != nil {
		return Org{}, err
	}
	now = stamp(now)
	return Org{ID: ids.New(ids.Org), Name: name, CreatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now}, nil
}
