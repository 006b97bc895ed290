package apigw

import (
	"context"
	"encoding/json/v2"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vip-platform/backend/shared/obs"
)

// Handler is a route's logic: it returns a Response, or an error that Wrap
// maps to HTTP (an *Error or validate.Errors for client errors, anything
// else for a 500).
type Handler func(ctx context.Context, req events.APIGatewayProxyRequest) (Response, error)

// LambdaHandler is what lambda.Start receives.
type LambdaHandler func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Option configures Wrap.
type Option func(*wrapConfig)

type wrapConfig struct {
	origins []string
	margin  time.Duration
	metrics *obs.Metrics
}

// DefaultDeadlineMargin is how long before the Lambda deadline the
// handler's context is cancelled, leaving time to answer and log a 500
// instead of being killed mid-request (API Gateway would answer a bare 502
// with none of the platform's headers).
const DefaultDeadlineMargin = 500 * time.Millisecond

// WithAllowedOrigins enables CORS for exactly these origins (config.Base's
// AllowedOrigins). Without it no CORS header is ever sent.
func WithAllowedOrigins(origins []string) Option {
	return func(c *wrapConfig) { c.origins = slices.Clone(origins) }
}

// WithDeadlineMargin overrides DefaultDeadlineMargin.
func WithDeadlineMargin(d time.Duration) Option {
	return func(c *wrapConfig) { c.margin = d }
}

// WithMetrics emits an EMF "Fault" count for every 5xx and "ClientError"
// for every 4xx, to alarm on (Wrap never returns an error to Lambda, so the
// Lambda Errors metric stays at zero).
func WithMetrics(m *obs.Metrics) Option {
	return func(c *wrapConfig) { c.metrics = m }
}

// Wrap is the one place where handler outcomes become HTTP responses:
//
//   - a Response is sent as is, plus headers;
//   - an *Error (errors.As, so wrapped ones too) is answered with its status
//     and the error envelope; validate.Errors with 400 validation_failed;
//   - any other error, a 5xx *Error, a missing status or a panic is a 500
//     internal_error saying nothing but the request ID, the cause logged
//     once (panics with their stack).
//
// Every response carries the security headers and, for allowed origins, the
// CORS headers. Wrap always returns a nil error to the Lambda runtime: an
// error there would make API Gateway answer its own 502 without the
// envelope, the request ID or the security headers. Each request logs
// exactly one line (level by outcome) with method, resource, status and
// duration; the request logger is in ctx (obs.FromContext) for the handler.
func Wrap(name string, logger *slog.Logger, h Handler, opts ...Option) LambdaHandler {
	cfg := wrapConfig{margin: DefaultDeadlineMargin}
	for _, o := range opts {
		o(&cfg)
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		start := time.Now()
		requestID := req.RequestContext.RequestID
		if requestID == "" {
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				requestID = lc.AwsRequestID
			}
		}
		log := obs.WithRequest(ctx, logger, requestID).With(slog.String("handler", name))
		ctx = obs.NewContext(ctx, log)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 2*cfg.margin {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-cfg.margin))
			defer cancel()
		}

		resp, stack, err := invoke(ctx, h, req)
		out, outcome := render(resp, err, requestID)
		applyHeaders(&out, req, cfg.origins)

		attrs := []slog.Attr{
			slog.String("method", req.HTTPMethod),
			slog.String("resource", req.Resource),
			slog.Int("status", out.StatusCode),
			slog.Int64("durationMs", time.Since(start).Milliseconds()),
		}
		level := slog.LevelInfo
		switch {
		case outcome.internal:
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", errorText(outcome.err)))
			if stack != nil {
				attrs = append(attrs, slog.String("stack", string(stack)))
			}
			count(log, cfg.metrics, "Fault")
		case outcome.client != nil:
			attrs = append(attrs, slog.String("errorCode", outcome.client.Code))
			if c := outcome.client.Cause(); c != nil {
				attrs = append(attrs, slog.String("cause", c.Error()))
			}
			count(log, cfg.metrics, "ClientError")
		}
		log.LogAttrs(ctx, level, "request", attrs...)
		return out, nil
	}
}

func errorText(err error) string {
	if err == nil {
		return "unknown"
	}
	return err.Error()
}

func count(log *slog.Logger, m *obs.Metrics, name string) {
	if m == nil {
		return
	}
	if err := m.Count(name, 1); err != nil {
		log.Warn("emit metric", slog.String("metric", name), slog.String("error", err.Error()))
	}
}

// errPanic marks a recovered panic; the panic value follows it.
var errPanic = errors.New("handler panicked")

// invoke runs h, turning a panic into an error plus its stack.
func invoke(ctx context.Context, h Handler, req events.APIGatewayProxyRequest) (resp Response, stack []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp = Response{}
			err = fmt.Errorf("%w: %v", errPanic, p)
			stack = debug.Stack()
		}
	}()
	resp, err = h(ctx, req)
	return resp, nil, err
}

type outcome struct {
	internal bool
	err      error  // the internal error, logged
	client   *Error // the client error answered
}

// render maps a handler's result to the proxy response (without the common
// headers).
func render(resp Response, err error, requestID string) (events.APIGatewayProxyResponse, outcome) {
	if err == nil {
		if resp.Status < 100 || resp.Status > 599 {
			return internalResponse(http.StatusInternalServerError, requestID),
				outcome{internal: true, err: fmt.Errorf("handler returned status %d", resp.Status)}
		}
		out := events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: make(map[string]string, len(resp.Headers)+8)}
		for k, v := range resp.Headers {
			out.Headers[http.CanonicalHeaderKey(k)] = v
		}
		if len(resp.Body) > 0 {
			out.Body = string(resp.Body)
			if out.Headers["Content-Type"] == "" {
				out.Headers["Content-Type"] = contentTypeJSON
			}
		} else {
			delete(out.Headers, "Content-Type")
		}
		return out, outcome{}
	}

	ce := clientError(err)
	if ce == nil || ce.Status < 400 || ce.Status > 599 {
		return internalResponse(http.StatusInternalServerError, requestID), outcome{internal: true, err: err}
	}
	if ce.Status >= 500 {
		return internalResponse(ce.Status, requestID), outcome{internal: true, err: err}
	}
	body, mErr := json.Marshal(ErrorEnvelope{Error: ErrorBody{
		Code: ce.Code, Message: ce.Message, Fields: ce.Fields, RequestID: requestID,
	}}, marshalOptions)
	if mErr != nil {
		return internalResponse(http.StatusInternalServerError, requestID),
			outcome{internal: true, err: fmt.Errorf("marshal error envelope: %w (for %w)", mErr, err)}
	}
	out := events.APIGatewayProxyResponse{StatusCode: ce.Status, Headers: make(map[string]string, 12), Body: string(body)}
	for k, v := range ce.Header {
		out.Headers[http.CanonicalHeaderKey(k)] = v
	}
	out.Headers["Content-Type"] = contentTypeJSON
	if ce.RetryAfter > 0 {
		out.Headers["Retry-After"] = retryAfterSeconds(ce.RetryAfter)
	}
	if len(ce.Allow) > 0 {
		out.Headers["Allow"] = joinMethods(ce.Allow)
	}
	return out, outcome{client: ce}
}

// internalResponse is the only shape of a 5xx: code and request ID.
func internalResponse(status int, requestID string) events.APIGatewayProxyResponse {
	body, err := json.Marshal(internalBody(requestID), marshalOptions)
	if err != nil {
		// A request ID that is not valid UTF-8 cannot be marshaled; answer
		// without it rather than not at all.
		body = []byte(`{"error":{"code":"internal_error","message":"An internal error occurred."}}`)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": contentTypeJSON},
		Body:       string(body),
	}
}

// applyHeaders sets the security headers (overriding anything the handler
// set under those names) and CORS for an allowed Origin.
func applyHeaders(out *events.APIGatewayProxyResponse, req events.APIGatewayProxyRequest, origins []string) {
	if out.Headers == nil {
		out.Headers = make(map[string]string, 8)
	}
	for k, v := range securityHeaders {
		out.Headers[k] = v
	}
	// CORS headers are Wrap's alone: a handler cannot widen them.
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods"} {
		delete(out.Headers, k)
	}
	if len(origins) == 0 {
		return
	}
	// The answer depends on Origin whether or not it matched, so shared
	// caches must key on it.
	out.Headers["Vary"] = "Origin"
	origin := Header(req, "Origin")
	if origin != "" && slices.Contains(origins, origin) {
		out.Headers["Access-Control-Allow-Origin"] = origin
		out.Headers["Access-Control-Expose-Headers"] = corsExposeHeaders
	}
}
