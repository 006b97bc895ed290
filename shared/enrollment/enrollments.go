package enrollment

import (
	"context"
	"errors"
	"fmt"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/store"
)

// EnrollmentStore is what reading enrollments needs.
type EnrollmentStore interface {
	GetEnrollment(ctx context.Context, id string) (store.Enrollment, error)
	ListInternEnrollments(ctx context.Context, internID string, limit int32, start store.StartKey) ([]store.Enrollment, store.StartKey, error)
	ListMentorEnrollments(ctx context.Context, mentorID string, limit int32, start store.StartKey) ([]store.Enrollment, store.StartKey, error)
	ListTasks(ctx context.Context, programID string) ([]store.Task, error)
}

var _ EnrollmentStore = (*store.Store)(nil)

// EnrollmentReader answers GET /v1/me/enrollments and GET
// /v1/enrollments/{enrollmentId}.
type EnrollmentReader struct {
	store   EnrollmentStore
	audit   audit.Auditor
	cursors Cursors
}

// NewEnrollmentReader returns the reader. cursors may be nil for a function
// that only reads single enrollments (Mine then fails).
func NewEnrollmentReader(st EnrollmentStore, aud audit.Auditor, cursors Cursors) (*EnrollmentReader, error) {
	if st == nil || aud == nil {
		return nil, errors.New("enrollment reader: nil store or auditor")
	}
	return &EnrollmentReader{store: st, audit: aud, cursors: cursors}, nil
}

// Mine lists the caller's enrollments, newest first: an intern's own, a
// mentor's assigned ones. Other roles have none to list (403, audited).
func (r *EnrollmentReader) Mine(ctx context.Context, c Caller, p Page) (EnrollmentList, error) {
	if r.cursors == nil {
		return EnrollmentList{}, errors.New("enrollment reader: no cursor sealer")
	}
	list := r.store.ListInternEnrollments
	switch c.Role {
	case apigw.RoleIntern:
	case apigw.RoleMentor:
		list = r.store.ListMentorEnrollments
	default:
		return EnrollmentList{}, deny(ctx, r.audit, c, RouteMyEnrollments, c.UserID, "role has no enrollments", ErrForbidden)
	}
	// The role is part of the purpose: a user whose role changed must not
	// continue an intern listing as a mentor one.
	purpose := cursor.Purpose(RouteMyEnrollments, c.UserID, c.Role)
	limit, start, err := p.open(r.cursors, purpose)
	if err != nil {
		return EnrollmentList{}, err
	}
	items, next, err := list(ctx, c.UserID, limit, start)
	if isBadStart(err) {
		return EnrollmentList{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	if err != nil {
		return EnrollmentList{}, fmt.Errorf("list enrollments: %w", err)
	}
	out := EnrollmentList{Items: make([]EnrollmentView, 0, len(items))}
	tasks := make(map[string][]store.Task)
	for _, e := range items {
		ts, ok := tasks[e.ProgramID]
		if !ok {
			if ts, err = r.store.ListTasks(ctx, e.ProgramID); err != nil {
				return EnrollmentList{}, fmt.Errorf("list tasks: %w", err)
			}
			tasks[e.ProgramID] = ts
		}
		out.Items = append(out.Items, enrollmentView(e, ts))
	}
	if out.NextCursor, err = seal(r.cursors, purpose, next); err != nil {
		return EnrollmentList{}, err
	}
	return out, nil
}

// Get returns one enrollment with per-task progress to its parties: the
// enrolled intern, the assigned mentor (of the enrollment's org), an org
// admin of its org. Anyone else gets the 404 of a missing enrollment, and
// the denial is audited.
func (r *EnrollmentReader) Get(ctx context.Context, c Caller, id string) (EnrollmentView, error) {
	e, err := r.store.GetEnrollment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return EnrollmentView{}, fmt.Errorf("enrollment %w", ErrNotFound)
	}
	if err != nil {
		return EnrollmentView{}, fmt.Errorf("get enrollment: %w", err)
	}
	if reason := enrollmentPartyRule(c, e); reason != "" {
		return EnrollmentView{}, deny(ctx, r.audit, c, RouteGetEnrollment, e.ID, reason, ErrNotFound)
	}
	tasks, err := r.store.ListTasks(ctx, e.ProgramID)
	if err != nil {
		return EnrollmentView{}, fmt.Errorf("list tasks: %w", err)
	}
	return enrollmentView(e, tasks), nil
}

// enrollmentPartyRule is authorization.yaml's enrollment_party for the
// route's roles (intern, mentor, org_admin): "" when c may read e, else the
// reason for the audit entry.
func enrollmentPartyRule(c Caller, e store.Enrollment) string {
	switch c.Role {
	case apigw.RoleIntern:
		if c.UserID == e.InternID {
			return ""
		}
		return "not the enrolled intern"
	case apigw.RoleMentor:
		if c.UserID == e.MentorID && c.OrgID == e.OrgID {
			return ""
		}
		return "not the assigned mentor"
	case apigw.RoleOrgAdmin:
		if c.OrgID != "" && c.OrgID == e.OrgID {
			return ""
		}
		return "not an org admin of the enrollment's organization"
	}
	return "role may not read enrollments"
}
