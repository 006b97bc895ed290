package main

import (
	"bytes"
	"context"
	"encoding/json/v2"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/account/accounttest"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

const goodPassword = "violet-harbor-7-quartz-lantern"

func newHasher(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.NewHasher(password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newHandler(t *testing.T, env *accounttest.Env, sealer account.Sealer) *Handler {
	t.Helper()
	b, err := account.NewBootstrapper(env.Store, newHasher(t), PasswordViolation, sealer, env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(b, env.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// invoke runs the handler the way the Lambda runtime does: the payload
// bytes go through lambda's own decoding into the handler's argument, and
// the result is encoded as the CLI's out.json.
func invoke(t *testing.T, h *Handler, payload string) (account.BootstrapResult, error) {
	t.Helper()
	ctx := lambdacontext.NewContext(accounttest.Ctx(t), &lambdacontext.LambdaContext{AwsRequestID: "cli-request-1"})
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(payload))
	if err != nil {
		return account.BootstrapResult{}, err
	}
	var r account.BootstrapResult
	if err := json.Unmarshal(out, &r, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return r, nil
}

func payload(email, pw, name string) string {
	b, _ := json.Marshal(account.BootstrapRequest{Email: email, Password: pw, DisplayName: name})
	return string(b)
}

func TestBootstrapOnce(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env, env.Envelope())

	r, err := invoke(t, h, payload("First.Admin@Example.com", goodPassword, "First Admin"))
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if !ids.Valid(r.UserID, ids.User) || r.Email != "First.Admin@Example.com" || r.Message != account.BootstrapMessage {
		t.Fatalf("result = %+v", r)
	}
	link, err := url.Parse(r.OTPAuthURL)
	if err != nil || link.Scheme != "otpauth" || link.Query().Get("secret") != r.TOTPSecret || len(r.TOTPSecret) < 32 {
		t.Fatalf("otpauth URL %q / secret length %d", r.OTPAuthURL, len(r.TOTPSecret))
	}

	u, err := env.Store.GetUser(accounttest.Ctx(t), r.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != apigw.RoleAdmin || !u.Active() || !u.MFA.Enabled || len(u.MFA.PendingCiphertext) != 0 || u.EmailNorm != "first.admin@example.com" {
		t.Fatalf("stored admin = %+v", u)
	}
	if bytes.Contains(u.MFA.SecretCiphertext, []byte(r.TOTPSecret)) {
		t.Fatal("stored ciphertext contains the secret")
	}
	secret, err := env.Envelope().Open(accounttest.Ctx(t), u.MFA.SecretCiphertext, account.TOTPEncryptionContext(u.ID))
	if err != nil || string(secret) != r.TOTPSecret {
		t.Fatalf("stored secret does not open to the returned one: %v", err)
	}
	if _, err := env.Envelope().Open(accounttest.Ctx(t), u.MFA.SecretCiphertext, account.TOTPEncryptionContext(ids.New(ids.User))); err == nil {
		t.Fatal("stored secret opens under another user's context")
	}
	if ok, err := newHasher(t).Verify(goodPassword, u.PasswordHash); !ok || err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("password hash %q does not verify: %v", u.PasswordHash, err)
	}
	success := env.Audit.Find(account.ActionBootstrap)
	if len(success) != 1 || success[0].Actor != "system" || success[0].Outcome != "success" || success[0].Target != r.UserID || success[0].RequestID != "cli-request-1" {
		t.Fatalf("audit = %+v", env.Audit.Entries())
	}

	_, err = invoke(t, h, payload("second@example.com", goodPassword, "Second Admin"))
	if err == nil || !strings.Contains(err.Error(), "platform already bootstrapped") {
		t.Fatalf("second bootstrap: %v", err)
	}
	if _, gerr := env.Store.GetUserByEmail(accounttest.Ctx(t), "second@example.com"); !errors.Is(gerr, store.ErrNotFound) {
		t.Fatalf("a refused bootstrap created a user: %v", gerr)
	}
	entries := env.Audit.Find(account.ActionBootstrap)
	if len(entries) != 2 || entries[1].Outcome != "denied" || entries[1].Target != "platform" || entries[1].Actor != "system" {
		t.Fatalf("refusal not audited: %+v", entries)
	}
	for _, where := range []string{env.Logs.String(), auditText(env)} {
		if strings.Contains(where, r.TOTPSecret) || strings.Contains(where, goodPassword) {
			t.Fatalf("secret or password in logs or audit: %s", where)
		}
	}
}

func auditText(env *accounttest.Env) string {
	b, _ := json.Marshal(env.Audit.Entries())
	return string(b)
}

func TestConcurrentBootstraps(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env, env.Envelope())
	const n = 5
	results := make([]account.BootstrapResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			email := "admin" + string(rune('a'+i)) + "@example.com"
			results[i], errs[i] = invoke(t, h, payload(email, goodPassword, "Admin"))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			if _, gerr := env.Store.GetUser(accounttest.Ctx(t), results[i].UserID); gerr != nil {
				t.Fatalf("winner not stored: %v", gerr)
			}
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "already bootstrapped") && !strings.Contains(msg, "concurrent change") {
			t.Fatalf("loser %d: %v", i, err)
		}
		if _, gerr := env.Store.GetUserByEmail(accounttest.Ctx(t), "admin"+string(rune('a'+i))+"@example.com"); !errors.Is(gerr, store.ErrNotFound) {
			t.Fatalf("loser %d left a user behind: %v", i, gerr)
		}
	}
	if won != 1 {
		t.Fatalf("%d bootstraps succeeded, want exactly 1 (errors %v)", won, errs)
	}
	if _, err := invoke(t, h, payload("late@example.com", goodPassword, "Admin")); err == nil || !strings.Contains(err.Error(), "already bootstrapped") {
		t.Fatalf("bootstrap after the race: %v", err)
	}
}

func TestBootstrapRefusesBadPayloads(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string // substring of the operator's error
	}{
		{"misspelled member", `{"emial":"a@example.com","password":"` + goodPassword + `","displayName":"A"}`, `"emial" is not an accepted field`},
		{"role smuggled in", `{"email":"a@example.com","password":"` + goodPassword + `","displayName":"A","role":"intern"}`, `"role" is not an accepted field`},
		{"case-mismatched member", `{"Email":"a@example.com","password":"` + goodPassword + `","displayName":"A"}`, `"Email" is not an accepted field`},
		{"duplicate member", `{"email":"a@example.com","email":"b@example.com","password":"` + goodPassword + `","displayName":"A"}`, `"email" appears more than once`},
		{"wrong type", `{"email":"a@example.com","password":12345678901234,"displayName":"A"}`, `"password" has the wrong type`},
		{"not an object", `["a@example.com"]`, "a JSON object is required"},
		{"null", `null`, "a JSON object is required"},
		{"empty object", `{}`, "email is required; displayName is required; password is required"},
		{"invalid email", payload("not-an-email", goodPassword, "A"), "email must be a valid email address"},
		{"unicode email", payload("admín@example.com", goodPassword, "A"), "email must be"},
		{"short password", payload("a@example.com", "short", "A"), "password must be at least 12 characters"},
		{"common password", payload("a@example.com", "password1234", "A"), "password is too common"},
		{"password from the email", payload("lanternmaker@example.com", "lanternmaker-2031!", "A"), "password must not contain your email or name"},
		{"control character in name", payload("a@example.com", goodPassword, "Adm\u0000in"), "displayName must not contain control characters"},
		{"name too long", payload("a@example.com", goodPassword, strings.Repeat("n", 81)), "displayName must be at most 80 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := accounttest.New(t)
			h := newHandler(t, env, env.Envelope())
			_, err := invoke(t, h, tt.payload)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			for _, leak := range []string{goodPassword, "password1234", "lanternmaker-2031!", "json:", "Go type", "account."} {
				if strings.Contains(err.Error(), leak) {
					t.Fatalf("error %q leaks %q", err, leak)
				}
			}
			if len(env.Audit.Entries()) != 0 {
				t.Fatalf("a refused payload reached the store: %+v", env.Audit.Entries())
			}
		})
	}
}

func TestBootstrapEmailTaken(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env, env.Envelope())
	intern := env.User(t)
	_, err := invoke(t, h, payload(strings.ToUpper(intern.Email), goodPassword, "Admin"))
	if err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("error = %v", err)
	}
	// Nothing was bootstrapped: a retry with another address works.
	if _, err := invoke(t, h, payload("admin@example.com", goodPassword, "Admin")); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

type failingSealer struct{}

func (failingSealer) Seal(context.Context, []byte, map[string]string) ([]byte, error) {
	return nil, errors.New("operation error KMS: GenerateDataKey, AccessDeniedException: arn:aws:kms:eu-west-1:123456789012:key/secret-key-id")
}

func TestBootstrapInternalErrorSaysNothing(t *testing.T) {
	env := accounttest.New(t)
	h := newHandler(t, env, failingSealer{})
	_, err := invoke(t, h, payload("admin@example.com", goodPassword, "Admin"))
	if err == nil || err.Error() != "internal error; the cause is logged under request ID cli-request-1" {
		t.Fatalf("error = %v", err)
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, "AccessDeniedException") || strings.Count(logs, "\n") != 1 || strings.Contains(logs, goodPassword) {
		t.Fatalf("want the cause logged once, without the password:\n%s", logs)
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range accounttest.LoadPayloads(t, "../../events/admin-bootstrap") {
		t.Run(ev.Name, func(t *testing.T) {
			env := accounttest.New(t)
			r, err := invoke(t, newHandler(t, env, env.Envelope()), string(ev.Raw))
			if err != nil || r.UserID == "" {
				t.Fatalf("sample %s: %+v, %v", ev.Name, r, err)
			}
		})
	}
}
