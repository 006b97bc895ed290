package programs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Audit actions of program changes.
const (
	ActionProgramCreated      = "program.created"
	ActionProgramUpdated      = "program.updated"
	ActionProgramTransitioned = "program.transitioned"
)

// Routes, as the purposes that bind cursors to their listing.
const (
	routeOrgPrograms  = "GET /v1/orgs/{orgId}/programs"
	routeOpenPrograms = "GET /v1/programs"
)

// programFields maps the domain's field names to the API's.
var programFields = map[string]string{"opensAt": "applicationOpensAt", "closesAt": "applicationClosesAt"}

// apiFields renames the fields of a validate.Errors in err (other errors
// pass unchanged), so every reason names the member the client sent.
func apiFields(err error, names map[string]string) error {
	var ve validate.Errors
	if !errors.As(err, &ve) {
		return err
	}
	out := make(validate.Errors, len(ve))
	for i, f := range ve {
		if n, ok := names[f.Field]; ok {
			f.Field = n
		}
		out[i] = f
	}
	return out
}

// CreateProgram creates a draft program in orgID for an org admin of that
// organization (re-read from the store). With an Idempotency-Key, a retry
// returns the first program and writes nothing.
func (s *Service) CreateProgram(ctx context.Context, c Caller, orgID string, in CreateProgramRequest, ik IdempotencyKey) (res Created[ProgramView], err error) {
	m, err := s.requireOrgAdmin(ctx, c, orgID, orgID)
	if err != nil {
		return res, err
	}
	run, replayed, err := s.beginCreate(ctx, "programs-create", c, ik, &res.View)
	if err != nil || replayed {
		res.Replayed = replayed
		return res, err
	}
	defer func() { err = run.abandon(ctx, err) }()

	p, err := domain.NewProgram(m.actor, orgID, domain.ProgramInput{
		Title: in.Title, Description: in.Description, Skills: in.Skills, Capacity: in.Capacity,
		OpensAt: in.ApplicationOpensAt, ClosesAt: in.ApplicationClosesAt, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
	}, s.now())
	if err != nil {
		return res, apiFields(err, programFields)
	}
	p.Version = 1
	view := programView(p)
	extra, err := run.complete(view, view.ETag())
	if err != nil {
		return res, err
	}
	created, err := s.store.CreateProgram(ctx, p, extra...)
	if err != nil {
		return res, leaseLost(fmt.Errorf("create program: %w", err))
	}
	if err := s.record(ctx, c, m, ActionProgramCreated, created.ID, map[string]string{"orgId": orgID}); err != nil {
		return Created[ProgramView]{View: programView(created)}, err
	}
	return Created[ProgramView]{View: programView(created)}, nil
}

// ListOrgPrograms returns one page of the organization's programs, drafts
// included, newest first, to its mentors and org admins. cursorToken is the
// nextCursor of the previous page ("" for the first); it only opens for the
// same organization and caller.
func (s *Service) ListOrgPrograms(ctx context.Context, c Caller, orgID string, limit int, cursorToken string) (ProgramList, error) {
	if s.sealer == nil {
		return ProgramList{}, errNoSealer
	}
	if _, err := s.requireMember(ctx, c, orgID, orgID); err != nil {
		return ProgramList{}, err
	}
	purpose := cursor.Purpose(routeOrgPrograms, orgID, c.UserID)
	start, err := s.openCursor(purpose, cursorToken)
	if err != nil {
		return ProgramList{}, err
	}
	page, err := s.store.ListOrgPrograms(ctx, orgID, limit, start)
	if err != nil {
		return ProgramList{}, pageErr("list org programs", err)
	}
	out := ProgramList{Items: make([]ProgramView, 0, len(page.Programs))}
	for _, p := range page.Programs {
		out.Items = append(out.Items, programView(p))
	}
	if out.NextCursor, err = s.sealer.SealKey(purpose, page.Next); err != nil {
		return ProgramList{}, fmt.Errorf("seal cursor: %w", err)
	}
	return out, nil
}

// skillQuery is the openapi pattern of the skill filter; it must also be a
// normalized tag (what programs store), so "Go" is refused, not silently
// unmatched.
var skillQuery = regexp.MustCompile(`^[a-z0-9][a-z0-9+#.-]{0,31}$`)

// ListOpenPrograms returns one page of the public listing: open programs,
// by application opening time, optionally only those tagged skill. Anyone
// may call it; the answer names each program's organization and nothing
// else about it.
func (s *Service) ListOpenPrograms(ctx context.Context, skill string, limit int, cursorToken string) (PublicProgramList, error) {
	if s.sealer == nil {
		return PublicProgramList{}, errNoSealer
	}
	if skill != "" {
		if tag, ok := domain.NormalizeSkill(skill); !ok || tag != skill || !skillQuery.MatchString(skill) {
			return PublicProgramList{}, validate.Errors{{Field: "skill", Reason: "must be a lowercase skill tag like go, c++ or machine-learning"}}
		}
	}
	purpose := cursor.Purpose(routeOpenPrograms, skill)
	start, err := s.openCursor(purpose, cursorToken)
	if err != nil {
		return PublicProgramList{}, err
	}
	page, err := s.store.ListOpenPrograms(ctx, skill, limit, start)
	if err != nil {
		return PublicProgramList{}, pageErr("list open programs", err)
	}
	orgIDs := make([]string, 0, len(page.Programs))
	for _, p := range page.Programs {
		orgIDs = append(orgIDs, p.OrgID)
	}
	orgs, err := s.store.GetOrgs(ctx, orgIDs)
	if err != nil {
		return PublicProgramList{}, fmt.Errorf("read organizations: %w", err)
	}
	out := PublicProgramList{Items: make([]PublicProgramView, 0, len(page.Programs))}
	for _, p := range page.Programs {
		out.Items = append(out.Items, publicView(p, orgs[p.OrgID].Name))
	}
	if out.NextCursor, err = s.sealer.SealKey(purpose, page.Next); err != nil {
		return PublicProgramList{}, fmt.Errorf("seal cursor: %w", err)
	}
	return out, nil
}

func (s *Service) openCursor(purpose, token string) (store.StartKey, error) {
	if token == "" {
		return nil, nil
	}
	if len(token) > cursor.MaxTokenLen {
		return nil, fmt.Errorf("%w: too long", ErrInvalidCursor)
	}
	start, err := s.sealer.OpenKey(purpose, token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return start, nil
}

// pageErr maps a start key the store refuses (only possible with a cursor
// sealed for another listing under the same purpose, i.e. never from a
// client) to an invalid cursor.
func pageErr(op string, err error) error {
	if errors.Is(err, store.ErrInvalidStartKey) {
		return fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// GetPublicProgram returns an open or closed program in its public shape.
// Drafts and archived programs answer 404 here, exactly like unknown IDs;
// a request for one is audited as a denial (its ID was not published).
func (s *Service) GetPublicProgram(ctx context.Context, c Caller, id string) (PublicProgramView, error) {
	p, err := s.store.GetProgram(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return PublicProgramView{}, fmt.Errorf("program %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return PublicProgramView{}, fmt.Errorf("read program: %w", err)
	}
	if !publiclyVisible(p) {
		return PublicProgramView{}, s.deny(ctx, c, member{}, p.ID, "public: program is "+string(p.Status), false)
	}
	org, err := s.store.GetOrg(ctx, p.OrgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return PublicProgramView{}, fmt.Errorf("read organization: %w", err)
	}
	return publicView(p, org.Name), nil
}

// UpdateProgram applies a partial update for an org admin of the program's
// organization, if ifMatch (required) is the current version. What may
// change depends on the state (domain.Program.Update): every field in
// draft, description and dates while open, nothing once closed (409).
func (s *Service) UpdateProgram(ctx context.Context, c Caller, id string, ifMatch int64, in UpdateProgramRequest) (ProgramView, error) {
	m, p, err := s.programForAdmin(ctx, c, id)
	if err != nil {
		return ProgramView{}, err
	}
	if ifMatch == 0 {
		return ProgramView{}, ErrPreconditionRequired
	}
	if p.Version != ifMatch {
		return ProgramView{}, fmt.Errorf("%w: program at version %d, If-Match %d", ErrStale, p.Version, ifMatch)
	}
	patch := domain.ProgramPatch{
		Title: in.Title, Description: in.Description, Skills: in.Skills, Capacity: in.Capacity,
		OpensAt: in.ApplicationOpensAt, ClosesAt: in.ApplicationClosesAt, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
	}
	if patch.Empty() {
		return ProgramView{}, validate.Errors{{Field: "body", Reason: "must change at least one field"}}
	}
	if err := p.Update(m.actor, patch, s.now()); err != nil {
		if errors.Is(err, domain.ErrInvalidTransition) {
			return ProgramView{}, conflict(fmt.Sprintf("A %s program cannot be edited.", p.Status), err)
		}
		return ProgramView{}, apiFields(err, programFields)
	}
	updated, err := s.store.UpdateProgram(ctx, p, ifMatch)
	if err != nil {
		return ProgramView{}, writeErr("update program", err)
	}
	if err := s.record(ctx, c, m, ActionProgramUpdated, p.ID, map[string]string{"fields": strings.Join(patchFields(in), ",")}); err != nil {
		return ProgramView{}, err
	}
	return programView(updated), nil
}

func patchFields(in UpdateProgramRequest) []string {
	var f []string
	add := func(set bool, name string) {
		if set {
			f = append(f, name)
		}
	}
	add(in.Title != nil, "title")
	add(in.Description != nil, "description")
	add(in.Skills != nil, "skills")
	add(in.Capacity != nil, "capacity")
	add(in.ApplicationOpensAt != nil, "applicationOpensAt")
	add(in.ApplicationClosesAt != nil, "applicationClosesAt")
	add(in.StartsAt != nil, "startsAt")
	add(in.EndsAt != nil, "endsAt")
	return f
}

// writeErr maps a conditional write the store refused: the version moved
// after the read (412, the client's If-Match is stale now), or the item
// vanished.
func writeErr(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %s: %w", ErrStale, op, err)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s: %w", ErrNotFound, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// TransitionProgram moves a program one step along draft → open → closed →
// archived, for an org admin of its organization, if ifMatch (required) is
// the current version. Publishing needs at least one required task, every
// task's due date inside the program and an application window that has
// not closed (domain.Program.Publish; failures are 400 with the reasons).
// Any other move (backwards, skipping a step, to the same state) is a 409.
func (s *Service) TransitionProgram(ctx context.Context, c Caller, id string, ifMatch int64, in TransitionRequest) (ProgramView, error) {
	v := validate.New()
	v.OneOf("to", in.To, string(domain.ProgramOpen), string(domain.ProgramClosed), string(domain.ProgramArchived))
	m, p, err := s.programForAdmin(ctx, c, id)
	if err != nil {
		return ProgramView{}, err
	}
	if err := v.Err(); err != nil {
		return ProgramView{}, err
	}
	if ifMatch == 0 {
		return ProgramView{}, ErrPreconditionRequired
	}
	if p.Version != ifMatch {
		return ProgramView{}, fmt.Errorf("%w: program at version %d, If-Match %d", ErrStale, p.Version, ifMatch)
	}
	from := p.Status
	now := s.now()
	switch domain.ProgramStatus(in.To) {
	case domain.ProgramOpen:
		var tasks []store.Task
		if tasks, err = s.store.ListTasks(ctx, p.ID); err != nil {
			return ProgramView{}, fmt.Errorf("list tasks: %w", err)
		}
		err = p.Publish(m.actor, tasks, now)
	case domain.ProgramClosed:
		err = p.Close(m.actor, now)
	default:
		err = p.Archive(m.actor, now)
	}
	if errors.Is(err, domain.ErrInvalidTransition) {
		return ProgramView{}, conflict(fmt.Sprintf("The program is %s; it cannot move to %s (programs go draft → open → closed → archived, one step at a time).", from, in.To), err)
	}
	if err != nil {
		return ProgramView{}, apiFields(err, programFields)
	}
	updated, err := s.store.UpdateProgram(ctx, p, ifMatch)
	if err != nil {
		return ProgramView{}, writeErr("transition program", err)
	}
	if err := s.record(ctx, c, m, ActionProgramTransitioned, p.ID, map[string]string{"from": string(from), "to": in.To}); err != nil {
		return ProgramView{}, err
	}
	return programView(updated), nil
}
