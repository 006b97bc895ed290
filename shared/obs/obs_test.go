package obs

import (
	"bytes"
	"context"
	"encoding/json/v2"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestNewWritesJSONWithFunctionAndVersion(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "health", slog.LevelInfo)
	l.Debug("hidden")
	l.Info("hello", "n", 3)
	lines := decodeLines(t, buf.Bytes())
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1 (debug filtered): %s", len(lines), buf.String())
	}
	got := lines[0]
	if got["msg"] != "hello" || got[KeyFunction] != "health" || got[KeyVersion] != Version || got["n"] != float64(3) || got["level"] != "INFO" {
		t.Fatalf("line = %v", got)
	}
}

func TestWithRequest(t *testing.T) {
	lc := &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"}
	tests := []struct {
		name      string
		ctx       context.Context
		requestID string
		wantReq   string
		wantAWS   any
	}{
		{"api and lambda ids", lambdacontext.NewContext(context.Background(), lc), "apigw-req-1", "apigw-req-1", "lambda-req-1"},
		{"lambda id stands in", lambdacontext.NewContext(context.Background(), lc), "", "lambda-req-1", nil},
		{"no lambda context", context.Background(), "apigw-req-1", "apigw-req-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := WithRequest(tt.ctx, New(&buf, "fn", slog.LevelInfo), tt.requestID)
			l.Info("x")
			got := decodeLines(t, buf.Bytes())[0]
			if got[KeyRequestID] != tt.wantReq || got[KeyAWSRequestID] != tt.wantAWS {
				t.Fatalf("line = %v", got)
			}
		})
	}
}

func TestContextRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "fn", slog.LevelInfo)
	if FromContext(NewContext(context.Background(), l)) != l {
		t.Fatal("FromContext did not return the stored logger")
	}
	if FromContext(context.Background()) == nil {
		t.Fatal("FromContext without a logger returned nil")
	}
}

func TestIsSensitiveKey(t *testing.T) {
	sensitive := []string{
		"password", "newPassword", "current_password", "Passwd", "secret", "clientSecret",
		"token", "accessToken", "refresh_token", "refresh", "idToken", "Authorization",
		"authorization", "Cookie", "Set-Cookie", "code", "otp", "otpCode", "totp", "mfaCode",
		"mfa_code", "verification-code", "X-Api-Key", "apiKey", "privateKey", "signingKey",
		"dataKey", "key", "pin", "ticket", "jwt", "credentials", "recoveryCodes", "auth",
	}
	harmless := []string{
		"statusCode", "status_code", "errorCode", "requestId", "userId", "email", "function",
		"version", "path", "method", "error", "msg", "durationMs", "role", "sid", "org",
		"kid", "keyId", "idempotencyKey", "s3Key", "authorizer", "hotpath", "shotput", "count",
	}
	for _, k := range sensitive {
		if !IsSensitiveKey(k) {
			t.Errorf("IsSensitiveKey(%q) = false, want true", k)
		}
	}
	for _, k := range harmless {
		if IsSensitiveKey(k) {
			t.Errorf("IsSensitiveKey(%q) = true, want false", k)
		}
	}
}

type secretValuer struct{ v string }

func (s secretValuer) LogValue() slog.Value { return slog.StringValue(s.v) }

func TestRedaction(t *testing.T) {
	const secret = "s3cr3t-value-that-must-not-appear"
	jwt := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c3IifQ.c2ln"
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"plain attr", func(l *slog.Logger) { l.Info("m", "password", secret) }},
		{"camel case", func(l *slog.Logger) { l.Info("m", "refreshToken", secret) }},
		{"with attrs", func(l *slog.Logger) { l.With("clientSecret", secret).Info("m") }},
		{"inside group", func(l *slog.Logger) { l.Info("m", slog.Group("login", "email", "a@b.c", "password", secret)) }},
		{"sensitive group", func(l *slog.Logger) { l.Info("m", slog.Group("credentials", "value", secret)) }},
		{"with group", func(l *slog.Logger) { l.WithGroup("token").Info("m", "value", secret) }},
		{"log valuer", func(l *slog.Logger) { l.Info("m", "otp", secretValuer{secret}) }},
		{"header map", func(l *slog.Logger) {
			l.Info("m", "headers", map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json"})
		}},
		{"multi value header map", func(l *slog.Logger) {
			l.Info("m", "headers", map[string][]string{"Cookie": {"sid=" + secret}})
		}},
		{"nested any map", func(l *slog.Logger) {
			l.Info("m", "body", map[string]any{"user": map[string]any{"password": secret}})
		}},
		{"bearer under innocent key", func(l *slog.Logger) { l.Info("m", "value", "Bearer "+secret) }},
		{"jwt under innocent key", func(l *slog.Logger) { l.Info("m", "value", jwt) }},
		{"jwt in map", func(l *slog.Logger) { l.Info("m", "ctx", map[string]string{"x": jwt}) }},
		{"otp code", func(l *slog.Logger) { l.Info("m", "code", secret) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(New(&buf, "fn", slog.LevelDebug))
			out := buf.String()
			if strings.Contains(out, secret) || strings.Contains(out, "c2ln") {
				t.Fatalf("secret logged: %s", out)
			}
			if !strings.Contains(out, Redacted) {
				t.Fatalf("no redaction marker: %s", out)
			}
		})
	}
}

func TestRedactionKeepsHarmlessValues(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "fn", slog.LevelInfo).Info("m",
		"statusCode", 404,
		"headers", map[string]string{"Content-Type": "application/json"},
		"email", "a@example.com",
		slog.Group("req", "method", "GET"),
	)
	got := decodeLines(t, buf.Bytes())[0]
	if got["statusCode"] != float64(404) || got["email"] != "a@example.com" {
		t.Fatalf("harmless values altered: %v", got)
	}
	if h, _ := got["headers"].(map[string]any); h["Content-Type"] != "application/json" {
		t.Fatalf("harmless map entry altered: %v", got)
	}
	if r, _ := got["req"].(map[string]any); r["method"] != "GET" {
		t.Fatalf("group altered: %v", got)
	}
}

func TestMetricsEmit(t *testing.T) {
	var buf bytes.Buffer
	m, err := NewMetrics(&buf, "VIP", map[string]string{"stage": "dev", "function": "auth-login"})
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return time.UnixMilli(1700000000123) }
	if err := m.Count("LoginFailed", 1); err != nil {
		t.Fatal(err)
	}
	want := `{"LoginFailed":1,"_aws":{"Timestamp":1700000000123,"CloudWatchMetrics":[{"Namespace":"VIP","Dimensions":[["function","stage"]],"Metrics":[{"Name":"LoginFailed","Unit":"Count"}]}]},"function":"auth-login","stage":"dev"}` + "\n"
	if buf.String() != want {
		t.Fatalf("EMF line\n got %s\nwant %s", buf.String(), want)
	}
}

func TestMetricsErrors(t *testing.T) {
	if _, err := NewMetrics(nil, "VIP", nil); err == nil {
		t.Error("nil writer accepted")
	}
	if _, err := NewMetrics(&bytes.Buffer{}, "", nil); err == nil {
		t.Error("empty namespace accepted")
	}
	if _, err := NewMetrics(&bytes.Buffer{}, "VIP", map[string]string{"_aws": "x"}); err == nil {
		t.Error("_aws dimension accepted")
	}
	m, err := NewMetrics(&bytes.Buffer{}, "VIP", map[string]string{"stage": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value float64
	}{{"stage", 1}, {"", 1}, {"_aws", 1}}
	for _, tt := range tests {
		if err := m.Emit(tt.name, tt.value, UnitCount); err == nil {
			t.Errorf("Emit(%q) accepted", tt.name)
		}
	}
	if err := m.Emit("x", 1.0/zero(), UnitCount); err == nil {
		t.Error("Inf accepted")
	}
	bad, _ := NewMetrics(failWriter{}, "VIP", nil)
	if err := bad.Count("x", 1); err == nil {
		t.Error("write failure not reported")
	}
}

func zero() float64 { return 0 }

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestMetricsConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	m, err := NewMetrics(&buf, "VIP", map[string]string{"function": "f"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if err := m.Count("Hits", 1); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(decodeLines(t, buf.Bytes())); n != 200 {
		t.Fatalf("got %d whole lines, want 200", n)
	}
}
