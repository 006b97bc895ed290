package restapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vip-platform/backend/infra/template"
)

var errBadRequestBody = gatewayError{typ: "BAD_REQUEST_BODY", status: http.StatusBadRequest,
	message: msg("Invalid request body"), body: `{"message":"Invalid request body"}`, errorType: "BadRequestException"}

// requestLog collects what the per-request log line reports. It holds no
// header values, query strings or bodies.
type requestLog struct {
	resource     string
	function     string
	invoked      bool
	cold         bool
	authorizer   string
	authInvoked  bool
	authCached   bool
	authCold     bool
	failure      string
	preflight    bool
	throttled    bool
	integration  time.Duration
	lambdaReqID  string
	lambdaErrTyp string
}

// ServeHTTP answers one request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	in := newInbound(r, g.now())
	// API Gateway's spelling, kept verbatim (not canonicalized).
	w.Header()["x-amzn-RequestId"] = []string{in.requestID}
	w.Header()["x-amz-apigw-id"] = []string{in.extendedID}
	var lg requestLog
	status := g.serve(w, r, in, &lg)
	g.logRequest(r.Context(), in, status, time.Since(began), &lg)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, in *inbound, lg *requestLog) int {
	if r.ContentLength > MaxBodyBytes {
		lg.failure = "request body over 10 MB"
		return g.writeGatewayError(w, in, nil, "", &errTooLarge)
	}
	var n *node
	var params map[string]string
	if segs, ok := splitPath(r.URL.EscapedPath()); ok {
		n, params = g.root.match(segs)
	}
	if n == nil {
		lg.failure = "no resource"
		return g.writeGatewayError(w, in, nil, "", &errMissingToken)
	}
	lg.resource = n.resource
	if r.Method == http.MethodOptions && g.cors != nil && len(n.methods) > 0 && n.methods[http.MethodOptions] == nil {
		return g.preflight(w, r, in, n, params, lg)
	}
	rt := n.lookup(r.Method)
	if rt == nil {
		lg.failure = "method not declared"
		return g.writeGatewayError(w, in, params, n.resource, &errMissingToken)
	}
	lg.function = rt.function
	if rt.throttle != nil && !rt.throttle.allow(g.now()) {
		lg.throttled = true
		return g.writeGatewayError(w, in, params, rt.resource, &errThrottled)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			lg.failure = "request body over 10 MB"
			return g.writeGatewayError(w, in, params, rt.resource, &errTooLarge)
		}
		lg.failure = "read body: " + err.Error()
		return g.writeGatewayError(w, in, params, rt.resource, &errBadRequestBody)
	}
	var authz map[string]any
	if rt.auth != nil {
		out := g.runAuthorizer(r.Context(), rt.auth, in, rt, params, lg)
		if out.fail != nil {
			return g.writeGatewayError(w, in, params, rt.resource, out.fail)
		}
		authz = out.authz
	}
	payload, err := json.Marshal(g.proxyEvent(in, rt, params, body, authz))
	if err != nil {
		lg.failure = "encode event: " + err.Error()
		return g.writeGatewayError(w, in, params, rt.resource, &errBadGateway)
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	start := time.Now()
	res, err := g.invoker.Invoke(ctx, rt.function, payload)
	lg.integration = time.Since(start)
	lg.invoked = true
	if err != nil {
		lg.failure = "invoke: " + err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
			return g.writeGatewayError(w, in, params, rt.resource, &errIntegrationTimeout)
		}
		return g.writeGatewayError(w, in, params, rt.resource, &errBadGateway)
	}
	lg.cold, lg.lambdaReqID = res.Cold, res.RequestID
	if fe := res.FunctionError; fe != nil {
		// The message may carry details the function meant to keep
		// internal; the type is enough to tell what happened.
		lg.failure, lg.lambdaErrTyp = "function error", fe.ErrorType
		return g.writeGatewayError(w, in, params, rt.resource, &errBadGateway)
	}
	pr, err := decodeProxyResponse(res.Payload)
	if err != nil {
		lg.failure = err.Error()
		return g.writeGatewayError(w, in, params, rt.resource, &errBadGateway)
	}
	status, err := g.writeProxyResponse(w, in, pr)
	if err != nil {
		lg.failure = err.Error()
		return g.writeGatewayError(w, in, params, rt.resource, &errBadGateway)
	}
	return status
}

// preflight answers SAM's generated OPTIONS method: a mock integration, so
// no function runs. SAM guards it with the default authorizer unless
// Auth.AddDefaultAuthorizerToCorsPreflight is false.
func (g *Gateway) preflight(w http.ResponseWriter, r *http.Request, in *inbound, n *node, params map[string]string, lg *requestLog) int {
	lg.preflight = true
	if g.preflightAuth != nil {
		rt := &route{resource: n.resource, resourceID: n.resourceID, method: http.MethodOptions}
		if out := g.runAuthorizer(r.Context(), g.preflightAuth, in, rt, params, lg); out.fail != nil {
			return g.writeGatewayError(w, in, params, n.resource, out.fail)
		}
	}
	g.cors.write(w, n)
	return http.StatusOK
}

func (g *Gateway) runAuthorizer(ctx context.Context, az *authorizer, in *inbound, rt *route, params map[string]string, lg *requestLog) authOutcome {
	out := g.authorize(ctx, az, in, rt, params)
	lg.authorizer, lg.authInvoked, lg.authCached, lg.authCold = az.name, out.invoked, out.cached, out.cold
	if out.fail != nil {
		lg.failure = out.reason
	}
	return out
}

func (g *Gateway) logRequest(ctx context.Context, in *inbound, status int, d time.Duration, lg *requestLog) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("requestId", in.requestID),
		slog.String("method", in.method),
		slog.String("path", in.path),
		slog.Int("status", status),
		slog.Duration("duration", d),
	}
	if lg.resource != "" {
		attrs = append(attrs, slog.String("resource", lg.resource))
	}
	if lg.function != "" {
		attrs = append(attrs, slog.String("function", lg.function))
	}
	if lg.invoked {
		start := "warm"
		if lg.cold {
			start = "cold"
		}
		attrs = append(attrs, slog.String("start", start), slog.Duration("integration", lg.integration))
		if lg.lambdaReqID != "" {
			attrs = append(attrs, slog.String("lambdaRequestId", lg.lambdaReqID))
		}
	}
	if lg.authorizer != "" {
		attrs = append(attrs, slog.String("authorizer", lg.authorizer), slog.Bool("authorizerCached", lg.authCached))
		if lg.authInvoked {
			attrs = append(attrs, slog.Bool("authorizerCold", lg.authCold))
		}
	}
	if lg.preflight {
		attrs = append(attrs, slog.Bool("preflight", true))
	}
	if lg.throttled {
		attrs = append(attrs, slog.Bool("throttled", true))
	}
	if lg.failure != "" {
		attrs = append(attrs, slog.String("reason", lg.failure))
	}
	if lg.lambdaErrTyp != "" {
		attrs = append(attrs, slog.String("errorType", lg.lambdaErrTyp))
	}
	g.log.LogAttrs(ctx, level, "rest api request", attrs...)
}

// binaryMediaTypes reads BinaryMediaTypes, where SAM writes '/' as "~1".
func binaryMediaTypes(t *template.Template, api apiConfig, env template.Env) ([]string, error) {
	raw, ok := api.Properties["BinaryMediaTypes"]
	if !ok {
		return nil, nil
	}
	resolved, err := t.Resolve(raw, env)
	if err != nil {
		return nil, fmt.Errorf("restapi: api %s BinaryMediaTypes: %w", api.LogicalID, err)
	}
	list, ok := resolved.([]any)
	if !ok {
		return nil, fmt.Errorf("restapi: api %s BinaryMediaTypes is not a list", api.LogicalID)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("restapi: api %s BinaryMediaTypes holds a non-string", api.LogicalID)
		}
		out = append(out, strings.ToLower(strings.ReplaceAll(s, "~1", "/")))
	}
	return out, nil
}
