package main

import (
	"encoding/json/v2"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
)

func invoke(t *testing.T, e *pt.Env, payload string) (programs.CreateOrgResult, error) {
	t.Helper()
	h, err := NewHandler(e.Service, e.Logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(pt.Ctx(t), &lambdacontext.LambdaContext{AwsRequestID: "cli-request-7"})
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(payload))
	if err != nil {
		return programs.CreateOrgResult{}, err
	}
	var r programs.CreateOrgResult
	if err := json.Unmarshal(out, &r, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return r, nil
}

func payload(actor, reason, name, email string) string {
	b, _ := json.Marshal(programs.CreateOrgRequest{ActorID: actor, Reason: reason, Name: name, AdminEmail: email})
	return string(b)
}

func TestCreateOrg(t *testing.T) {
	e := pt.New(t)
	admin := e.Admin(t)
	r, err := invoke(t, e, payload(admin.ID, "Onboarding ticket OPS-1", "Acme Robotics", "ada@acme.example"))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if !ids.Valid(r.OrgID, ids.Org) || r.Name != "Acme Robotics" || r.Invite.Role != "org_admin" || r.Invite.Email != "ada@acme.example" {
		t.Fatalf("result = %+v", r)
	}
	inv, err := e.Store.GetInvite(pt.Ctx(t), domain.HashInviteCode(r.Invite.Code))
	if err != nil || inv.OrgID != r.OrgID || inv.ID != r.Invite.ID {
		t.Fatalf("invite = %+v, %v", inv, err)
	}
	if strings.Contains(e.Logs.String(), r.Invite.Code) {
		t.Fatal("the invite code was logged")
	}
	if en := e.Audit.Find(programs.ActionOrgCreated); len(en) != 1 || en[0].RequestID != "cli-request-7" || en[0].Reason != "Onboarding ticket OPS-1" {
		t.Fatalf("audit = %+v", en)
	}
}

func TestCreateOrgRefused(t *testing.T) {
	tests := []struct {
		name    string
		payload func(t *testing.T, e *pt.Env, admin store.User) string
		want    string
		denied  bool
	}{
		{"org admin actor", func(t *testing.T, e *pt.Env, _ store.User) string {
			o := e.Org(t, "X")
			return payload(e.User(t, apigw.RoleOrgAdmin, o.ID).ID, "because", "Y", "a@y.example")
		}, "not an active platform admin", true},
		{"admin without MFA", func(t *testing.T, e *pt.Env, _ store.User) string {
			return payload(e.User(t, apigw.RoleAdmin, "").ID, "because", "Y", "a@y.example")
		}, "not an active platform admin", true},
		{"suspended admin", func(t *testing.T, e *pt.Env, a store.User) string {
			e.Suspend(t, a)
			return payload(a.ID, "because", "Y", "a@y.example")
		}, "not an active platform admin", true},
		{"missing reason", func(t *testing.T, e *pt.Env, a store.User) string { return payload(a.ID, "", "Y", "a@y.example") }, "reason is required", false},
		{"bad email", func(t *testing.T, e *pt.Env, a store.User) string { return payload(a.ID, "because", "Y", "nope") }, "adminEmail must be a valid email", false},
		{"malformed actor", func(t *testing.T, e *pt.Env, a store.User) string {
			return payload("usr_x", "because", "Y", "a@y.example")
		}, "actorId must be a valid", false},
		{"long name", func(t *testing.T, e *pt.Env, a store.User) string {
			return payload(a.ID, "because", strings.Repeat("n", 121), "a@y.example")
		}, "name", false},
		{"misspelled member", func(t *testing.T, e *pt.Env, a store.User) string {
			return `{"actorId":"` + a.ID + `","reasn":"because","name":"Y","adminEmail":"a@y.example"}`
		}, `"reasn" is not an accepted field`, false},
		{"wrong type", func(t *testing.T, e *pt.Env, a store.User) string {
			return `{"actorId":"` + a.ID + `","reason":"because","name":["Y"],"adminEmail":"a@y.example"}`
		}, `"name" has the wrong type`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pt.New(t)
			admin := e.Admin(t)
			_, err := invoke(t, e, tt.payload(t, e, admin))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if (e.Denials() == 1) != tt.denied || len(e.Audit.Find(programs.ActionOrgCreated)) != 0 {
				t.Fatalf("audit = %v", e.Audit.Actions())
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range pt.Payloads(t, functionName) {
		t.Run(ev.Name, func(t *testing.T) {
			e := pt.New(t)
			var in programs.CreateOrgRequest
			if err := json.Unmarshal(ev.Raw, &in, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("sample: %v", err)
			}
			u := e.UserWithID(t, in.ActorID, apigw.RoleAdmin, "")
			if _, err := e.Store.SetMFA(pt.Ctx(t), u.ID, store.MFA{Enabled: true, SecretCiphertext: []byte("sealed")}, u.Version); err != nil {
				t.Fatal(err)
			}
			if _, err := invoke(t, e, string(ev.Raw)); err != nil {
				t.Fatalf("invoke: %v", err)
			}
		})
	}
}
