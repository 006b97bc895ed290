package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// InviteStatus is the state of an invite: pending → used | revoked.
// Expiry is not a state: it is computed from ExpiresAt.
type InviteStatus string

// Invite states.
const (
	InvitePending InviteStatus = "pending"
	InviteUsed    InviteStatus = "used"
	InviteRevoked InviteStatus = "revoked"
)

func (s InviteStatus) String() string { return string(s) }

// Invite lets one person, identified by email, join an organization with a
// role. The code itself is given to the inviter once and never stored: the
// store keys the invite by CodeHash.
type Invite struct {
	ID       string
	CodeHash string
	OrgID    string
	// Email is the invitee's normalized email (store.NormalizeEmail); only
	// a registration with that email can redeem the invite.
	Email     string
	Role      Role
	Status    InviteStatus
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedBy    string
	UsedAt    time.Time
	RevokedAt time.Time
	Version   int64
}

// CanInvite reports whether inviter may invite someone with role into orgID:
// platform admins invite org admins and mentors into any organization, org
// admins invite mentors into their own. Org admins do not mint other org
// admins, so administrative rights only spread through a platform admin.
func CanInvite(inviter Actor, orgID string, role Role) bool {
	switch {
	case orgID == "" || (role != RoleOrgAdmin && role != RoleMentor):
		return false
	case inviter.IsPlatformAdmin():
		return true
	default:
		return role == RoleMentor && inviter.IsOrgAdminOf(orgID)
	}
}

// inviteCodeBytes is 256 bits: a code is a bearer credential.
const inviteCodeBytes = 32

// InviteCodeLen is the length of an invite code.
const InviteCodeLen = 52

var inviteEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewInvite creates a pending invite of email (already normalized by the
// caller with store.NormalizeEmail, the form registration compares) into
// orgID with role, valid for InviteTTL. It returns the invite and its code,
// which is shown to the inviter once (to be sent to the invitee) and must
// not be logged.
func NewInvite(inviter Actor, orgID, email string, role Role, now time.Time) (Invite, string, error) {
	v := validate.New()
	v.ID("orgId", orgID, ids.Org)
	if v.Required("email", email) && v.Email("email", email) {
		v.Check(strings.ToLower(strings.TrimSpace(email)) == email, "email", "must be normalized")
	}
	v.OneOf("role", string(role), string(RoleOrgAdmin), string(RoleMentor))
	if err := v.Err(); err != nil {
		return Invite{}, "", err
	}
	if !CanInvite(inviter, orgID, role) {
		return Invite{}, "", notAllowed("invite %s into org: inviter role %s", role, inviter.Role)
	}
	var b [inviteCodeBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	code := inviteEncoding.EncodeToString(b[:])
	now = stamp(now)
	return Invite{
		ID: ids.New(InvitePrefix), CodeHash: HashInviteCode(code), OrgID: orgID, Email: email, Role: role,
		Status: InvitePending, InvitedBy: inviter.UserID, CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
	}, code, nil
}

// ValidInviteCode reports whether code has the form NewInvite produces, so a
// malformed code is refused before any lookup.
func ValidInviteCode(code string) bool {
	if len(code) != InviteCodeLen {
		return false
	}
	b, err := inviteEncoding.DecodeString(code)
	return err == nil && len(b) == inviteCodeBytes && inviteEncoding.EncodeToString(b) == code
}

// HashInviteCode is the lookup key of an invite: hex SHA-256 of the code. A
// fast hash is enough because the code has 256 random bits.
func HashInviteCode(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

// Usable reports whether the invite is pending and unexpired at now.
func (inv Invite) Usable(now time.Time) bool {
	return inv.Status == InvitePending && now.Before(inv.ExpiresAt)
}

// Redeem spends the invite for the new user userID registering with the
// normalized email: the code must match, the invite be usable and bound to
// that email. Every failure is ErrInviteInvalid, so the answer does not tell
// an expired invite from someone else's. The store writes the used invite
// conditioned on status = pending, in the registration's transaction.
func (inv *Invite) Redeem(code, email, userID string, now time.Time) error {
	if !ValidInviteCode(code) || subtle.ConstantTimeCompare([]byte(HashInviteCode(code)), []byte(inv.CodeHash)) != 1 ||
		!inv.Usable(now) || email == "" || email != inv.Email || !ids.Valid(userID, ids.User) {
		return ErrInviteInvalid
	}
	inv.Status = InviteUsed
	inv.UsedBy = userID
	inv.UsedAt = stamp(now)
	return nil
}

// Revoke withdraws a pending invite; anyone who may issue it may revoke it.
func (inv *Invite) Revoke(actor Actor, now time.Time) error {
	if !CanInvite(actor, inv.OrgID, inv.Role) {
		return notAllowed("revoke invite: role %s", actor.Role)
	}
	if inv.Status != InvitePending {
		return transition("invite", inv.Status, "revoke")
	}
	inv.Status = InviteRevoked
	inv.RevokedAt = stamp(now)
	return nil
}
