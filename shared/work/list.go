package work

import (
	"context"
	"errors"
	"fmt"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/store"
)

// ListStore is the part of the store listing uses.
type ListStore interface {
	GetEnrollment(ctx context.Context, id string) (store.Enrollment, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	ListSubmissions(ctx context.Context, enrollmentID string) ([]store.Submission, error)
}

var _ ListStore = (*store.Store)(nil)

// Lister lists an enrollment's submissions.
type Lister struct {
	store  ListStore
	denier denier
}

// NewLister returns the listing service.
func NewLister(st ListStore, aud audit.Auditor) (*Lister, error) {
	if st == nil || aud == nil {
		return nil, errors.New("work: lister needs a store and an auditor")
	}
	return &Lister{store: st, denier: denier{aud}}, nil
}

// List returns every submission version of the enrollment with its
// review, by task and version, to a party of the enrollment.
func (l *Lister) List(ctx context.Context, c Caller, enrollmentID string) (SubmissionList, error) {
	switch c.Role {
	case apigw.RoleIntern, apigw.RoleMentor, apigw.RoleOrgAdmin:
	default:
		return SubmissionList{}, l.denier.deny(ctx, c, RouteListSubmissions, enrollmentID, "role may not list submissions", ErrForbidden)
	}
	enr, err := l.store.GetEnrollment(ctx, enrollmentID)
	if errors.Is(err, store.ErrNotFound) {
		return SubmissionList{}, fmt.Errorf("%w: enrollment", ErrNotFound)
	}
	if err != nil {
		return SubmissionList{}, fmt.Errorf("read enrollment: %w", err)
	}
	if rule, ok, err := l.party(ctx, c, enr); err != nil {
		return SubmissionList{}, err
	} else if !ok {
		return SubmissionList{}, l.denier.deny(ctx, c, RouteListSubmissions, enrollmentID, rule, ErrNotFound)
	}
	subs, err := l.store.ListSubmissions(ctx, enr.ID)
	if err != nil {
		return SubmissionList{}, fmt.Errorf("list submissions: %w", err)
	}
	out := SubmissionList{Items: make([]SubmissionView, 0, len(subs))}
	for _, s := range subs {
		out.Items = append(out.Items, SubmissionViewOf(s))
	}
	return out, nil
}

// party decides whether c is a party of enr (the enrollment_party rule).
// Mentors and org admins are judged by their stored user, so membership
// ended in the store ends access now, not when the token expires.
func (l *Lister) party(ctx context.Context, c Caller, enr store.Enrollment) (rule string, ok bool, err error) {
	if c.Role == apigw.RoleIntern {
		return "not the enrollment's intern", enr.InternID == c.UserID, nil
	}
	u, err := l.store.GetUser(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return "caller's user no longer exists", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read caller: %w", err)
	}
	switch {
	case !u.Active():
		return "caller is not active", false, nil
	case u.Role != c.Role || u.OrgID != enr.OrgID:
		return "caller is not a member of the enrollment's organization", false, nil
	case u.Role == apigw.RoleMentor && enr.MentorID != u.ID:
		return "not the enrollment's mentor", false, nil
	}
	return "", true, nil
}
