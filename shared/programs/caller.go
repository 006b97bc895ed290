package programs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
)

// ActionDenied is the audit action of every refused access.
const ActionDenied = "authz.denied"

// Caller is who a request acts for, as the authorizer vouched for it, and
// where it came from (for audit). Role and OrgID are the token's claims:
// the service never decides on them alone, it re-reads the user.
type Caller struct {
	UserID    string
	Role      string
	OrgID     string
	RequestID string
	SourceIP  string
	// Route is "METHOD /resource/{template}", for audit entries.
	Route string
}

// CallerFrom reads the caller of an authorized route from req; a missing or
// malformed principal is a 401.
func CallerFrom(req events.APIGatewayProxyRequest) (Caller, error) {
	p, err := apigw.PrincipalFrom(req)
	if err != nil {
		return Caller{}, err
	}
	c := PublicCaller(req)
	c.UserID, c.Role, c.OrgID = p.UserID, p.Role, p.OrgID
	return c, nil
}

// PublicCaller is the anonymous caller of a public route.
func PublicCaller(req events.APIGatewayProxyRequest) Caller {
	return Caller{
		RequestID: req.RequestContext.RequestID,
		SourceIP:  req.RequestContext.Identity.SourceIP,
		Route:     req.HTTPMethod + " " + req.Resource,
	}
}

// member is the caller as stored now: the user and the domain actor built
// from the stored role and organization, never from the token's.
type member struct {
	user  store.User
	actor domain.Actor
}

// load re-reads the caller's user: a user deleted or suspended since the
// token was issued is unauthenticated, and a mentor moved out of an
// organization acts with the organization stored now.
func (s *Service) load(ctx context.Context, c Caller) (member, error) {
	u, err := s.store.GetUser(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return member{}, fmt.Errorf("%w: user %s", ErrUnauthenticated, c.UserID)
	}
	if err != nil {
		return member{}, fmt.Errorf("read caller: %w", err)
	}
	if !u.Active() {
		return member{}, fmt.Errorf("%w: user %s is %s", ErrUnauthenticated, u.ID, u.Status)
	}
	return member{user: u, actor: domain.Actor{UserID: u.ID, Role: domain.Role(u.Role), OrgID: u.OrgID}}, nil
}

// deny audits a refused access and returns ErrNotVisible (visible false:
// answered 404) or ErrForbidden (answered 403), wrapped with the rule.
func (s *Service) deny(ctx context.Context, c Caller, m member, target, rule string, visible bool) error {
	role := c.Role
	if m.user.ID != "" {
		role = m.user.Role
	}
	e := audit.Entry{
		Actor: c.UserID, ActorRole: role, Action: ActionDenied, Target: target, Outcome: audit.OutcomeDenied,
		Reason: rule, RequestID: c.RequestID, SourceIP: c.SourceIP,
		Details: map[string]string{"route": c.Route, "reason": rule},
	}
	if e.Actor == "" {
		e.Actor = audit.ActorAnonymous
	}
	if err := s.audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", ActionDenied, err)
	}
	if visible {
		return fmt.Errorf("%w: %s", ErrForbidden, rule)
	}
	return fmt.Errorf("%w: %s", ErrNotVisible, rule)
}

// record appends a success entry for an action of m.
func (s *Service) record(ctx context.Context, c Caller, m member, action, target string, details map[string]string) error {
	e := audit.Entry{
		Actor: m.user.ID, ActorRole: m.user.Role, Action: action, Target: target, Outcome: audit.OutcomeSuccess,
		RequestID: c.RequestID, SourceIP: c.SourceIP, Details: details,
	}
	if err := s.audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// requireOrgAdmin lets through an org admin of orgID. Members of the
// organization (its mentors) see it and get 403; everyone else 404.
func (s *Service) requireOrgAdmin(ctx context.Context, c Caller, orgID, target string) (member, error) {
	m, err := s.load(ctx, c)
	if err != nil {
		return member{}, err
	}
	if m.actor.IsOrgAdminOf(orgID) {
		return m, nil
	}
	return member{}, s.deny(ctx, c, m, target, "org_admin_of_org: not an org admin of the organization", m.actor.IsMemberOf(orgID))
}

// requireMember lets through mentors and org admins of orgID; everyone
// else gets 404.
func (s *Service) requireMember(ctx context.Context, c Caller, orgID, target string) (member, error) {
	m, err := s.load(ctx, c)
	if err != nil {
		return member{}, err
	}
	if m.actor.IsMemberOf(orgID) {
		return m, nil
	}
	return member{}, s.deny(ctx, c, m, target, "org_member: not a member of the organization", false)
}

// publiclyVisible reports whether anyone may read p (GET /v1/programs/{id}).
func publiclyVisible(p store.Program) bool {
	return p.Status == domain.ProgramOpen || p.Status == domain.ProgramClosed
}

// programForAdmin reads program id for a change by an org admin of its
// organization. Callers who may read the program (anyone, for an open or
// closed one; its organization's members always) get 403; others 404, as
// if it did not exist.
func (s *Service) programForAdmin(ctx context.Context, c Caller, id string) (member, store.Program, error) {
	m, err := s.load(ctx, c)
	if err != nil {
		return member{}, store.Program{}, err
	}
	p, err := s.store.GetProgram(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return member{}, store.Program{}, fmt.Errorf("program %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return member{}, store.Program{}, fmt.Errorf("read program: %w", err)
	}
	if m.actor.IsOrgAdminOf(p.OrgID) {
		return m, p, nil
	}
	visible := publiclyVisible(p) || m.actor.IsMemberOf(p.OrgID)
	return member{}, store.Program{}, s.deny(ctx, c, m, p.ID, "program_org_admin: not an org admin of the program's organization", visible)
}
