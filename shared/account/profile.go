package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Audit actions of this file.
const ActionProfileUpdated = "account.profile.updated"

// MaxDisplayName is the longest display name, in characters.
const MaxDisplayName = 80

// UserReader reads a user by ID.
type UserReader interface {
	GetUser(ctx context.Context, id string) (store.User, error)
}

// ProfileStore is what a profile update needs.
type ProfileStore interface {
	UserReader
	SetProfile(ctx context.Context, userID, displayName string, expectedVersion int64) (store.User, error)
}

var (
	_ UserReader   = (*store.Store)(nil)
	_ ProfileStore = (*store.Store)(nil)
)

// Me is the caller's profile, the openapi Me schema. It carries nothing
// the caller may not read about themselves and nothing secret: no password
// hash, no MFA ciphertext, no storage key.
type Me struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"displayName"`
	Role        string    `json:"role"`
	OrgID       string    `json:"orgId,omitempty"`
	Status      string    `json:"status"`
	MFAEnabled  bool      `json:"mfaEnabled"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
}

// MeOf projects a stored user onto its public profile.
func MeOf(u store.User) Me {
	return Me{
		ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role, OrgID: u.OrgID,
		Status: u.Status, MFAEnabled: u.MFA.Enabled, Version: u.Version, CreatedAt: u.CreatedAt.UTC(),
	}
}

// ETag is the entity tag of a profile version, the value PATCH /v1/me
// accepts back in If-Match.
func (m Me) ETag() string { return `"` + strconv.FormatInt(m.Version, 10) + `"` }

// ValidateDisplayName checks a display name: required, 1..MaxDisplayName
// characters, no control or bidi-override characters, no surrounding white
// space (refused rather than trimmed: the name is stored exactly as sent).
func ValidateDisplayName(v *validate.Validator, field, name string) {
	v.Required(field, name)
	v.Length(field, name, 1, MaxDisplayName)
	v.Text(field, name)
	v.Check(strings.TrimSpace(name) == name, field, "must not start or end with white space")
}

// Profiles reads the caller's profile.
type Profiles struct {
	users UserReader
}

// NewProfiles returns the profile reader.
func NewProfiles(users UserReader) (*Profiles, error) {
	if users == nil {
		return nil, errors.New("account: nil user reader")
	}
	return &Profiles{users: users}, nil
}

// Get returns the caller's profile; ErrUnknownCaller if the user is gone.
func (p *Profiles) Get(ctx context.Context, c Caller) (Me, error) {
	u, err := getCaller(ctx, p.users, c)
	if err != nil {
		return Me{}, err
	}
	return MeOf(u), nil
}

func getCaller(ctx context.Context, users UserReader, c Caller) (store.User, error) {
	u, err := users.GetUser(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("%w: %w", ErrUnknownCaller, err)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("read caller: %w", err)
	}
	return u, nil
}

// ProfileUpdate is a PATCH /v1/me: the only user-editable field, and the
// version the client read (IfMatch, 0 when the request was unconditional).
type ProfileUpdate struct {
	DisplayName string
	IfMatch     int64
}

// ProfileUpdater changes the caller's profile.
type ProfileUpdater struct {
	store ProfileStore
	audit audit.Auditor
}

// NewProfileUpdater returns the profile updater.
func NewProfileUpdater(st ProfileStore, aud audit.Auditor) (*ProfileUpdater, error) {
	if st == nil || aud == nil {
		return nil, errors.New("account: profile updater needs a store and an auditor")
	}
	return &ProfileUpdater{store: st, audit: aud}, nil
}

// Update validates and applies in. With IfMatch set the write is
// conditional on that version (ErrStale otherwise); without it, on the
// version just read (ErrConflict if another write slips in between), so no
// update is ever lost. An update that changes nothing writes and audits
// nothing and returns the current profile.
func (p *ProfileUpdater) Update(ctx context.Context, c Caller, in ProfileUpdate) (Me, error) {
	v := validate.New()
	ValidateDisplayName(v, "displayName", in.DisplayName)
	if err := v.Err(); err != nil {
		return Me{}, err
	}
	u, err := getCaller(ctx, p.store, c)
	if err != nil {
		return Me{}, err
	}
	if in.IfMatch != 0 && in.IfMatch != u.Version {
		return Me{}, fmt.Errorf("%w: If-Match %d, current %d", ErrStale, in.IfMatch, u.Version)
	}
	if u.DisplayName == in.DisplayName {
		return MeOf(u), nil
	}
	updated, err := p.store.SetProfile(ctx, u.ID, in.DisplayName, u.Version)
	switch {
	case errors.Is(err, store.ErrConflict) && in.IfMatch != 0:
		return Me{}, fmt.Errorf("%w: %w", ErrStale, err)
	case errors.Is(err, store.ErrConflict):
		return Me{}, fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, store.ErrNotFound):
		return Me{}, fmt.Errorf("%w: %w", ErrUnknownCaller, err)
	case err != nil:
		return Me{}, fmt.Errorf("update profile: %w", err)
	}
	e := c.entry(ActionProfileUpdated, u.ID, audit.OutcomeSuccess)
	e.Details = map[string]string{"fields": "displayName", "version": strconv.FormatInt(updated.Version, 10)}
	if err := p.audit.Append(ctx, e); err != nil {
		return Me{}, fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return MeOf(updated), nil
}
