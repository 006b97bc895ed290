package restapi

import (
	"encoding/base64"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// inbound is what the gateway knows about a request before any function
// runs; the proxy event and the authorizer event are both built from it.
type inbound struct {
	requestID  string
	extendedID string
	start      time.Time
	method     string
	path       string // URL-decoded, as the client sent it
	host       string
	protocol   string
	sourceIP   string
	userAgent  string
	headers    map[string]string
	mvHeaders  map[string][]string
	query      map[string]string
	mvQuery    map[string][]string
}

// newInbound captures the request. Header names arrive canonicalized by
// net/http (API Gateway keeps the client's spelling); functions must read
// headers case-insensitively either way.
func newInbound(r *http.Request, now time.Time) *inbound {
	in := &inbound{
		requestID:  newRequestID(),
		extendedID: newExtendedID(),
		start:      now,
		method:     r.Method,
		path:       r.URL.Path,
		host:       r.Host,
		protocol:   r.Proto,
		sourceIP:   remoteIP(r.RemoteAddr),
		userAgent:  r.UserAgent(),
	}
	if in.path == "" {
		in.path = "/"
	}
	mv := make(map[string][]string, len(r.Header)+4)
	for k, vs := range r.Header {
		mv[k] = append([]string(nil), vs...)
	}
	if r.Host != "" {
		mv["Host"] = []string{r.Host}
	}
	// API Gateway appends the caller's address to X-Forwarded-For and sets
	// the proto and port it received on; the client cannot choose sourceIp.
	if prev := r.Header.Values("X-Forwarded-For"); len(prev) > 0 {
		mv["X-Forwarded-For"] = []string{strings.Join(prev, ", ") + ", " + in.sourceIP}
	} else {
		mv["X-Forwarded-For"] = []string{in.sourceIP}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	mv["X-Forwarded-Proto"] = []string{proto}
	if port := localPort(r); port != "" {
		mv["X-Forwarded-Port"] = []string{port}
	}
	in.mvHeaders = mv
	in.headers = make(map[string]string, len(mv))
	for k, vs := range mv {
		in.headers[k] = vs[len(vs)-1]
	}
	if r.URL.RawQuery != "" {
		// ParseQuery keeps what it can parse; API Gateway likewise drops
		// pairs it cannot decode rather than failing the request.
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if len(q) > 0 {
			in.mvQuery = q
			in.query = make(map[string]string, len(q))
			for k, vs := range q {
				in.query[k] = vs[len(vs)-1]
			}
		}
	}
	return in
}

func remoteIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	return ""
}

// requestTimeLayout is API Gateway's $context.requestTime format.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

func (g *Gateway) proxyEvent(in *inbound, rt *route, params map[string]string, body []byte, authz map[string]any) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource:                        rt.resource,
		Path:                            in.path,
		HTTPMethod:                      in.method,
		Headers:                         in.headers,
		MultiValueHeaders:               in.mvHeaders,
		QueryStringParameters:           in.query,
		MultiValueQueryStringParameters: in.mvQuery,
		PathParameters:                  params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         g.accountID,
			ResourceID:        rt.resourceID,
			Stage:             g.stage,
			DomainName:        in.host,
			DomainPrefix:      domainPrefix(in.host),
			RequestID:         in.requestID,
			ExtendedRequestID: in.extendedID,
			Protocol:          in.protocol,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  in.sourceIP,
				UserAgent: in.userAgent,
			},
			ResourcePath:     rt.resource,
			Path:             "/" + g.stage + in.path,
			Authorizer:       authz,
			HTTPMethod:       in.method,
			RequestTime:      in.start.UTC().Format(requestTimeLayout),
			RequestTimeEpoch: in.start.UnixMilli(),
			APIID:            g.apiID,
		},
	}
	if len(body) > 0 {
		if g.isBinary(in.headers["Content-Type"]) {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		} else {
			ev.Body = string(body)
		}
	}
	return ev
}

func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// isBinary reports whether a Content-Type (or Accept) media type matches the
// API's BinaryMediaTypes; API Gateway base64-encodes such request bodies
// and decodes base64 responses only for such Accept types.
func (g *Gateway) isBinary(contentType string) bool {
	if len(g.binaryTypes) == 0 || contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	for _, pat := range g.binaryTypes {
		if wildcardMatch(pat, mt) {
			return true
		}
	}
	return false
}

// methodArn is the ARN a Lambda authorizer's policy is evaluated against.
func (g *Gateway) methodArn(method, path string) string {
	return "arn:aws:execute-api:" + g.region + ":" + g.accountID + ":" + g.apiID + "/" + g.stage + "/" + method + "/" + strings.TrimPrefix(path, "/")
}

func (g *Gateway) authorizerRequestEvent(in *inbound, rt *route, params map[string]string, arn string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       arn,
		Resource:                        rt.resource,
		Path:                            in.path,
		HTTPMethod:                      in.method,
		Headers:                         in.headers,
		MultiValueHeaders:               in.mvHeaders,
		QueryStringParameters:           in.query,
		MultiValueQueryStringParameters: in.mvQuery,
		PathParameters:                  params,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			Path:         "/" + g.stage + in.path,
			AccountID:    g.accountID,
			ResourceID:   rt.resourceID,
			Stage:        g.stage,
			RequestID:    in.requestID,
			Identity:     events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: in.sourceIP},
			ResourcePath: rt.resource,
			HTTPMethod:   in.method,
			APIID:        g.apiID,
		},
	}
}
