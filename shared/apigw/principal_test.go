package apigw_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
)

func TestPrincipalFrom(t *testing.T) {
	usr, ses, org := ids.New(ids.User), ids.New(ids.Session), ids.New(ids.Org)
	tests := []struct {
		name string
		auth map[string]any
		want *apigw.Principal // nil: 401
	}{
		{"intern", map[string]any{"sub": usr, "role": "intern", "sid": ses, "principalId": usr},
			&apigw.Principal{UserID: usr, Role: "intern", SessionID: ses}},
		{"mentor with org", map[string]any{"sub": usr, "role": "mentor", "org": org, "sid": ses},
			&apigw.Principal{UserID: usr, Role: "mentor", OrgID: org, SessionID: ses}},
		{"org admin", map[string]any{"sub": usr, "role": "org_admin", "org": org, "sid": ses},
			&apigw.Principal{UserID: usr, Role: "org_admin", OrgID: org, SessionID: ses}},
		{"admin empty org", map[string]any{"sub": usr, "role": "admin", "org": "", "sid": ses},
			&apigw.Principal{UserID: usr, Role: "admin", SessionID: ses}},
		{"no authorizer", nil, nil},
		{"missing sub", map[string]any{"role": "intern", "sid": ses}, nil},
		{"empty sub", map[string]any{"sub": "", "role": "intern", "sid": ses}, nil},
		{"sub not a user id", map[string]any{"sub": org, "role": "intern", "sid": ses}, nil},
		{"sub not a string", map[string]any{"sub": 42, "role": "intern", "sid": ses}, nil},
		{"missing role", map[string]any{"sub": usr, "sid": ses}, nil},
		{"unknown role", map[string]any{"sub": usr, "role": "superuser", "sid": ses}, nil},
		{"role case", map[string]any{"sub": usr, "role": "Admin", "sid": ses}, nil},
		{"missing sid", map[string]any{"sub": usr, "role": "intern"}, nil},
		{"bad sid", map[string]any{"sub": usr, "role": "intern", "sid": "abc"}, nil},
		{"mentor without org", map[string]any{"sub": usr, "role": "mentor", "sid": ses}, nil},
		{"bad org", map[string]any{"sub": usr, "role": "mentor", "org": "ORG#1", "sid": ses}, nil},
		{"org not a string", map[string]any{"sub": usr, "role": "intern", "org": true, "sid": ses}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodGet, "/v1/me", "")
			req.RequestContext.Authorizer = tt.auth
			got, err := apigw.PrincipalFrom(req)
			if tt.want != nil {
				if err != nil || got != *tt.want {
					t.Fatalf("PrincipalFrom = %+v, %v; want %+v", got, err, *tt.want)
				}
				return
			}
			var ae *apigw.Error
			if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "unauthorized" {
				t.Fatalf("err = %v, want 401", err)
			}
			if !errors.Is(err, apigw.ErrMalformedPrincipal) {
				t.Fatalf("err = %v, want ErrMalformedPrincipal cause", err)
			}
			if got != (apigw.Principal{}) {
				t.Fatalf("partial principal returned: %+v", got)
			}
		})
	}
}

func TestWithPrincipalRoundTrip(t *testing.T) {
	for _, role := range []string{apigw.RoleIntern, apigw.RoleMentor, apigw.RoleOrgAdmin, apigw.RoleAdmin} {
		t.Run(role, func(t *testing.T) {
			p := apigwtest.NewPrincipal(role)
			got, err := apigw.PrincipalFrom(apigwtest.WithPrincipal(apigwtest.NewRequest(http.MethodGet, "/v1/me", ""), p))
			if err != nil || got != p {
				t.Fatalf("got %+v, %v; want %+v", got, err, p)
			}
		})
	}
}
