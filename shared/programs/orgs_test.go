package programs_test

import (
	"context"
	"encoding/json/v2"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

type typesAV = types.AttributeValue

func sAV(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// scanFor reports whether any stored item's attribute values contain s.
func scanFor(t *testing.T, e *pt.Env, s string) bool {
	t.Helper()
	out, err := e.DB.Scan(pt.Ctx(t), &dynamodb.ScanInput{TableName: aws.String(e.Table)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(out.Items)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(raw), s)
}

func TestCreateInvite(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	inv, err := s.CreateInvite(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, programs.CreateInviteRequest{Email: " New.Mentor@Example.com", Role: "mentor"}, programs.IdempotencyKey{})
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	if !ids.Valid(inv.ID, ids.Invite) || inv.Email != "new.mentor@example.com" || inv.Role != "mentor" ||
		!inv.ExpiresAt.Equal(pt.Base.Add(domain.InviteTTL)) || !domain.ValidInviteCode(inv.Code) || strings.Contains(inv.String(), inv.Code) {
		t.Fatalf("invite = %+v", inv)
	}
	stored, err := w.env.Store.GetInvite(pt.Ctx(t), domain.HashInviteCode(inv.Code))
	if err != nil || stored.ID != inv.ID || stored.OrgID != w.org.ID || stored.InvitedBy != w.admin.ID {
		t.Fatalf("stored invite = %+v, %v", stored, err)
	}
	if scanFor(t, w.env, inv.Code) {
		t.Fatal("the invite code is stored in the table")
	}
	// The code registers the invited address as a mentor of the org.
	u, err := w.env.Store.CreateUserWithInvite(pt.Ctx(t), store.User{
		ID: ids.New(ids.User), Email: "new.mentor@example.com", DisplayName: "New Mentor", Role: "intern", PasswordHash: pt.PasswordHash,
	}, domain.HashInviteCode(inv.Code), w.env.Clock.Now())
	if err != nil || u.Role != "mentor" || u.OrgID != w.org.ID {
		t.Fatalf("registration with the code: %+v, %v", u, err)
	}
	if e := w.env.Audit.Find(programs.ActionInviteCreated); len(e) != 1 || e[0].Target != inv.ID || e[0].Actor != w.admin.ID {
		t.Fatalf("audit = %+v", e)
	}

	for name, tc := range map[string]struct {
		caller store.User
		in     programs.CreateInviteRequest
		want   error
		fields bool
	}{
		"org admin inviting an org admin": {w.admin, programs.CreateInviteRequest{Email: "boss@example.com", Role: "org_admin"}, programs.ErrForbidden, false},
		"mentor of the org":               {w.mentor, programs.CreateInviteRequest{Email: "x@example.com", Role: "mentor"}, programs.ErrForbidden, false},
		"other org admin":                 {w.otherAdmin, programs.CreateInviteRequest{Email: "x@example.com", Role: "mentor"}, programs.ErrNotVisible, false},
		"intern":                          {w.intern, programs.CreateInviteRequest{Email: "x@example.com", Role: "mentor"}, programs.ErrNotVisible, false},
		"platform admin on the route":     {w.platformAdmin, programs.CreateInviteRequest{Email: "x@example.com", Role: "mentor"}, programs.ErrNotVisible, false},
		"bad email and role":              {w.admin, programs.CreateInviteRequest{Email: "not-an-email", Role: "intern"}, nil, true},
	} {
		t.Run(name, func(t *testing.T) {
			before := w.env.Denials()
			_, err := s.CreateInvite(pt.Ctx(t), pt.Caller(tc.caller), w.org.ID, tc.in, programs.IdempotencyKey{})
			if tc.fields {
				if f := fieldsOf(err); len(f) != 2 || f[0] != "email" || f[1] != "role" {
					t.Fatalf("fields = %v (%v)", f, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || w.env.Denials() != before+1 {
				t.Fatalf("err = %v, want %v (denials %d→%d)", err, tc.want, before, w.env.Denials())
			}
		})
	}
}

func TestCreateInviteIdempotency(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	in := programs.CreateInviteRequest{Email: "m@example.com", Role: "mentor"}
	key := programs.IdempotencyKey{Key: "inv-1", RequestHash: hash("a")}
	first, err := s.CreateInvite(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, key)
	if err != nil {
		t.Fatal(err)
	}
	// The code is not kept, so a retry cannot replay it: 409, no new invite.
	if _, err := s.CreateInvite(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, key); !isConflict(err) {
		t.Fatalf("retry: %v", err)
	}
	if _, err := s.CreateInvite(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, programs.IdempotencyKey{Key: "inv-1", RequestHash: hash("b")}); !errors.Is(err, programs.ErrIdempotencyMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	if scanFor(t, w.env, first.Code) {
		t.Fatal("the code is stored (idempotency record?)")
	}
	if n := len(w.env.Audit.Find(programs.ActionInviteCreated)); n != 1 {
		t.Fatalf("%d invites created", n)
	}
}

func TestListMembers(t *testing.T) {
	w := newWorld(t)
	w.env.Suspend(t, w.env.User(t, apigw.RoleMentor, w.org.ID))
	w.env.User(t, apigw.RoleIntern, "")
	list, err := w.env.Service.ListMembers(pt.Ctx(t), pt.Caller(w.mentor), w.org.ID)
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("members = %+v, %v", list, err)
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), "@") || strings.Contains(string(raw), "status") || strings.Contains(string(raw), w.otherAdmin.ID) {
		t.Fatalf("member list leaks: %s", raw)
	}
	for name, c := range map[string]store.User{"other org admin": w.otherAdmin, "intern": w.intern, "platform admin": w.platformAdmin} {
		t.Run(name, func(t *testing.T) {
			if _, err := w.env.Service.ListMembers(pt.Ctx(t), pt.Caller(c), w.org.ID); !errors.Is(err, programs.ErrNotVisible) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// A mentor moved to another organization loses access at once, whatever
	// the token still says.
	moved := w.mentor
	moved.OrgID = w.org.ID
	cur, _ := w.env.Store.GetUser(pt.Ctx(t), w.otherMntr.ID)
	if _, err := w.env.Service.ListMembers(pt.Ctx(t), pt.Caller(store.User{ID: cur.ID, Role: "mentor", OrgID: w.org.ID}), w.org.ID); !errors.Is(err, programs.ErrNotVisible) {
		t.Fatalf("token org not re-checked: %v", err)
	}
}

func TestCreateOrg(t *testing.T) {
	w := newWorld(t)
	ctx := lambdacontext.NewContext(pt.Ctx(t), &lambdacontext.LambdaContext{AwsRequestID: "cli-req-1"})
	res, err := w.env.Service.CreateOrg(ctx, programs.CreateOrgRequest{
		ActorID: w.platformAdmin.ID, Reason: "New partner, ticket OPS-12", Name: "  Initech  ", AdminEmail: "Boss@Initech.example",
	})
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	if res.Name != "Initech" || res.Invite.Role != "org_admin" || res.Invite.Email != "boss@initech.example" || !domain.ValidInviteCode(res.Invite.Code) {
		t.Fatalf("result = %+v", res)
	}
	org, err := w.env.Store.GetOrg(pt.Ctx(t), res.OrgID)
	if err != nil || org.Name != "Initech" || org.CreatedBy != w.platformAdmin.ID {
		t.Fatalf("org = %+v, %v", org, err)
	}
	u, err := w.env.Store.CreateUserWithInvite(pt.Ctx(t), store.User{
		ID: ids.New(ids.User), Email: "boss@initech.example", DisplayName: "Boss", Role: "intern", PasswordHash: pt.PasswordHash,
	}, domain.HashInviteCode(res.Invite.Code), w.env.Clock.Now())
	if err != nil || u.Role != "org_admin" || u.OrgID != res.OrgID {
		t.Fatalf("first admin registration: %+v, %v", u, err)
	}
	e := w.env.Audit.Find(programs.ActionOrgCreated)
	if len(e) != 1 || e[0].Actor != w.platformAdmin.ID || e[0].Reason != "New partner, ticket OPS-12" || e[0].Target != res.OrgID || e[0].RequestID != "cli-req-1" {
		t.Fatalf("audit = %+v", e)
	}

	noMFA := w.env.User(t, apigw.RoleAdmin, "")
	for name, tc := range map[string]struct {
		in     programs.CreateOrgRequest
		refuse bool
	}{
		"org admin actor":   {programs.CreateOrgRequest{ActorID: w.admin.ID, Reason: "because", Name: "X", AdminEmail: "a@x.example"}, true},
		"admin without MFA": {programs.CreateOrgRequest{ActorID: noMFA.ID, Reason: "because", Name: "X", AdminEmail: "a@x.example"}, true},
		"unknown actor":     {programs.CreateOrgRequest{ActorID: ids.New(ids.User), Reason: "because", Name: "X", AdminEmail: "a@x.example"}, true},
		"missing reason":    {programs.CreateOrgRequest{ActorID: w.platformAdmin.ID, Name: "X", AdminEmail: "a@x.example"}, false},
		"bad email":         {programs.CreateOrgRequest{ActorID: w.platformAdmin.ID, Reason: "because", Name: "X", AdminEmail: "nope"}, false},
		"empty name":        {programs.CreateOrgRequest{ActorID: w.platformAdmin.ID, Reason: "because", Name: " ", AdminEmail: "a@x.example"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			before := w.env.Denials()
			_, err := w.env.Service.CreateOrg(context.Background(), tc.in)
			var ref *programs.Refusal
			if tc.refuse != errors.As(err, &ref) || err == nil {
				t.Fatalf("err = %v, refusal wanted %v", err, tc.refuse)
			}
			if tc.refuse && w.env.Denials() != before+1 {
				t.Fatal("refusal not audited")
			}
			if !tc.refuse && fieldsOf(err) == nil {
				t.Fatalf("not a validation error: %v", err)
			}
		})
	}
	if n := len(w.env.Audit.Find(programs.ActionOrgCreated)); n != 1 {
		t.Fatalf("%d orgs created", n)
	}
}
