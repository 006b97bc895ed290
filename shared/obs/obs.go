// Package obs is the observability kit every function uses: a JSON slog
// logger that redacts sensitive attributes, a request-scoped logger carried in
// the context, and CloudWatch Embedded Metric Format (EMF) lines.
//
// Lambda sends a function's stdout to CloudWatch Logs, where JSON lines are
// queryable with Logs Insights and EMF lines become metrics without any API
// call, so both go to os.Stdout in production.
package obs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Version is the build's version, set by the Makefile's ldflags
// (-X github.com/vip-platform/backend/shared/obs.Version=...).
var Version = "dev"

// Log attribute keys shared by every function, so log queries work across
// them.
const (
	KeyFunction     = "function"
	KeyVersion      = "version"
	KeyRequestID    = "requestId"
	KeyAWSRequestID = "awsRequestId"
)

// New returns a JSON logger writing to w at level, tagged with the function
// name and build version, whose every attribute passes through ReplaceAttr
// (redaction).
func New(w io.Writer, function string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: ReplaceAttr})
	return slog.New(h).With(slog.String(KeyFunction, function), slog.String(KeyVersion, Version))
}

// WithRequest returns l tagged with the request's IDs: requestID (API
// Gateway's requestContext.requestId, the ID the client sees in error bodies
// and the access log has) and the Lambda invocation ID from ctx. When
// requestID is empty the Lambda ID stands in for it, so requestId is always
// present.
func WithRequest(ctx context.Context, l *slog.Logger, requestID string) *slog.Logger {
	var awsID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsID = lc.AwsRequestID
	}
	if requestID == "" {
		requestID = awsID
	}
	attrs := []any{slog.String(KeyRequestID, requestID)}
	if awsID != "" && awsID != requestID {
		attrs = append(attrs, slog.String(KeyAWSRequestID, awsID))
	}
	return l.With(attrs...)
}

type loggerKey struct{}

// NewContext returns ctx carrying l, for code below the handler that logs.
func NewContext(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

var fallback = sync.OnceValue(func() *slog.Logger {
	return New(os.Stdout, lambdacontext.FunctionName, slog.LevelInfo)
})

// FromContext returns the logger NewContext stored, or a redacting JSON
// logger on stdout when there is none, so a missing logger never loses logs
// nor skips redaction.
func FromContext(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return fallback()
}
