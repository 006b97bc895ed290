package apigw

import (
	"encoding/json/v2"
	"fmt"
	"maps"
	"net/http"
)

// Response is what a handler returns on success; Wrap turns it into the
// API Gateway proxy response and adds the security and CORS headers.
type Response struct {
	// Status is the HTTP status code (2xx or 3xx; errors are returned as
	// errors, not built by hand).
	Status int
	// Headers are extra response headers (ETag, Location, ...). Security
	// headers are set by Wrap and cannot be overridden here.
	Headers map[string]string
	// Body is the response body; empty means no body and no Content-Type.
	Body []byte
}

// marshalOptions make JSON output deterministic (sorted map keys), so
// responses can be compared byte for byte and cached ETags are stable.
var marshalOptions = json.Deterministic(true)

// JSON returns a response with v marshaled by encoding/json/v2 (nil slices
// and maps as [] and {}, invalid UTF-8 rejected) and Content-Type
// application/json.
func JSON(status int, v any) (Response, error) {
	if status < 100 || status > 599 {
		return Response{}, fmt.Errorf("apigw: invalid status %d", status)
	}
	b, err := json.Marshal(v, marshalOptions)
	if err != nil {
		return Response{}, fmt.Errorf("apigw: marshal %d response: %w", status, err)
	}
	return Response{Status: status, Headers: map[string]string{"Content-Type": contentTypeJSON}, Body: b}, nil
}

// NoContent returns an empty 204 response.
func NoContent() (Response, error) {
	return Response{Status: http.StatusNoContent}, nil
}

// WithHeader returns a copy of r with the header set (canonical name).
func (r Response) WithHeader(name, value string) Response {
	h := make(map[string]string, len(r.Headers)+1)
	for k, v := range r.Headers {
		h[http.CanonicalHeaderKey(k)] = v
	}
	h[http.CanonicalHeaderKey(name)] = value
	r.Headers = h
	return r
}

const contentTypeJSON = "application/json"

// securityHeaders go on every response Wrap produces, success or error.
// API responses are data, never documents: nothing may be cached, sniffed,
// framed, or load anything.
var securityHeaders = map[string]string{
	"Cache-Control":             "no-store",
	"X-Content-Type-Options":    "nosniff",
	"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
	"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":           "no-referrer",
	"X-Frame-Options":           "DENY",
}

// SecurityHeaders returns a copy of the headers Wrap sets on every
// response, for other entry points (WebSocket, tests) to apply or check.
func SecurityHeaders() map[string]string { return maps.Clone(securityHeaders) }

// corsExposeHeaders are response headers browsers may let the frontend read.
const corsExposeHeaders = "ETag, Location, Retry-After"
