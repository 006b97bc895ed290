package programs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Audit actions of organizations and invites.
const (
	ActionOrgCreated    = "admin.org.created"
	ActionInviteCreated = "org.invite.created"
)

// Bounds of an admin's stated reason, in characters (as for the other
// admin CLI functions).
const (
	minAdminReason = 3
	maxAdminReason = 500
)

// CreateOrgRequest is the admin-create-org payload: the acting platform
// admin, why, the organization's name and the email of its first org admin.
type CreateOrgRequest struct {
	ActorID    string `json:"actorId"`
	Reason     string `json:"reason"`
	Name       string `json:"name"`
	AdminEmail string `json:"adminEmail"`
}

// CreateOrgResult is what admin-create-org prints: the invite code is
// shown here once, for the operator to send to the first org admin.
type CreateOrgResult struct {
	OrgID  string     `json:"orgId"`
	Name   string     `json:"name"`
	Invite InviteView `json:"invite"`
}

// Refusal is a CLI refusal whose Message is safe to show to the operator
// ("the actor is not an active platform admin with MFA"); the cause is for
// logs.
type Refusal struct {
	Message string
	cause   error
}

// Error includes the cause, for logs.
func (r *Refusal) Error() string {
	if r.cause == nil {
		return r.Message
	}
	return r.Message + ": " + r.cause.Error()
}

// Unwrap returns the cause.
func (r *Refusal) Unwrap() error { return r.cause }

// invocationID is the Lambda request ID of a CLI invocation.
func invocationID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// CreateOrg creates an organization and the invite of its first org admin
// in one transaction, for an active platform admin with MFA (re-read from
// the store) who states a reason. Every refusal and the creation are
// audited.
func (s *Service) CreateOrg(ctx context.Context, in CreateOrgRequest) (CreateOrgResult, error) {
	v := validate.New()
	if v.Required("actorId", in.ActorID) {
		v.ID("actorId", in.ActorID, ids.User)
	}
	if v.Required("reason", in.Reason) && v.Length("reason", in.Reason, minAdminReason, maxAdminReason) {
		v.Text("reason", in.Reason)
	}
	v.Required("name", in.Name)
	email, emailErr := store.NormalizeEmail(in.AdminEmail)
	if v.Required("adminEmail", in.AdminEmail) {
		v.Check(emailErr == nil, "adminEmail", "must be a valid email address, like name@example.com")
	}
	if err := v.Err(); err != nil {
		return CreateOrgResult{}, err
	}
	entry := func(action, outcome string) audit.Entry {
		return audit.Entry{
			Actor: in.ActorID, ActorRole: string(domain.RoleAdmin), Action: action, Outcome: outcome,
			Reason: in.Reason, RequestID: invocationID(ctx),
		}
	}
	actor, err := s.store.GetUser(ctx, in.ActorID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return CreateOrgResult{}, fmt.Errorf("read actor: %w", err)
	}
	var rule string
	switch {
	case err != nil:
		rule = "actor does not exist"
	case !actor.Active():
		rule = "actor is not active"
	case actor.Role != string(domain.RoleAdmin):
		rule = "actor is not a platform admin"
	case !actor.MFA.Enabled:
		rule = "actor has no MFA"
	}
	if rule != "" {
		e := entry(ActionDenied, audit.OutcomeDenied)
		e.ActorRole = actor.Role
		e.Details = map[string]string{"operation": "admin.org.create", "reason": rule}
		if aerr := s.audit.Append(ctx, e); aerr != nil {
			return CreateOrgResult{}, fmt.Errorf("audit %s: %w", e.Action, aerr)
		}
		return CreateOrgResult{}, &Refusal{Message: "refused: the actor is not an active platform admin with MFA", cause: errors.New(rule)}
	}
	admin := domain.Actor{UserID: actor.ID, Role: domain.Role(actor.Role), OrgID: actor.OrgID}
	now := s.now()
	org, err := domain.NewOrg(admin, in.Name, now)
	if err != nil {
		return CreateOrgResult{}, err
	}
	inv, code, err := domain.NewInvite(admin, org.ID, email, domain.RoleOrgAdmin, now)
	if err != nil {
		return CreateOrgResult{}, apiFields(err, map[string]string{"email": "adminEmail"})
	}
	if err := s.store.CreateOrgWithInvite(ctx, org, inv); err != nil {
		return CreateOrgResult{}, fmt.Errorf("create org: %w", err)
	}
	e := entry(ActionOrgCreated, audit.OutcomeSuccess)
	e.Target = org.ID
	e.Details = map[string]string{"invite": inv.ID, "role": string(inv.Role)}
	if err := s.audit.Append(ctx, e); err != nil {
		return CreateOrgResult{}, fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return CreateOrgResult{OrgID: org.ID, Name: org.Name, Invite: inviteView(inv, code)}, nil
}

func inviteView(inv store.Invite, code string) InviteView {
	return InviteView{ID: inv.ID, Email: inv.Email, Role: string(inv.Role), ExpiresAt: inv.ExpiresAt, Code: code}
}

// inviteRecord is what the idempotency record keeps of a created invite:
// everything but the code, which is never stored anywhere.
type inviteRecord struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// CreateInvite invites email into orgID with role, for an org admin of the
// organization (re-read from the store): mentors of the organization get
// 403, everyone else 404. Org admins invite mentors; another org admin is
// invited by a platform admin (domain.CanInvite), so this is a 403 too.
//
// The code is in the answer and nowhere else. So a retry with the same
// Idempotency-Key cannot replay it: it answers 409 and creates nothing
// (the first invite stands; create another if its code was lost).
func (s *Service) CreateInvite(ctx context.Context, c Caller, orgID string, in CreateInviteRequest, ik IdempotencyKey) (_ InviteView, err error) {
	m, err := s.requireOrgAdmin(ctx, c, orgID, orgID)
	if err != nil {
		return InviteView{}, err
	}
	run, replayed, err := s.beginCreate(ctx, "orgs-invites-create", c, ik, nil)
	if err != nil {
		return InviteView{}, err
	}
	if replayed {
		return InviteView{}, conflict("An invite was already created with this Idempotency-Key; its code is shown only once. Create a new invite if it was lost.", nil)
	}
	defer func() { err = run.abandon(ctx, err) }()

	v := validate.New()
	email, nerr := store.NormalizeEmail(in.Email)
	if v.Required("email", in.Email) && v.Length("email", in.Email, 1, 254) {
		v.Check(nerr == nil, "email", "must be a valid email address, like name@example.com")
	}
	v.OneOf("role", in.Role, string(domain.RoleMentor), string(domain.RoleOrgAdmin))
	if err := v.Err(); err != nil {
		return InviteView{}, err
	}
	role := domain.Role(in.Role)
	if !domain.CanInvite(m.actor, orgID, role) {
		return InviteView{}, s.deny(ctx, c, m, orgID, "invite: org admins invite mentors; other org admins are invited by a platform admin", true)
	}
	inv, code, err := domain.NewInvite(m.actor, orgID, email, role, s.now())
	if err != nil {
		return InviteView{}, err
	}
	extra, err := run.complete(inviteRecord{ID: inv.ID, Email: inv.Email, Role: string(inv.Role)}, "")
	if err != nil {
		return InviteView{}, err
	}
	if err := s.store.CreateInvite(ctx, inv, extra...); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return InviteView{}, fmt.Errorf("org %s: %w", orgID, ErrNotFound)
		}
		return InviteView{}, leaseLost(fmt.Errorf("create invite: %w", err))
	}
	if err := s.record(ctx, c, m, ActionInviteCreated, inv.ID, map[string]string{"orgId": orgID, "role": string(role)}); err != nil {
		return InviteView{}, err
	}
	return inviteView(inv, code), nil
}

// ListMembers returns the organization's active mentors and org admins to
// its members; everyone else gets 404.
func (s *Service) ListMembers(ctx context.Context, c Caller, orgID string) (MemberList, error) {
	if _, err := s.requireMember(ctx, c, orgID, orgID); err != nil {
		return MemberList{}, err
	}
	users, err := s.store.ListOrgMembers(ctx, orgID)
	if err != nil {
		return MemberList{}, fmt.Errorf("list members: %w", err)
	}
	out := MemberList{Items: make([]Member, 0, len(users))}
	for _, u := range users {
		out.Items = append(out.Items, Member{ID: u.ID, DisplayName: u.DisplayName, Role: u.Role})
	}
	return out, nil
}
