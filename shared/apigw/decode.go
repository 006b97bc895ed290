package apigw

import (
	"bytes"
	"encoding/base64"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/validate"
)

// DefaultMaxBodyBytes caps request bodies unless a route says otherwise.
// JSON API bodies are small; files go to S3 by presigned POST, never
// through the API.
const DefaultMaxBodyBytes int64 = 64 << 10

// DecodeOption configures Decode.
type DecodeOption func(*decodeConfig)

type decodeConfig struct{ max int64 }

// MaxBodyBytes sets the body size cap for one Decode call (decoded bytes).
func MaxBodyBytes(n int64) DecodeOption {
	return func(c *decodeConfig) { c.max = n }
}

// errNull is reported for a JSON null where the Go type has no null.
var errNull = errors.New("null is not allowed here")

// rejectNull refuses JSON null for every Go type except pointers and
// interfaces: decoding null into a string, number, bool, slice, map or
// struct would silently produce a zero value, an implicit coercion a strict
// API must not make. Declare a field as a pointer when null is meaningful.
var rejectNull = json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v any) error {
	if dec.PeekKind() != 'n' {
		return errors.ErrUnsupported
	}
	switch reflect.TypeOf(v).Elem().Kind() {
	case reflect.Pointer, reflect.Interface:
		return errors.ErrUnsupported
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	return errNull
})

// strictOptions: unknown members rejected; duplicate names, invalid UTF-8
// and case-mismatched names are already rejected by json/v2's defaults
// (names match case-sensitively), as is "5" for an int.
var strictOptions = json.JoinOptions(json.RejectUnknownMembers(true), json.WithUnmarshalers(rejectNull))

// Decode reads req's JSON body into v (a non-nil pointer, usually to a
// struct with json tags), strictly:
//
//   - Content-Type must be application/json, optionally with
//     charset=utf-8 (415 otherwise);
//   - the body must not be empty (400) nor larger than the cap (413;
//     DefaultMaxBodyBytes unless MaxBodyBytes is given), base64 bodies
//     are decoded first;
//   - unknown members, duplicate names, case-mismatched names, wrong JSON
//     types (no coercion: "5" is not 5), null for non-pointer fields,
//     trailing data and invalid UTF-8 are rejected with 400 invalid_body,
//     naming the offending member (e.g. "tags[0].name") where known.
//
// The returned error is an *Error for every client mistake; Go type names
// and decoder internals never reach the message. Anything else (v not a
// pointer) is a programming error and answered as a 500.
func Decode(req events.APIGatewayProxyRequest, v any, opts ...DecodeOption) error {
	cfg := decodeConfig{max: DefaultMaxBodyBytes}
	for _, o := range opts {
		o(&cfg)
	}
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("apigw: Decode needs a non-nil pointer, got %T", v)
	}
	body, err := Body(req, cfg.max)
	if err != nil {
		return err
	}
	if !isJSONContentType(req) {
		return UnsupportedMediaType()
	}
	if err := json.Unmarshal(body, v, strictOptions); err != nil {
		return decodeError(body, err)
	}
	return nil
}

// Body returns the raw request body (base64-decoded when API Gateway
// encoded it), failing with 400 when empty or blank and 413 when larger than
// max bytes. Decode uses it; call it directly only for non-JSON bodies.
func Body(req events.APIGatewayProxyRequest, max int64) ([]byte, error) {
	raw := req.Body
	if req.IsBase64Encoded {
		// Refuse before decoding what cannot fit.
		if int64(len(raw)) > int64(base64.StdEncoding.EncodedLen(int(min(max, 1<<40)))) {
			return nil, PayloadTooLarge(max)
		}
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, BadRequest("The request body is not valid base64.")
		}
		raw = string(b)
	}
	if len(strings.TrimSpace(raw)) == 0 {
		return nil, BadRequest("A JSON request body is required.")
	}
	if int64(len(raw)) > max {
		return nil, PayloadTooLarge(max)
	}
	return []byte(raw), nil
}

// isJSONContentType accepts application/json with no parameter but
// charset=utf-8: a body in another charset, or a form/text type that a
// browser can send cross-origin without preflight, is not accepted.
func isJSONContentType(req events.APIGatewayProxyRequest) bool {
	ct := Header(req, "Content-Type")
	if ct == "" {
		return false
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != contentTypeJSON {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// decodeError turns a json/v2 error into a client error that names the
// offending member without echoing Go types or decoder text.
func decodeError(body []byte, err error) error {
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		field := fieldPath(se.JSONPointer)
		reason := semanticReason(se)
		if field == "" {
			return invalidBody(rootMessage(se, reason))
		}
		return invalidBody("The request body is invalid.", validate.FieldError{Field: field, Reason: reason})
	case errors.As(err, &sy):
		field := fieldPath(sy.JSONPointer)
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			return invalidBody("The request body is invalid.", validate.FieldError{Field: field, Reason: "appears more than once"})
		case !utf8.Valid(body):
			if field == "" {
				return invalidBody("The request body must be valid UTF-8.")
			}
			return invalidBody("The request body must be valid UTF-8.", validate.FieldError{Field: field, Reason: "contains invalid UTF-8"})
		case hasTrailingData(body):
			return invalidBody("The request body must be a single JSON value with nothing after it.")
		case field != "":
			return invalidBody("The request body is not valid JSON.", validate.FieldError{Field: field, Reason: "is not valid JSON"})
		default:
			return invalidBody("The request body is not valid JSON.")
		}
	default:
		return invalidBody("The request body is not valid JSON.")
	}
}

func invalidBody(message string, fields ...validate.FieldError) *Error {
	e := NewError(400, CodeInvalidBody, message)
	e.Fields = fields
	return e
}

func rootMessage(se *json.SemanticError, reason string) string {
	if errors.Is(se, errNull) {
		return "The request body must not be null."
	}
	if se.GoType != nil && (se.GoType.Kind() == reflect.Struct || se.GoType.Kind() == reflect.Map) {
		return "The request body must be a JSON object."
	}
	return "The request body " + reason + "."
}

// semanticReason says what is wrong with a member in JSON terms.
func semanticReason(se *json.SemanticError) string {
	switch {
	case errors.Is(se, json.ErrUnknownName):
		return "is not an accepted field"
	case errors.Is(se, errNull):
		return "must not be null"
	case errors.Is(se, strconv.ErrRange):
		return "is out of range"
	case se.Err != nil && se.JSONKind != 'n' && !isKindMismatch(se):
		// A custom unmarshaler (time, enum...) refused the value.
		return "has an invalid value"
	}
	if se.GoType == nil {
		return "has the wrong type"
	}
	return "must be " + jsonTypeName(se.GoType)
}

// isKindMismatch reports whether the JSON kind cannot represent the Go
// type at all, as opposed to a value of the right kind being refused.
func isKindMismatch(se *json.SemanticError) bool {
	if se.GoType == nil {
		return false
	}
	switch se.GoType.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// 1.5 or 1e3 for an integer: "must be an integer" helps more.
		return se.JSONKind == '0'
	}
	return false
}

// jsonTypeName names the JSON form a Go type accepts.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.String && (t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

var textUnmarshalerType = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()

// hasTrailingData reports whether body starts with one complete JSON value
// followed by something other than white space.
func hasTrailingData(body []byte) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if _, err := dec.ReadValue(); err != nil {
		return false
	}
	return len(bytes.TrimSpace(body[dec.InputOffset():])) > 0
}

// maxFieldPathLen bounds how much of a client-chosen member name is echoed.
const maxFieldPathLen = 200

// fieldPath renders a JSON Pointer as the field names clients use:
// /tags/0/name -> tags[0].name. Member names come from the client, so they
// are made valid UTF-8 (the envelope must marshal) and truncated.
func fieldPath(p jsontext.Pointer) string {
	s := pointerPath(p)
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > maxFieldPathLen {
		s = string([]rune(s)[:maxFieldPathLen]) + "…"
	}
	return s
}

func pointerPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if isIndex(tok) {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
