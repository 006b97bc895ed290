package domain_test

import (
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

func TestNewApplication(t *testing.T) {
	tests := []struct {
		name       string
		actor      domain.Actor
		motivation string
		program    func(*testing.T) domain.Program
		want       wantErr
	}{
		{"valid", intern, motivation, func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, ok},
		{"mentor cannot apply", mentor, motivation, func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, is(domain.ErrNotAllowed)},
		{"draft", intern, motivation, mustDraft, is(domain.ErrApplicationsClosed)},
		{"window not open yet", intern, motivation, func(t *testing.T) domain.Program {
			p, _ := mustOpen(t)
			p.OpensAt = now.Add(day)
			return p
		}, is(domain.ErrApplicationsClosed)},
		{"window passed", intern, motivation, func(t *testing.T) domain.Program {
			p, _ := mustOpen(t)
			p.ClosesAt = now
			return p
		}, is(domain.ErrApplicationsClosed)},
		{"closed", intern, motivation, func(t *testing.T) domain.Program {
			p, _ := mustOpen(t)
			_ = p.Close(orgAdmin, now)
			return p
		}, is(domain.ErrApplicationsClosed)},
		{"motivation 49", intern, strings.Repeat("m", 49), func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, field("motivation")},
		{"motivation padded to 50", intern, "  " + strings.Repeat("m", 48) + "  ", func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, field("motivation")},
		{"motivation 50", intern, strings.Repeat("m", 50), func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, ok},
		{"motivation 3000", intern, strings.Repeat("m", 3000), func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, ok},
		{"motivation 3001", intern, strings.Repeat("m", 3001), func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, field("motivation")},
		{"motivation multiline ok", intern, strings.Repeat("line\n", 12), func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, ok},
		{"motivation bidi override", intern, strings.Repeat("m", 50) + "\u202e", func(t *testing.T) domain.Program { p, _ := mustOpen(t); return p }, field("motivation")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.program(t)
			a, err := domain.NewApplication(tc.actor, p, tc.motivation, now)
			tc.want.check(t, err)
			if err == nil && (a.Status != domain.ApplicationPending || a.InternID != tc.actor.UserID || a.ProgramID != p.ID || a.OrgID != orgID) {
				t.Fatalf("application = %+v", a)
			}
		})
	}
}

func TestApplicationTransitions(t *testing.T) {
	inactive := mentorMember
	inactive.Active = false
	foreign := mentorMember
	foreign.OrgID = otherID
	notMentor := mentorMember
	notMentor.Role = domain.RoleOrgAdmin
	tests := []struct {
		name    string
		prepare func(*testing.T, *domain.Program, *domain.Application)
		act     func(*domain.Program, *domain.Application) error
		want    wantErr
		status  domain.ApplicationStatus
	}{
		{"withdraw by intern", nil, func(_ *domain.Program, a *domain.Application) error { return a.Withdraw(intern, now) }, ok, domain.ApplicationWithdrawn},
		{"withdraw by other intern", nil, func(_ *domain.Program, a *domain.Application) error { return a.Withdraw(intern2, now) }, is(domain.ErrNotAllowed), domain.ApplicationPending},
		{"withdraw by org admin", nil, func(_ *domain.Program, a *domain.Application) error { return a.Withdraw(orgAdmin, now) }, is(domain.ErrNotAllowed), domain.ApplicationPending},
		{"withdraw twice", func(t *testing.T, _ *domain.Program, a *domain.Application) {
			if err := a.Withdraw(intern, now); err != nil {
				t.Fatal(err)
			}
		}, func(_ *domain.Program, a *domain.Application) error { return a.Withdraw(intern, now) }, is(domain.ErrInvalidTransition), domain.ApplicationWithdrawn},
		{"reject", nil, func(p *domain.Program, a *domain.Application) error {
			return a.Reject(orgAdmin, *p, "Not this time.", now)
		}, ok, domain.ApplicationRejected},
		{"reject needs reason", nil, func(p *domain.Program, a *domain.Application) error { return a.Reject(orgAdmin, *p, " ", now) }, field("reason"), domain.ApplicationPending},
		{"reject reason too long", nil, func(p *domain.Program, a *domain.Application) error {
			return a.Reject(orgAdmin, *p, strings.Repeat("r", 2001), now)
		}, field("reason"), domain.ApplicationPending},
		{"reject by mentor", nil, func(p *domain.Program, a *domain.Application) error { return a.Reject(mentor, *p, "no", now) }, is(domain.ErrNotAllowed), domain.ApplicationPending},
		{"reject by other org", nil, func(p *domain.Program, a *domain.Application) error { return a.Reject(otherAdmin, *p, "no", now) }, is(domain.ErrNotAllowed), domain.ApplicationPending},
		{"withdraw after reject", func(t *testing.T, p *domain.Program, a *domain.Application) {
			if err := a.Reject(orgAdmin, *p, "no", now); err != nil {
				t.Fatal(err)
			}
		}, func(_ *domain.Program, a *domain.Application) error { return a.Withdraw(intern, now) }, is(domain.ErrInvalidTransition), domain.ApplicationRejected},
		{"accept", nil, accept(mentorMember), ok, domain.ApplicationAccepted},
		{"accept while closed", func(t *testing.T, p *domain.Program, _ *domain.Application) {
			if err := p.Close(orgAdmin, now); err != nil {
				t.Fatal(err)
			}
		}, accept(mentorMember), ok, domain.ApplicationAccepted},
		{"accept while archived", func(t *testing.T, p *domain.Program, _ *domain.Application) {
			if err := p.Close(orgAdmin, now); err != nil {
				t.Fatal(err)
			}
			if err := p.Archive(orgAdmin, now); err != nil {
				t.Fatal(err)
			}
		}, accept(mentorMember), is(domain.ErrInvalidTransition), domain.ApplicationPending},
		{"accept twice", func(t *testing.T, p *domain.Program, a *domain.Application) {
			if _, err := a.Accept(orgAdmin, p, mentorMember, now); err != nil {
				t.Fatal(err)
			}
		}, accept(mentorMember), is(domain.ErrInvalidTransition), domain.ApplicationAccepted},
		{"accept withdrawn", func(t *testing.T, _ *domain.Program, a *domain.Application) {
			if err := a.Withdraw(intern, now); err != nil {
				t.Fatal(err)
			}
		}, accept(mentorMember), is(domain.ErrInvalidTransition), domain.ApplicationWithdrawn},
		{"accept with inactive mentor", nil, accept(inactive), field("mentorId"), domain.ApplicationPending},
		{"accept with other org's mentor", nil, accept(foreign), field("mentorId"), domain.ApplicationPending},
		{"accept with non-mentor", nil, accept(notMentor), field("mentorId"), domain.ApplicationPending},
		{"accept when full", func(_ *testing.T, p *domain.Program, _ *domain.Application) { p.Enrolled = p.Capacity },
			accept(mentorMember), is(domain.ErrCapacityReached), domain.ApplicationPending},
		{"accept for another program", func(t *testing.T, p *domain.Program, _ *domain.Application) {
			other, _ := mustOpen(t)
			*p = other
		}, accept(mentorMember), is(domain.ErrNotAllowed), domain.ApplicationPending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := mustOpen(t)
			a, err := domain.NewApplication(intern, p, motivation, now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(t, &p, &a)
			}
			enrolled := p.Enrolled
			err = tc.act(&p, &a)
			tc.want.check(t, err)
			if a.Status != tc.status {
				t.Fatalf("status = %s, want %s", a.Status, tc.status)
			}
			if err != nil && p.Enrolled != enrolled {
				t.Fatalf("failed decision took a seat")
			}
		})
	}
}

func accept(m domain.Member) func(*domain.Program, *domain.Application) error {
	return func(p *domain.Program, a *domain.Application) error {
		_, err := a.Accept(orgAdmin, p, m, now)
		return err
	}
}

func TestAcceptCreatesEnrollment(t *testing.T) {
	p, _ := mustOpen(t)
	a, err := domain.NewApplication(intern, p, motivation, now)
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.Accept(orgAdmin, &p, mentorMember, now)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !ids.Valid(e.ID, ids.Enrollment), e.Status != domain.EnrollmentStatusActive, e.InternID != intern.UserID,
		e.MentorID != mentor.UserID, e.ProgramID != p.ID, e.OrgID != orgID, e.ApplicationID != a.ID:
		t.Fatalf("enrollment = %+v", e)
	case !e.StartsAt.Equal(p.StartsAt):
		t.Fatalf("enrollment starts %v, want the program's start %v", e.StartsAt, p.StartsAt)
	case a.EnrollmentID != e.ID || a.MentorID != mentor.UserID || a.DecidedBy != orgAdmin.UserID || p.Enrolled != 1:
		t.Fatalf("application %+v / enrolled %d", a, p.Enrolled)
	}
	// Accepted after the program started: work starts at acceptance.
	late := now.Add(20 * day)
	p2, _ := mustOpen(t)
	a2, _ := domain.NewApplication(intern, p2, motivation, now)
	e2, err := a2.Accept(orgAdmin, &p2, mentorMember, late)
	if err != nil {
		t.Fatal(err)
	}
	if !e2.StartsAt.Equal(late) {
		t.Fatalf("late enrollment starts %v, want %v", e2.StartsAt, late)
	}
}

func TestCapacityFillsUp(t *testing.T) {
	p, _ := mustOpen(t) // capacity 2
	results := make([]error, 3)
	for i := range results {
		a, err := domain.NewApplication(domain.Actor{UserID: ids.New(ids.User), Role: domain.RoleIntern}, p, motivation, now)
		if err != nil {
			t.Fatal(err)
		}
		_, results[i] = a.Accept(orgAdmin, &p, mentorMember, now)
	}
	ok.check(t, results[0])
	ok.check(t, results[1])
	is(domain.ErrCapacityReached).check(t, results[2])
	if p.Enrolled != 2 || p.HasSeat() {
		t.Fatalf("enrolled = %d", p.Enrolled)
	}
}

func TestApplicationVisibility(t *testing.T) {
	p, _ := mustOpen(t)
	a, _ := domain.NewApplication(intern, p, motivation, now)
	for _, tc := range []struct {
		name  string
		actor domain.Actor
		want  bool
	}{
		{"own intern", intern, true},
		{"other intern", intern2, false},
		{"org admin", orgAdmin, true},
		{"other org admin", otherAdmin, false},
		{"mentor", mentor, false},
		{"platform admin", admin, true},
		{"zero actor", domain.Actor{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.VisibleTo(tc.actor); got != tc.want {
				t.Fatalf("VisibleTo = %v", got)
			}
		})
	}
	if !domain.ApplicationPending.Live() || !domain.ApplicationAccepted.Live() || domain.ApplicationRejected.Live() || domain.ApplicationWithdrawn.Live() {
		t.Fatal("live states wrong")
	}
}
