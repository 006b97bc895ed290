package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/validate"
)

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// meta is a request from ip.
func meta(ip string) identity.Meta {
	return identity.Meta{RequestID: "req-" + ip, SourceIP: ip, UserAgent: "identity-test/1.0"}
}

// apiErr maps err like the handlers do and fails unless it is a client
// error.
func apiErr(t *testing.T, err error) *apigw.Error {
	t.Helper()
	var ae *apigw.Error
	if !errors.As(identity.APIError(err), &ae) {
		t.Fatalf("error %v is not a client error", err)
	}
	return ae
}

// wantAPI fails unless err maps to status and code.
func wantAPI(t *testing.T, err error, status int, code string) *apigw.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d %s", status, code)
	}
	ae := apiErr(t, err)
	if ae.Status != status || ae.Code != code {
		t.Fatalf("error = %d %s (%v), want %d %s", ae.Status, ae.Code, err, status, code)
	}
	return ae
}

// fieldErrors returns err's validation failures by field.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve validate.Errors
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not validate.Errors", err)
	}
	out := make(map[string]string, len(ve))
	for _, f := range ve {
		out[f.Field] = f.Reason
	}
	return out
}

// count returns how many recorded entries have action.
func count(env *identitytest.Env, action string) int { return len(env.Audit.Find(action)) }

// last returns the last recorded entry with action.
func last(t *testing.T, env *identitytest.Env, action string) audit.Entry {
	t.Helper()
	es := env.Audit.Find(action)
	if len(es) == 0 {
		t.Fatalf("no %s entry; recorded %v", action, env.Audit.Actions())
	}
	return es[len(es)-1]
}

// assertNoSecret fails if any secret appears in s.
func assertNoSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains a secret (%.6s…)", what, sec)
		}
	}
	for _, marker := range []string{"$argon2id$", "rt_", "mfa_"} {
		if strings.Contains(s, marker) {
			t.Errorf("%s contains %q", what, marker)
		}
	}
}
