package domain_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

func TestRolesMatchPrincipal(t *testing.T) {
	pairs := map[domain.Role]string{
		domain.RoleIntern: apigw.RoleIntern, domain.RoleMentor: apigw.RoleMentor,
		domain.RoleOrgAdmin: apigw.RoleOrgAdmin, domain.RoleAdmin: apigw.RoleAdmin,
	}
	for d, a := range pairs {
		if string(d) != a {
			t.Errorf("domain role %q != apigw role %q", d, a)
		}
	}
}

func TestNewOrg(t *testing.T) {
	tests := []struct {
		name  string
		actor domain.Actor
		in    string
		want  wantErr
	}{
		{"platform admin", admin, " Acme Corp ", ok},
		{"org admin", orgAdmin, "Acme", is(domain.ErrNotAllowed)},
		{"empty name", admin, "", field("name")},
		{"long name", admin, strings.Repeat("n", 121), field("name")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := domain.NewOrg(tc.actor, tc.in, now)
			tc.want.check(t, err)
			if err == nil && (o.Name != "Acme Corp" || !ids.Valid(o.ID, ids.Org) || o.CreatedBy != admin.UserID) {
				t.Fatalf("org = %+v", o)
			}
		})
	}
}

func TestCanInvite(t *testing.T) {
	tests := []struct {
		name    string
		inviter domain.Actor
		org     string
		role    domain.Role
		want    bool
	}{
		{"admin invites org admin", admin, orgID, domain.RoleOrgAdmin, true},
		{"admin invites mentor", admin, orgID, domain.RoleMentor, true},
		{"admin cannot invite admin", admin, orgID, domain.RoleAdmin, false},
		{"admin cannot invite intern", admin, orgID, domain.RoleIntern, false},
		{"org admin invites mentor", orgAdmin, orgID, domain.RoleMentor, true},
		{"org admin cannot invite org admin", orgAdmin, orgID, domain.RoleOrgAdmin, false},
		{"org admin of other org", otherAdmin, orgID, domain.RoleMentor, false},
		{"mentor cannot invite", mentor, orgID, domain.RoleMentor, false},
		{"no org", admin, "", domain.RoleMentor, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := domain.CanInvite(tc.inviter, tc.org, tc.role); got != tc.want {
				t.Fatalf("CanInvite = %v", got)
			}
		})
	}
}

func TestInvite(t *testing.T) {
	const email = "new.mentor@example.com"
	newUser := ids.New(ids.User)
	inv, code, err := domain.NewInvite(orgAdmin, orgID, email, domain.RoleMentor, now)
	if err != nil {
		t.Fatal(err)
	}
	if !domain.ValidInviteCode(code) || inv.CodeHash != domain.HashInviteCode(code) || strings.Contains(inv.CodeHash, code) ||
		!inv.ExpiresAt.Equal(now.Add(domain.InviteTTL)) || inv.Status != domain.InvitePending || !ids.Valid(inv.ID, domain.InvitePrefix) {
		t.Fatalf("invite = %+v", inv)
	}
	_, code2, _ := domain.NewInvite(orgAdmin, orgID, email, domain.RoleMentor, now)
	if code2 == code {
		t.Fatal("codes repeat")
	}
	tests := []struct {
		name  string
		code  string
		email string
		at    time.Time
		mut   func(*domain.Invite)
	}{
		{"wrong code", code2, email, now, nil},
		{"malformed code", "short", email, now, nil},
		{"wrong email", code, "other@example.com", now, nil},
		{"email not normalized", code, "New.Mentor@example.com", now, nil},
		{"expired", code, email, now.Add(domain.InviteTTL), nil},
		{"revoked", code, email, now, func(i *domain.Invite) { i.Status = domain.InviteRevoked }},
		{"used", code, email, now, func(i *domain.Invite) { i.Status = domain.InviteUsed }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := inv
			if tc.mut != nil {
				tc.mut(&i)
			}
			before := i
			if err := i.Redeem(tc.code, tc.email, newUser, tc.at); !errors.Is(err, domain.ErrInviteInvalid) {
				t.Fatalf("Redeem = %v", err)
			}
			if i != before {
				t.Fatal("failed redeem changed the invite")
			}
		})
	}
	used := inv
	if err := used.Redeem(code, email, newUser, now.Add(domain.InviteTTL-time.Second)); err != nil {
		t.Fatal(err)
	}
	if used.Status != domain.InviteUsed || used.UsedBy != newUser {
		t.Fatalf("used = %+v", used)
	}
	if err := used.Redeem(code, email, newUser, now); !errors.Is(err, domain.ErrInviteInvalid) {
		t.Fatalf("second redeem = %v", err)
	}
	is(domain.ErrInvalidTransition).check(t, used.Revoke(orgAdmin, now))

	revoked := inv
	is(domain.ErrNotAllowed).check(t, revoked.Revoke(mentor, now))
	ok.check(t, revoked.Revoke(orgAdmin, now))
	if revoked.Status != domain.InviteRevoked {
		t.Fatal("not revoked")
	}
}

func TestNewInviteValidation(t *testing.T) {
	tests := []struct {
		name    string
		inviter domain.Actor
		org     string
		email   string
		role    domain.Role
		want    wantErr
	}{
		{"ok", admin, orgID, "a@example.com", domain.RoleOrgAdmin, ok},
		{"bad org id", admin, "org_x", "a@example.com", domain.RoleOrgAdmin, field("orgId")},
		{"bad email", admin, orgID, "not-an-email", domain.RoleOrgAdmin, field("email")},
		{"uppercase email", admin, orgID, "A@example.com", domain.RoleOrgAdmin, field("email")},
		{"role intern", admin, orgID, "a@example.com", domain.RoleIntern, field("role")},
		{"org admin invites org admin", orgAdmin, orgID, "a@example.com", domain.RoleOrgAdmin, is(domain.ErrNotAllowed)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, code, err := domain.NewInvite(tc.inviter, tc.org, tc.email, tc.role, now)
			tc.want.check(t, err)
			if err != nil && code != "" {
				t.Fatal("code returned with an error")
			}
		})
	}
}

func TestNotifications(t *testing.T) {
	p, tasks, e := mustEnrollment(t)
	a, _ := domain.NewApplication(intern2, p, motivation, now)
	if err := a.Reject(orgAdmin, p, "Secret internal reason", now); err != nil {
		t.Fatal(err)
	}
	s, _ := domain.NewSubmission(intern, e, tasks[0], nil, domain.SubmissionInput{Text: "my private work"}, now)
	r, err := domain.NewReview(mentor, e, tasks[0], &s, domain.ReviewInput{Score: 77, Decision: domain.ReviewAccepted, Feedback: "private feedback"}, now)
	if err != nil {
		t.Fatal(err)
	}
	ev := e.UpdateProgress(domain.ComputeProgress(tasks, []domain.Submission{s}), now)
	if ev == nil {
		t.Fatal("not completed")
	}
	tests := []struct {
		name      string
		n         domain.Notification
		recipient string
		kind      domain.NotificationKind
		outcome   string
	}{
		{"rejected", domain.ApplicationDecidedNotification(a, p, now), intern2.UserID, domain.NotifyApplicationDecided, "rejected"},
		{"submission", domain.SubmissionReceivedNotification(s, tasks[0], p, now), mentor.UserID, domain.NotifySubmissionReceived, ""},
		{"review", domain.ReviewPostedNotification(r, tasks[0], p, now), intern.UserID, domain.NotifyReviewPosted, "accepted"},
		{"completed", domain.EnrollmentCompletedNotification(*ev, p, now), intern.UserID, domain.NotifyEnrollmentCompleted, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.n
			if n.RecipientID != tc.recipient || n.Kind != tc.kind || n.Payload.Outcome != tc.outcome || n.Payload.ProgramID != p.ID ||
				!ids.Valid(n.ID, domain.NotificationPrefix) || !n.ExpiresAt.Equal(now.Add(domain.NotificationRetention)) || !n.Unread() {
				t.Fatalf("notification = %+v", n)
			}
			b, err := json.Marshal(n.Payload)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"Secret internal reason", "my private work", "private feedback", motivation, mentor.UserID, orgAdmin.UserID} {
				if strings.Contains(string(b), secret) {
					t.Fatalf("payload %s leaks %q", b, secret)
				}
			}
			var members map[string]any
			if err := json.Unmarshal(b, &members); err != nil {
				t.Fatal(err)
			}
			for k := range members {
				if !allowedPayloadMembers[k] {
					t.Errorf("payload member %q is not in the allowed set", k)
				}
			}
			is(domain.ErrNotAllowed).check(t, n.MarkRead(intern2Or(tc.recipient), now))
			ok.check(t, n.MarkRead(domain.Actor{UserID: tc.recipient}, now))
			first := n.ReadAt
			ok.check(t, n.MarkRead(domain.Actor{UserID: tc.recipient}, now.Add(time.Hour)))
			if n.Unread() || !n.ReadAt.Equal(first) {
				t.Fatalf("ReadAt = %v", n.ReadAt)
			}
		})
	}
}

var allowedPayloadMembers = map[string]bool{
	"programId": true, "programTitle": true, "applicationId": true, "enrollmentId": true, "taskId": true,
	"taskTitle": true, "submissionId": true, "submissionVersion": true, "outcome": true,
}

// intern2Or returns an actor who is not recipient.
func intern2Or(recipient string) domain.Actor {
	if recipient == intern2.UserID {
		return intern
	}
	return intern2
}

func TestCompletionHookFunc(t *testing.T) {
	var got domain.EnrollmentCompleted
	var hook domain.CompletionHook = domain.CompletionHookFunc(func(_ context.Context, ev domain.EnrollmentCompleted) error {
		got = ev
		return errors.New("issuer down")
	})
	ev := domain.EnrollmentCompleted{EnrollmentID: "enr_1", CompletedAt: now}
	if err := hook.OnEnrollmentCompleted(context.Background(), ev); err == nil || got != ev {
		t.Fatalf("hook: err %v got %+v", err, got)
	}
}

func TestTransitionErrorMessage(t *testing.T) {
	p, _ := mustOpen(t)
	err := p.Publish(orgAdmin, nil, now)
	if err == nil || err.Error() != "program: cannot publish while open" {
		t.Fatalf("error = %v", err)
	}
}
