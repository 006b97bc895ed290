package apigw_test

import (
	"bytes"
	"context"
	"encoding/json/v2"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/validate"
)

const internalSecret = "dynamodb: arn:aws:dynamodb:eu-west-1:123456789012:table/vip-prod-main ResourceNotFoundException"

func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestWrapOutcomes(t *testing.T) {
	type body = map[string]any
	tests := []struct {
		name        string
		h           apigw.Handler
		wantStatus  int
		wantCode    string // error code; "" for success
		wantHeaders map[string]string
		wantBody    string // exact body for successes
		wantLevel   string
	}{
		{name: "200 json", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.JSON(http.StatusOK, body{"b": 2, "a": 1})
		}, wantStatus: 200, wantBody: `{"a":1,"b":2}`, wantHeaders: map[string]string{"Content-Type": "application/json"}, wantLevel: "INFO"},
		{name: "201 with location", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			r, err := apigw.JSON(http.StatusCreated, body{"id": "prg_x"})
			return r.WithHeader("location", "/v1/programs/prg_x"), err
		}, wantStatus: 201, wantBody: `{"id":"prg_x"}`, wantHeaders: map[string]string{"Location": "/v1/programs/prg_x"}, wantLevel: "INFO"},
		{name: "204", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.NoContent()
		}, wantStatus: 204, wantBody: ``, wantHeaders: map[string]string{"Content-Type": ""}, wantLevel: "INFO"},
		{name: "hand-built body defaults to json", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{Status: http.StatusOK, Body: []byte(`[]`)}, nil
		}, wantStatus: 200, wantBody: `[]`, wantHeaders: map[string]string{"Content-Type": "application/json"}, wantLevel: "INFO"},
		{name: "handler cannot weaken security headers", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			r, err := apigw.JSON(http.StatusOK, body{})
			return r.WithHeader("Cache-Control", "public, max-age=3600").WithHeader("access-control-allow-origin", "*"), err
		}, wantStatus: 200, wantBody: `{}`, wantHeaders: map[string]string{"Cache-Control": "no-store", "Access-Control-Allow-Origin": ""}, wantLevel: "INFO"},
		{name: "400 bad request", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.BadRequest("Dates are reversed.")
		}, wantStatus: 400, wantCode: "bad_request", wantLevel: "INFO"},
		{name: "validate errors", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			v := validate.New()
			v.Required("email", "")
			return apigw.Response{}, fmt.Errorf("create user: %w", v.Err())
		}, wantStatus: 400, wantCode: "validation_failed", wantLevel: "INFO"},
		{name: "401 wrapped", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, fmt.Errorf("login: %w", apigw.Unauthorized().WithCause(errors.New("token expired")))
		}, wantStatus: 401, wantCode: "unauthorized", wantHeaders: map[string]string{"Www-Authenticate": "Bearer"}, wantLevel: "INFO"},
		{name: "403", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.Forbidden()
		}, wantStatus: 403, wantCode: "forbidden", wantLevel: "INFO"},
		{name: "404 for denied", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.NotFoundForDenied(errors.New("program of another org"))
		}, wantStatus: 404, wantCode: "not_found", wantLevel: "INFO"},
		{name: "405", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.MethodNotAllowed("GET", "HEAD")
		}, wantStatus: 405, wantCode: "method_not_allowed", wantHeaders: map[string]string{"Allow": "GET, HEAD"}, wantLevel: "INFO"},
		{name: "409", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.Conflict("Already applied.")
		}, wantStatus: 409, wantCode: "conflict", wantLevel: "INFO"},
		{name: "412", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.PreconditionFailed("Changed since you read it.")
		}, wantStatus: 412, wantCode: "precondition_failed", wantLevel: "INFO"},
		{name: "413", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.PayloadTooLarge(1024)
		}, wantStatus: 413, wantCode: "payload_too_large", wantLevel: "INFO"},
		{name: "415", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.UnsupportedMediaType()
		}, wantStatus: 415, wantCode: "unsupported_media_type", wantLevel: "INFO"},
		{name: "429 retry after rounds up", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.TooManyRequests(1500 * time.Millisecond)
		}, wantStatus: 429, wantCode: "rate_limited", wantHeaders: map[string]string{"Retry-After": "2"}, wantLevel: "INFO"},
		{name: "429 retry after at least 1", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.TooManyRequests(time.Millisecond)
		}, wantStatus: 429, wantCode: "rate_limited", wantHeaders: map[string]string{"Retry-After": "1"}, wantLevel: "INFO"},
		{name: "custom code", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.NewError(401, "invalid_credentials", "Email or password is incorrect.")
		}, wantStatus: 401, wantCode: "invalid_credentials", wantLevel: "INFO"},
		{name: "500 plain error", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, fmt.Errorf("get item: %w", errors.New(internalSecret))
		}, wantStatus: 500, wantCode: "internal_error", wantLevel: "ERROR"},
		{name: "5xx apigw error says nothing more", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.NewError(503, "db_down", internalSecret)
		}, wantStatus: 503, wantCode: "internal_error", wantLevel: "ERROR"},
		{name: "non error status in error", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.NewError(200, "ok", internalSecret)
		}, wantStatus: 500, wantCode: "internal_error", wantLevel: "ERROR"},
		{name: "missing status", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{Body: []byte(internalSecret)}, nil
		}, wantStatus: 500, wantCode: "internal_error", wantLevel: "ERROR"},
		{name: "unmarshalable response", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.JSON(http.StatusOK, body{"bad": "\xff" + internalSecret})
		}, wantStatus: 500, wantCode: "internal_error", wantLevel: "ERROR"},
		{name: "panic", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			panic(internalSecret)
		}, wantStatus: 500, wantCode: "internal_error", wantLevel: "ERROR"},
		{name: "nil pointer panic", h: func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			var m map[string]*int
			return apigw.JSON(200, *m["x"])
		}, wantStatus: 500, wantCode: "internal_error", wantLevel: "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := apigw.Wrap("test", obs.New(&logs, "fn", slog.LevelDebug), tt.h)
			resp, err := h(context.Background(), apigwtest.NewRequest(http.MethodGet, "/v1/x", ""))
			if err != nil {
				t.Fatalf("Wrap returned error %v; it must always answer", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			apigwtest.AssertSecurityHeaders(t, resp)
			for k, v := range tt.wantHeaders {
				if got := resp.Headers[k]; got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.wantCode == "" {
				if resp.Body != tt.wantBody {
					t.Errorf("body = %q, want %q", resp.Body, tt.wantBody)
				}
			} else {
				eb := apigwtest.DecodeError(t, resp)
				if eb.Code != tt.wantCode || eb.RequestID != apigwtest.RequestID || eb.Message == "" {
					t.Errorf("envelope = %+v, want code %s and request ID", eb, tt.wantCode)
				}
				if resp.StatusCode >= 500 && (eb.Message != "An internal error occurred." || len(eb.Fields) != 0) {
					t.Errorf("5xx envelope says more than internal_error: %+v", eb)
				}
			}
			if strings.Contains(resp.Body, internalSecret) || strings.Contains(resp.Body, "dynamodb") || strings.Contains(resp.Body, "goroutine") {
				t.Errorf("internal detail in body: %s", resp.Body)
			}

			lines := logLines(t, &logs)
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want exactly 1:\n%s", len(lines), logs.String())
			}
			l := lines[0]
			if l["level"] != tt.wantLevel || l[obs.KeyRequestID] != apigwtest.RequestID || l["status"] != float64(tt.wantStatus) || l["handler"] != "test" {
				t.Errorf("log line = %v", l)
			}
			if tt.wantLevel == "ERROR" {
				if errText, _ := l["error"].(string); errText == "" {
					t.Errorf("internal error not logged: %v", l)
				}
			}
		})
	}
}

func TestWrapLogsCauseAndStack(t *testing.T) {
	tests := []struct {
		name string
		h    apigw.Handler
		want []string // substrings of the single log line
	}{
		{"internal error text", func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, errors.New(internalSecret)
		}, []string{internalSecret}},
		{"panic with stack", func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			panic("boom")
		}, []string{"handler panicked: boom", `"stack":"goroutine`}},
		{"denial cause", func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			return apigw.Response{}, apigw.NotFoundForDenied(errors.New("usr_a is not in org_b"))
		}, []string{`"cause":"access denied, answered 404: usr_a is not in org_b"`, `"errorCode":"not_found"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := apigw.Wrap("test", obs.New(&logs, "fn", slog.LevelInfo), tt.h)
			if _, err := h(context.Background(), apigwtest.NewRequest(http.MethodGet, "/v1/x", "")); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log %s lacks %q", logs.String(), w)
				}
			}
		})
	}
}

func TestWrapValidationFields(t *testing.T) {
	h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
		v := validate.New()
		v.Required("email", "")
		v.Length("name", "", 1, 100)
		return apigw.Response{}, v.Err()
	})
	resp, _ := h(context.Background(), apigwtest.NewRequest(http.MethodPost, "/v1/x", ""))
	want := `{"error":{"code":"validation_failed","message":"Some fields are invalid.","fields":[{"field":"email","reason":"is required"},{"field":"name","reason":"must not be empty"}],"requestId":"apigwtest-request-id"}}`
	if resp.Body != want {
		t.Fatalf("body\n got %s\nwant %s", resp.Body, want)
	}
}

func TestWrapStrictBodyEndToEnd(t *testing.T) {
	type in struct {
		Email string `json:"email"`
	}
	h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(_ context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
		var v in
		if err := apigw.Decode(req, &v); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(200, v)
	})
	resp, _ := h(context.Background(), apigwtest.NewRequest(http.MethodPost, "/v1/x", `{"email":"a","role":"admin"}`))
	want := `{"error":{"code":"invalid_body","message":"The request body is invalid.","fields":[{"field":"role","reason":"is not an accepted field"}],"requestId":"apigwtest-request-id"}}`
	if resp.StatusCode != 400 || resp.Body != want {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
}

func TestWrapCORS(t *testing.T) {
	allowed := []string{"https://app.example.com", "http://localhost:5173"}
	tests := []struct {
		name       string
		origins    []string
		headers    map[string]string
		multi      map[string][]string
		fail       bool
		wantOrigin string
		wantVary   string
	}{
		{name: "allowed origin", origins: allowed, headers: map[string]string{"Origin": "https://app.example.com"}, wantOrigin: "https://app.example.com", wantVary: "Origin"},
		{name: "allowed origin lower-case header", origins: allowed, headers: map[string]string{"origin": "http://localhost:5173"}, wantOrigin: "http://localhost:5173", wantVary: "Origin"},
		{name: "allowed origin on error", origins: allowed, headers: map[string]string{"Origin": "https://app.example.com"}, fail: true, wantOrigin: "https://app.example.com", wantVary: "Origin"},
		{name: "other origin", origins: allowed, headers: map[string]string{"Origin": "https://evil.example.com"}, wantVary: "Origin"},
		{name: "suffix trick", origins: allowed, headers: map[string]string{"Origin": "https://app.example.com.evil.com"}, wantVary: "Origin"},
		{name: "case differs", origins: allowed, headers: map[string]string{"Origin": "https://APP.example.com"}, wantVary: "Origin"},
		{name: "null origin", origins: allowed, headers: map[string]string{"Origin": "null"}, wantVary: "Origin"},
		{name: "repeated origin", origins: allowed, headers: map[string]string{"Origin": "https://app.example.com"}, multi: map[string][]string{"Origin": {"https://evil.example.com", "https://app.example.com"}}, wantVary: "Origin"},
		{name: "no origin header", origins: allowed, wantVary: "Origin"},
		{name: "cors not configured", headers: map[string]string{"Origin": "https://app.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
				if tt.fail {
					return apigw.Response{}, errors.New("x")
				}
				return apigw.JSON(200, map[string]string{})
			}, apigw.WithAllowedOrigins(tt.origins))
			req := apigwtest.NewRequest(http.MethodGet, "/v1/x", "")
			for k, v := range tt.headers {
				req.Headers[k] = v
			}
			req.MultiValueHeaders = tt.multi
			resp, _ := h(context.Background(), req)
			apigwtest.AssertSecurityHeaders(t, resp)
			if got := resp.Headers["Access-Control-Allow-Origin"]; got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if got := resp.Headers["Vary"]; got != tt.wantVary {
				t.Errorf("Vary = %q, want %q", got, tt.wantVary)
			}
			if tt.wantOrigin == "" {
				for k := range resp.Headers {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("CORS header %s sent for a disallowed origin", k)
					}
				}
			} else if resp.Headers["Access-Control-Allow-Credentials"] != "" {
				t.Error("credentials allowed")
			}
		})
	}
}

func TestWrapShortensDeadline(t *testing.T) {
	original := time.Now().Add(10 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), original)
	defer cancel()
	var got time.Time
	h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(ctx context.Context, _ events.APIGatewayProxyRequest) (apigw.Response, error) {
		got, _ = ctx.Deadline()
		return apigw.NoContent()
	}, apigw.WithDeadlineMargin(time.Second))
	if _, err := h(ctx, apigwtest.NewRequest(http.MethodGet, "/v1/x", "")); err != nil {
		t.Fatal(err)
	}
	if want := original.Add(-time.Second); !got.Equal(want) {
		t.Fatalf("handler deadline = %v, want %v", got, want)
	}
}

func TestWrapAnswersBeforeLambdaDeadline(t *testing.T) {
	// A handler stuck on a slow dependency is cut off by the shortened
	// context and answered with a 500 while the invocation is still alive.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(ctx context.Context, _ events.APIGatewayProxyRequest) (apigw.Response, error) {
		<-ctx.Done()
		return apigw.Response{}, fmt.Errorf("slow dependency: %w", ctx.Err())
	}, apigw.WithDeadlineMargin(900*time.Millisecond))
	resp, err := h(ctx, apigwtest.NewRequest(http.MethodGet, "/v1/x", ""))
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("got %d %v, want 500", resp.StatusCode, err)
	}
	if ctx.Err() != nil {
		t.Fatal("answered only after the invocation deadline")
	}
}

func TestWrapRequestLoggerInContext(t *testing.T) {
	var logs bytes.Buffer
	lc := &lambdacontext.LambdaContext{AwsRequestID: "lambda-id"}
	h := apigw.Wrap("test", obs.New(&logs, "fn", slog.LevelInfo), func(ctx context.Context, _ events.APIGatewayProxyRequest) (apigw.Response, error) {
		obs.FromContext(ctx).Info("inside", "password", "hunter2")
		return apigw.NoContent()
	})
	if _, err := h(lambdacontext.NewContext(context.Background(), lc), apigwtest.NewRequest(http.MethodGet, "/v1/x", "")); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, &logs)
	if len(lines) != 2 {
		t.Fatalf("lines = %d", len(lines))
	}
	in := lines[0]
	if in[obs.KeyRequestID] != apigwtest.RequestID || in[obs.KeyAWSRequestID] != "lambda-id" || in["password"] != obs.Redacted {
		t.Fatalf("handler log line = %v", in)
	}
}

func TestWrapFallsBackToLambdaRequestID(t *testing.T) {
	lc := &lambdacontext.LambdaContext{AwsRequestID: "lambda-id"}
	h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
		return apigw.Response{}, apigw.NotFound()
	})
	req := apigwtest.NewRequest(http.MethodGet, "/v1/x", "")
	req.RequestContext.RequestID = ""
	resp, _ := h(lambdacontext.NewContext(context.Background(), lc), req)
	if eb := apigwtest.DecodeError(t, resp); eb.RequestID != "lambda-id" {
		t.Fatalf("requestId = %q", eb.RequestID)
	}
}

func TestWrapMetrics(t *testing.T) {
	var out bytes.Buffer
	m, err := obs.NewMetrics(&out, "VIP", map[string]string{"function": "fn"})
	if err != nil {
		t.Fatal(err)
	}
	results := []error{nil, apigw.NotFound(), errors.New("x")}
	for _, r := range results {
		h := apigw.Wrap("test", obs.New(&bytes.Buffer{}, "fn", slog.LevelInfo), func(context.Context, events.APIGatewayProxyRequest) (apigw.Response, error) {
			if r != nil {
				return apigw.Response{}, r
			}
			return apigw.NoContent()
		}, apigw.WithMetrics(m))
		if _, err := h(context.Background(), apigwtest.NewRequest(http.MethodGet, "/v1/x", "")); err != nil {
			t.Fatal(err)
		}
	}
	s := out.String()
	if strings.Count(s, "\n") != 2 || !strings.Contains(s, `"ClientError":1`) || !strings.Contains(s, `"Fault":1`) {
		t.Fatalf("metrics = %s", s)
	}
}
