package apigw

import (
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/validate"
)

// ifMatchInvalid is the one answer to an If-Match that is not a version.
var ifMatchInvalid = validate.Errors{{Field: "If-Match", Reason: `must be the version from the resource's ETag, like "3"`}}

// IfMatch returns the resource version a request's If-Match header names
// and whether the header was sent at all (callers decide whether absent
// means 428 or an unconditional write). Only one strong tag of a positive
// version number is accepted ("3" or 3): "*", weak tags and lists cannot be
// honoured precisely, and a header sent twice is refused rather than
// ignored, which would silently turn a conditional write unconditional.
// A malformed header is a 400 *Error.
func IfMatch(req events.APIGatewayProxyRequest) (version int64, present bool, err error) {
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, "If-Match") {
			if len(vs) != 1 {
				return 0, true, Validation(ifMatchInvalid)
			}
			present = true
		}
	}
	for k := range req.Headers {
		if strings.EqualFold(k, "If-Match") {
			present = true
		}
	}
	if !present {
		return 0, false, nil
	}
	v := strings.TrimSpace(Header(req, "If-Match"))
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > 19 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, true, Validation(ifMatchInvalid)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, true, Validation(ifMatchInvalid)
	}
	return n, true, nil
}

// ETag renders a resource version as the entity tag If-Match takes back.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
