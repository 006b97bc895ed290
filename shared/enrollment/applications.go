package enrollment

import (
	"context"
	"errors"
	"fmt"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// ApplicationListStore is what listing applications needs.
type ApplicationListStore interface {
	UserReader
	GetProgram(ctx context.Context, id string) (store.Program, error)
	ListProgramApplications(ctx context.Context, programID string, status domain.ApplicationStatus, limit int32, start store.StartKey) ([]store.Application, store.StartKey, error)
	ListInternApplications(ctx context.Context, internID string, limit int32, start store.StartKey) ([]store.Application, store.StartKey, error)
}

var _ ApplicationListStore = (*store.Store)(nil)

// ApplicationLister answers GET /v1/programs/{programId}/applications and
// GET /v1/me/applications.
type ApplicationLister struct {
	store   ApplicationListStore
	audit   audit.Auditor
	cursors Cursors
}

// NewApplicationLister returns the lister.
func NewApplicationLister(st ApplicationListStore, aud audit.Auditor, cursors Cursors) (*ApplicationLister, error) {
	if st == nil || aud == nil || cursors == nil {
		return nil, errors.New("application lister: nil dependency")
	}
	return &ApplicationLister{store: st, audit: aud, cursors: cursors}, nil
}

// ForProgram lists a program's applications, oldest first, optionally only
// those in status ("" for all), to org admins of the program's
// organization as stored now (the caller is re-read: an org admin moved
// out of the organization sees nothing). Everyone else gets the 404 of a
// missing program, audited.
func (l *ApplicationLister) ForProgram(ctx context.Context, c Caller, programID, status string, p Page) (ApplicationList, error) {
	switch domain.ApplicationStatus(status) {
	case "", domain.ApplicationPending, domain.ApplicationAccepted, domain.ApplicationRejected, domain.ApplicationWithdrawn:
	default:
		return ApplicationList{}, validate.Errors{{Field: "status", Reason: "must be one of pending, accepted, rejected, withdrawn"}}
	}
	prog, err := l.store.GetProgram(ctx, programID)
	if errors.Is(err, store.ErrNotFound) {
		return ApplicationList{}, fmt.Errorf("program %w", ErrNotFound)
	}
	if err != nil {
		return ApplicationList{}, fmt.Errorf("read program: %w", err)
	}
	if c.Role != apigw.RoleOrgAdmin {
		return ApplicationList{}, deny(ctx, l.audit, c, RouteListApplications, prog.ID, "only org admins list applications", ErrNotFound)
	}
	u, err := storedUser(ctx, l.store, c)
	if err != nil {
		return ApplicationList{}, err
	}
	if !u.Active() || u.Role != apigw.RoleOrgAdmin || u.OrgID != prog.OrgID {
		return ApplicationList{}, deny(ctx, l.audit, c, RouteListApplications, prog.ID, "not an org admin of the program's organization", ErrNotFound)
	}
	purpose := cursor.Purpose(RouteListApplications, prog.ID, c.UserID, "status="+status)
	limit, start, err := p.open(l.cursors, purpose)
	if err != nil {
		return ApplicationList{}, err
	}
	items, next, err := l.store.ListProgramApplications(ctx, prog.ID, domain.ApplicationStatus(status), limit, start)
	return l.page(purpose, items, next, err)
}

// Mine lists the calling intern's applications, newest first. Other roles
// have none (403, audited).
func (l *ApplicationLister) Mine(ctx context.Context, c Caller, p Page) (ApplicationList, error) {
	if c.Role != apigw.RoleIntern {
		return ApplicationList{}, deny(ctx, l.audit, c, RouteMyApplications, c.UserID, "only interns have applications", ErrForbidden)
	}
	purpose := cursor.Purpose(RouteMyApplications, c.UserID)
	limit, start, err := p.open(l.cursors, purpose)
	if err != nil {
		return ApplicationList{}, err
	}
	items, next, err := l.store.ListInternApplications(ctx, c.UserID, limit, start)
	return l.page(purpose, items, next, err)
}

func (l *ApplicationLister) page(purpose string, items []store.Application, next store.StartKey, err error) (ApplicationList, error) {
	if isBadStart(err) {
		return ApplicationList{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	if err != nil {
		return ApplicationList{}, fmt.Errorf("list applications: %w", err)
	}
	out := ApplicationList{Items: make([]ApplicationView, 0, len(items))}
	for _, a := range items {
		out.Items = append(out.Items, ViewApplication(a))
	}
	if out.NextCursor, err = seal(l.cursors, purpose, next); err != nil {
		return ApplicationList{}, err
	}
	return out, nil
}

// storedUser re-reads the caller. A caller whose user is gone is denied
// like any stranger, by the caller's caller (it has no rights left).
func storedUser(ctx context.Context, users UserReader, c Caller) (store.User, error) {
	u, err := users.GetUser(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, nil
	}
	if err != nil {
		return store.User{}, fmt.Errorf("read caller: %w", err)
	}
	return u, nil
}

// storedActor is the stored user as the domain rules see it.
func storedActor(u store.User) domain.Actor {
	return domain.Actor{UserID: u.ID, Role: domain.Role(u.Role), OrgID: u.OrgID}
}
