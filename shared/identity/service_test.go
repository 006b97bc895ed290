package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/validate"
)

func TestNewChecksDependenciesPerFlow(t *testing.T) {
	env := identitytest.New(t)
	full := env.Deps()
	without := func(drop string) identity.Deps {
		d := full
		switch drop {
		case "Store":
			d.Store = nil
		case "Auditor":
			d.Auditor = nil
		case "Hasher":
			d.Hasher = nil
		case "Policy":
			d.Policy = nil
		case "Issuer":
			d.Issuer = nil
		case "Limiter":
			d.Limiter = nil
		}
		return d
	}
	tests := []struct {
		name  string
		deps  identity.Deps
		flows []identity.Flow
		want  string // "" means accepted
	}{
		{"logout needs only store and auditor", identity.Deps{Store: env.Store, Auditor: env.Audit}, []identity.Flow{identity.FlowLogout}, ""},
		{"refresh without issuer", without("Issuer"), []identity.Flow{identity.FlowRefresh}, "Issuer"},
		{"login without limiter", without("Limiter"), []identity.Flow{identity.FlowLogin}, "Limiter"},
		{"login without hasher", without("Hasher"), []identity.Flow{identity.FlowLogin}, "Hasher"},
		{"register without policy", without("Policy"), []identity.Flow{identity.FlowRegister}, "Policy"},
		{"password without policy", without("Policy"), []identity.Flow{identity.FlowPassword}, "Policy"},
		{"mfa without envelope", full, []identity.Flow{identity.FlowLoginMFA}, "Envelope"},
		{"no auditor", without("Auditor"), []identity.Flow{identity.FlowLogout}, "Auditor"},
		{"no store", without("Store"), []identity.Flow{identity.FlowLogout}, "Store"},
		{"unknown flow", full, []identity.Flow{"sso"}, "unknown flow"},
		{"no flow", full, nil, "no flows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := identity.New(tc.deps, tc.flows...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestFlowsNotEnabledAreRefused(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogout)
	p := apigwtest.NewPrincipal(apigw.RoleIntern)
	calls := map[string]error{}
	_, calls["Register"] = svc.Register(ctx(t), meta("192.0.2.1"), identity.RegisterRequest{})
	_, calls["Login"] = svc.Login(ctx(t), meta("192.0.2.1"), identity.LoginRequest{})
	_, calls["LoginMFA"] = svc.LoginMFA(ctx(t), meta("192.0.2.1"), identity.LoginMFARequest{})
	_, calls["Refresh"] = svc.Refresh(ctx(t), meta("192.0.2.1"), identity.RefreshRequest{})
	calls["ChangePassword"] = svc.ChangePassword(ctx(t), meta("192.0.2.1"), p, identity.ChangePasswordRequest{})
	for name, err := range calls {
		if !errors.Is(err, identity.ErrFlowNotEnabled) {
			t.Errorf("%s = %v, want ErrFlowNotEnabled", name, err)
		}
	}
}

func TestAPIErrorMapping(t *testing.T) {
	internal := errors.New("operation error DynamoDB: GetItem, ResourceNotFoundException: arn:aws:dynamodb:eu-west-1:1:table/t")
	tests := []struct {
		name              string
		err               error
		status            int
		code, message     string
		retryAfterAtLeast time.Duration
	}{
		{"invalid credentials", fmt.Errorf("%w: wrong password", identity.ErrInvalidCredentials), 401, "invalid_credentials", "Email or password is incorrect.", 0},
		{"invalid code", fmt.Errorf("%w: replay", identity.ErrInvalidCode), 401, "invalid_credentials", "The code is incorrect or expired.", 0},
		{"invalid refresh", fmt.Errorf("%w: spent", identity.ErrInvalidRefreshToken), 401, "invalid_credentials", "The refresh token is invalid.", 0},
		{"wrong current password", identity.ErrWrongPassword, 403, "invalid_credentials", "The current password is incorrect.", 0},
		{"mfa required", identity.ErrMFARequired, 403, "mfa_required", "", 0},
		{"not authenticated", identity.ErrNotAuthenticated, 401, "unauthorized", "", 0},
		{"conflict", identity.ErrConflict, 409, "conflict", "", 0},
		{"throttled", fmt.Errorf("login: %w", &identity.ThrottledError{Scope: "login-ip", RetryAfter: 1500 * time.Millisecond}), 429, "rate_limited", "", time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ae := wantAPI(t, tc.err, tc.status, tc.code)
			if tc.message != "" && ae.Message != tc.message {
				t.Errorf("message %q, want %q", ae.Message, tc.message)
			}
			if ae.RetryAfter < tc.retryAfterAtLeast {
				t.Errorf("RetryAfter %s", ae.RetryAfter)
			}
			// The reason stays in the cause, never in what is sent.
			for _, reason := range []string{"wrong password", "replay", "spent", "login-ip"} {
				if strings.Contains(ae.Message, reason) {
					t.Errorf("message %q reveals %q", ae.Message, reason)
				}
			}
		})
	}
	if got := identity.APIError(internal); got != internal {
		t.Errorf("internal error mapped to %v; it must stay internal (500)", got)
	}
	var ve validate.Errors = []validate.FieldError{{Field: "email", Reason: "is required"}}
	if got := identity.APIError(ve); !errors.As(got, &ve) {
		t.Errorf("validation errors mapped to %v", got)
	}
	if identity.APIError(nil) != nil {
		t.Error("APIError(nil) != nil")
	}
}

func TestTokensNeverPrint(t *testing.T) {
	tok := identity.Tokens{AccessToken: "eyJhbGciOi.secret.sig", TokenType: "Bearer", ExpiresIn: 900, RefreshToken: "rt_supersecret", RefreshExpiresIn: 10}
	ch := identity.MFAChallenge{MFARequired: true, Challenge: "mfa_supersecret", ExpiresIn: 300}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v %#v", tok, tok), fmt.Sprint(ch), fmt.Sprintf("%+v", ch), tok.LogValue().String(), ch.LogValue().String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("printed %q", s)
		}
	}
}
