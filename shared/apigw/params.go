package apigw

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// maxParamLen bounds path and query values: nothing legitimate is longer
// (IDs are 30 characters, cursors a few hundred).
const maxParamLen = 1024

// Header returns the value of the request header name, matched
// case-insensitively as HTTP requires. A header sent more than once returns
// "": for a single-valued header (Origin, Content-Type, Authorization,
// Idempotency-Key) two values are ambiguous and none is trusted.
func Header(req events.APIGatewayProxyRequest, name string) string {
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 1 {
			return ""
		}
	}
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) == 1 {
			return vs[0]
		}
	}
	return ""
}

// PathParam returns the path parameter name. Missing, empty, overlong or
// non-text values answer 404: a path that names nothing is not found.
func PathParam(req events.APIGatewayProxyRequest, name string) (string, error) {
	v, ok := req.PathParameters[name]
	switch {
	case !ok || v == "":
		return "", NotFound().WithCause(fmt.Errorf("path parameter %s missing", name))
	case len(v) > maxParamLen || !validate.IsText(v, false):
		return "", NotFound().WithCause(fmt.Errorf("path parameter %s malformed", name))
	}
	return v, nil
}

// PathID returns the path parameter name as a public ID of prefix p; one
// that is not even well formed cannot exist, so it answers 404 like an
// unknown ID (never revealing which IDs are syntactically plausible).
func PathID(req events.APIGatewayProxyRequest, name string, p ids.Prefix) (string, error) {
	v, err := PathParam(req, name)
	if err != nil {
		return "", err
	}
	if !ids.Valid(v, p) {
		return "", NotFound().WithCause(fmt.Errorf("path parameter %s is not a %s ID", name, p))
	}
	return v, nil
}

// Query returns the query parameter name, "" when absent. Given more than
// once, overlong or not text, it is a 400 validation_failed naming it.
func Query(req events.APIGatewayProxyRequest, name string) (string, error) {
	if vs := req.MultiValueQueryStringParameters[name]; len(vs) > 1 {
		return "", Validation(validate.Errors{{Field: name, Reason: "must be given at most once"}})
	}
	v := req.QueryStringParameters[name]
	if len(v) > maxParamLen || !validate.IsText(v, false) {
		return "", Validation(validate.Errors{{Field: name, Reason: "must be short text without control characters"}})
	}
	return v, nil
}

// QueryInt returns the integer query parameter name, def when absent; it
// must be a base-10 integer within [min, max] (400 otherwise).
func QueryInt(req events.APIGatewayProxyRequest, name string, def, min, max int) (int, error) {
	s, err := Query(req, name)
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return def, Validation(validate.Errors{{Field: name, Reason: fmt.Sprintf("must be an integer between %d and %d", min, max)}})
	}
	return n, nil
}

// AllowQuery rejects query parameters other than allowed (400 listing each),
// the query-string counterpart of rejecting unknown body members.
func AllowQuery(req events.APIGatewayProxyRequest, allowed ...string) error {
	var errs validate.Errors
	seen := make(map[string]bool)
	for k := range req.QueryStringParameters {
		seen[k] = true
	}
	for k := range req.MultiValueQueryStringParameters {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			errs = append(errs, validate.FieldError{Field: truncateName(k), Reason: "is not an accepted query parameter"})
		}
	}
	if len(errs) > 0 {
		return Validation(errs)
	}
	return nil
}

func truncateName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}
