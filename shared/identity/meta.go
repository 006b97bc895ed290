package identity

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
)

// Meta is what a flow needs to know about the HTTP request besides its body:
// for rate limits, sessions and audit entries.
type Meta struct {
	// RequestID ties audit entries to logs and to the response.
	RequestID string
	// SourceIP is the client address as API Gateway saw it (not
	// X-Forwarded-For, which the client controls).
	SourceIP string
	// UserAgent is stored with a new session, for the user's session list.
	UserAgent string
}

// MetaFrom reads Meta from an API Gateway REST proxy request.
func MetaFrom(req events.APIGatewayProxyRequest) Meta {
	m := Meta{
		RequestID: req.RequestContext.RequestID,
		SourceIP:  req.RequestContext.Identity.SourceIP,
		UserAgent: req.RequestContext.Identity.UserAgent,
	}
	if m.UserAgent == "" {
		m.UserAgent = apigw.Header(req, "User-Agent")
	}
	return m
}

// ipKey is the rate-limit key of the source IP. A request without one (not
// possible behind API Gateway) shares a single bucket rather than escaping
// the limit.
func (m Meta) ipKey() string {
	if m.SourceIP == "" {
		return "unknown"
	}
	return m.SourceIP
}
