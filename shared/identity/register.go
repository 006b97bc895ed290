package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Accepted is the body of every successful registration (openapi:
// Accepted), identical whether the account was created or the address was
// already taken.
type Accepted struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// registered is the one answer Register gives.
var registered = Accepted{
	Status:  "accepted",
	Message: "Registration received. If this address was not registered before, you can now sign in with it.",
}

// Register creates an account for a new email: an intern's (no
// organization), or with an invite code the invite's role (mentor or org
// admin) in the invite's organization.
//
// Every field is validated (the password against the policy, with the email
// and display name as context) and every failing field reported. Then,
// whether or not the address is taken, the password is hashed and the
// conditional create runs, and the same Accepted is returned: see the
// package documentation. An invite that cannot be redeemed (unknown,
// expired, used, or issued to another email) is a 400 on inviteCode, the
// same whatever the reason and whether or not the email is registered; a
// good invite with a taken email is answered like any taken email (202),
// and the invite stays usable. Accepted registrations count against the
// source IP's ScopeRegisterIP limit, attempts with invites included, which
// also bounds invite guessing; a throttled IP gets a *ThrottledError.
func (s *Service) Register(ctx context.Context, m Meta, in RegisterRequest) (Accepted, error) {
	if err := s.require(FlowRegister); err != nil {
		return Accepted{}, err
	}
	ipKeys := []limitKey{{ScopeRegisterIP, m.ipKey()}}
	h, err := s.reserveLimits(ctx, m, "register", "", ipKeys)
	if err != nil {
		return Accepted{}, err
	}
	// Every registration attempt that gets past validation counts, whatever
	// its outcome (released only for requests refused as invalid).
	defer h.release(ctx)
	v := in.validate()
	if !v.Failed("password") {
		if reason := s.d.Policy.Reject(in.Password, in.Email, in.DisplayName); reason != "" {
			v.Add("password", reason)
		}
	}
	if err := v.Err(); err != nil {
		return Accepted{}, err
	}
	// Reserved before the work and kept, so concurrent requests cannot all
	// slip in under the limit.
	if err := h.failed(ctx); err != nil {
		return Accepted{}, err
	}

	hash, err := s.d.Hasher.Hash(in.Password)
	if err != nil {
		return Accepted{}, fmt.Errorf("register: %w", err)
	}
	u := store.User{
		ID: ids.New(ids.User), Email: strings.TrimSpace(in.Email), DisplayName: strings.TrimSpace(in.DisplayName),
		Role: apigw.RoleIntern, Status: store.UserActive, PasswordHash: hash,
	}
	details := map[string]string(nil)
	if in.InviteCode.Set {
		// The store takes the role and organization from the invite.
		u, err = s.d.Store.CreateUserWithInvite(ctx, u, domain.HashInviteCode(in.InviteCode.Value), s.now())
		if errors.Is(err, store.ErrInviteInvalid) {
			if aerr := s.record(ctx, m, audit.Entry{
				Action: "auth.register.invite_refused", Outcome: audit.OutcomeFailure, Reason: "invite invalid or expired",
			}); aerr != nil {
				return Accepted{}, aerr
			}
			return Accepted{}, validate.Errors{{Field: "inviteCode", Reason: reasonInviteInvalid}}
		}
		details = map[string]string{"via": "invite", "orgId": u.OrgID}
	} else {
		err = s.d.Store.CreateUser(ctx, u)
	}
	switch {
	case errors.Is(err, store.ErrEmailTaken):
		if err := s.record(ctx, m, audit.Entry{
			Action: "auth.register.duplicate", Outcome: audit.OutcomeFailure,
			Reason: "email already registered",
		}); err != nil {
			return Accepted{}, err
		}
		return registered, nil
	case err != nil:
		return Accepted{}, fmt.Errorf("register: %w", err)
	}
	if err := s.record(ctx, m, audit.Entry{
		Actor: u.ID, ActorRole: u.Role, Action: "auth.register", Target: u.ID, Outcome: audit.OutcomeSuccess,
		Details: details,
	}); err != nil {
		return Accepted{}, err
	}
	return registered, nil
}
