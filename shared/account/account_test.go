package account_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/validate"
)

func TestToHTTP(t *testing.T) {
	internal := errors.New("dynamodb: ResourceNotFoundException")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"unknown caller", fmt.Errorf("get: %w", account.ErrUnknownCaller), 401, "unauthorized"},
		{"session not found", fmt.Errorf("x: %w", account.ErrSessionNotFound), 404, "not_found"},
		{"stale", account.ErrStale, 412, "precondition_failed"},
		{"conflict", account.ErrConflict, 409, "conflict"},
		{"mfa enabled", account.ErrMFAEnabled, 409, "conflict"},
		{"no enrolment", account.ErrNoEnrolment, 409, "conflict"},
		{"validation passes through", validate.Errors{{Field: "code", Reason: "x"}}, 400, "validation_failed"},
		{"apigw error passes through", apigw.Forbidden(), 403, "forbidden"},
		{"internal stays internal", internal, 500, "internal_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := apigw.Wrap("t", obs.New(&logs, "t", slog.LevelInfo), func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
				return apigw.Response{}, account.ToHTTP(tt.err)
			})
			resp, _ := h(context.Background(), apigwtest.NewRequest(http.MethodGet, "/v1/x", ""))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := apigwtest.DecodeError(t, resp).Code; got != tt.wantCode {
				t.Fatalf("code = %q, want %q", got, tt.wantCode)
			}
			if strings.Contains(resp.Body, "dynamodb") || strings.Contains(resp.Body, "caller's user") {
				t.Fatalf("body leaks the cause: %s", resp.Body)
			}
		})
	}
	if account.ToHTTP(nil) != nil {
		t.Fatal("ToHTTP(nil) != nil")
	}
}

type payloadT struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string // "" for success
		wantOut payloadT
	}{
		{"valid", `{"name":"a","count":2}`, "", payloadT{Name: "a", Count: 2}},
		{"surrounding space", " \n{\"name\":\"a\"}\n", "", payloadT{Name: "a"}},
		{"unknown member", `{"name":"a","nmae":"b"}`, `"nmae" is not an accepted field`, payloadT{}},
		{"case mismatch", `{"Name":"a"}`, `"Name" is not an accepted field`, payloadT{}},
		{"duplicate", `{"name":"a","name":"b"}`, `"name" appears more than once`, payloadT{}},
		{"string for int", `{"count":"5"}`, `"count" has the wrong type`, payloadT{}},
		{"fraction for int", `{"count":1.5}`, `"count" has the wrong type`, payloadT{}},
		{"trailing data", `{"name":"a"} {"name":"b"}`, "not a single valid JSON object", payloadT{}},
		{"invalid utf-8", "{\"name\":\"\xff\"}", "not valid UTF-8", payloadT{}},
		{"array", `[1]`, "a JSON object is required", payloadT{}},
		{"string", `"x"`, "a JSON object is required", payloadT{}},
		{"null", `null`, "a JSON object is required", payloadT{}},
		{"empty", ``, "a JSON object is required", payloadT{}},
		{"long member name is bounded", `{"` + strings.Repeat("k", 500) + `":1}`, "…\" is not an accepted field", payloadT{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out payloadT
			err := account.DecodePayload([]byte(tt.raw), &out)
			if tt.want == "" {
				if err != nil || out != tt.wantOut {
					t.Fatalf("got %+v, %v; want %+v", out, err, tt.wantOut)
				}
				return
			}
			var ref *account.Refusal
			if !errors.As(err, &ref) || !strings.Contains(ref.Message, tt.want) {
				t.Fatalf("error = %v, want a refusal containing %q", err, tt.want)
			}
			if len(ref.Message) > 200 || strings.Contains(ref.Message, "payloadT") || strings.Contains(ref.Message, "json:") {
				t.Fatalf("message says too much: %q", ref.Message)
			}
		})
	}
}

func TestDecodePayloadNeverEchoesValues(t *testing.T) {
	const secret = "hunter2-correct-horse"
	var out struct {
		Password int `json:"password"`
	}
	err := account.DecodePayload([]byte(`{"password":"`+secret+`"}`), &out)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error = %v", err)
	}
}

func TestRunCLI(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-42"})
	tests := []struct {
		name     string
		raw      string
		opErr    error
		wantErr  string // exact operator message, "" for success
		wantLog  string // substring of the single log line
		level    string
		wantCall bool
	}{
		{name: "success", raw: `{"name":"a"}`, wantCall: true, level: "INFO", wantLog: `"msg":"invocation succeeded"`},
		{name: "bad payload", raw: `{"nam":"a"}`, wantErr: `invalid payload: "nam" is not an accepted field`, level: "INFO", wantLog: "invocation refused"},
		{name: "validation", raw: `{"name":"a"}`, wantCall: true,
			opErr:   validate.Errors{{Field: "name", Reason: "is required"}, {Field: "count", Reason: "must be positive"}},
			wantErr: "invalid payload: name is required; count must be positive", level: "INFO", wantLog: "invocation refused"},
		{name: "refusal wrapped", raw: `{"name":"a"}`, wantCall: true,
			opErr:   fmt.Errorf("suspend: %w", account.DecodePayload(nil, &payloadT{})),
			wantErr: "invalid payload: a JSON object is required", level: "INFO", wantLog: "invocation refused"},
		{name: "internal", raw: `{"name":"a"}`, wantCall: true,
			opErr:   errors.New("kms: AccessDeniedException arn:aws:kms:eu-west-1:1:key/k"),
			wantErr: "internal error; the cause is logged under request ID req-42", level: "ERROR", wantLog: `"error":"kms: AccessDeniedException`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			called := false
			r, err := account.RunCLI(ctx, obs.New(&logs, "cli", slog.LevelInfo), []byte(tt.raw), func(ctx context.Context, p payloadT) (string, error) {
				called = true
				if obs.FromContext(ctx) == nil {
					t.Error("no logger in the operation's context")
				}
				if tt.opErr != nil {
					return "", tt.opErr
				}
				return "done:" + p.Name, nil
			})
			if called != tt.wantCall {
				t.Fatalf("operation called = %v", called)
			}
			switch {
			case tt.wantErr == "" && (err != nil || r != "done:a"):
				t.Fatalf("got %q, %v", r, err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), tt.wantLog) || !strings.Contains(logs.String(), `"requestId":"req-42"`) ||
				!strings.Contains(logs.String(), `"level":"`+tt.level+`"`) {
				t.Fatalf("log (%d lines) = %s, want %q", n, logs.String(), tt.wantLog)
			}
		})
	}
}

func TestRunCLIInternalErrorWithoutRequestID(t *testing.T) {
	_, err := account.RunCLI(context.Background(), obs.New(&bytes.Buffer{}, "cli", slog.LevelInfo), []byte(`{}`),
		func(context.Context, payloadT) (int, error) { return 0, errors.New("boom") })
	if err == nil || err.Error() != "internal error; the cause is logged" {
		t.Fatalf("error = %v", err)
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	values := []any{
		account.TOTPEnrollment{Secret: secret, OTPAuthURL: "otpauth://totp/x?secret=" + secret},
		account.BootstrapRequest{Email: "a@example.com", Password: secret, DisplayName: "A"},
		account.BootstrapResult{UserID: "usr_x", TOTPSecret: secret, OTPAuthURL: "otpauth://totp/x?secret=" + secret},
	}
	for _, v := range values {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				if s := fmt.Sprintf(verb, v); strings.Contains(s, secret) {
					t.Fatalf("%s prints the secret: %s", verb, s)
				}
			}
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "value", v)
			slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "value", v)
			if strings.Contains(logs.String(), secret) {
				t.Fatalf("slog prints the secret: %s", logs.String())
			}
		})
	}
}

func TestValidateDisplayName(t *testing.T) {
	tests := []struct {
		name, in, want string // want: reason, "" when valid
	}{
		{"plain", "Ada Lovelace", ""},
		{"one character", "A", ""},
		{"80 multi-byte characters", strings.Repeat("ß", 80), ""},
		{"emoji and accents", "Zoë 🚀", ""},
		{"empty", "", "is required"},
		{"blank", " \t", "is required"},
		{"81 characters", strings.Repeat("a", 81), "must be at most 80 characters"},
		{"newline", "Ada\nL", "must not contain control characters or invalid text"},
		{"NUL", "Ada\x00", "must not contain control characters or invalid text"},
		{"bidi isolate", "Ada\u2066x", "must not contain control characters or invalid text"},
		{"invalid UTF-8", "Ada\xff", "must be valid text"},
		{"leading space", " Ada", "must not start or end with white space"},
		{"trailing space", "Ada ", "must not start or end with white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validate.New()
			account.ValidateDisplayName(v, "displayName", tt.in)
			err := v.Err()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ve validate.Errors
			if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != "displayName" || ve[0].Reason != tt.want {
				t.Fatalf("errors = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConstructorsRefuseMissingDependencies(t *testing.T) {
	now := time.Now
	tests := []struct {
		name string
		err  error
	}{
		{"profiles", second(account.NewProfiles(nil))},
		{"profile updater", second(account.NewProfileUpdater(nil, nil))},
		{"session lister", second(account.NewSessionLister(nil))},
		{"session revoker", second(account.NewSessionRevoker(nil, nil, now))},
		{"mfa", second(account.NewMFA(nil, nil, nil, now))},
		{"bootstrapper", second(account.NewBootstrapper(nil, nil, nil, nil, nil))},
		{"admin", second(account.NewAdmin(nil, nil))},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: built without dependencies", tt.name)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestCallerFrom(t *testing.T) {
	p := apigwtest.NewPrincipal(apigw.RoleMentor)
	req := apigwtest.WithPrincipal(apigwtest.NewRequest(http.MethodGet, "/v1/me", ""), p)
	req.RequestContext.Identity.SourceIP = "192.0.2.1"
	c, err := account.CallerFrom(req)
	if err != nil {
		t.Fatal(err)
	}
	want := account.Caller{UserID: p.UserID, Role: p.Role, OrgID: p.OrgID, SessionID: p.SessionID, RequestID: apigwtest.RequestID, SourceIP: "192.0.2.1"}
	if c != want {
		t.Fatalf("caller = %+v, want %+v", c, want)
	}
	req.RequestContext.Authorizer["sub"] = "usr_forged#PROFILE"
	var ae *apigw.Error
	if _, err := account.CallerFrom(req); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("forged principal: %v", err)
	}
}
