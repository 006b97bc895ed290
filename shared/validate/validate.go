// Package validate checks request fields after strict JSON decoding and
// reports every failing field at once, with reasons written for the person
// filling the form, so a client can fix all mistakes in one round trip.
//
// Usage:
//
//	v := validate.New()
//	v.Required("email", in.Email)
//	v.Email("email", in.Email)
//	v.Length("name", in.Name, 1, 100)
//	if err := v.Err(); err != nil {
//		return apigw.Response{}, err // apigw.Wrap answers 400 validation_failed
//	}
//
// Only the first failure of each field is reported: "is required" says all
// there is to say about an empty email, a second "must be a valid email
// address" would be noise.
package validate

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vip-platform/backend/shared/ids"
)

// FieldError is one failing field: the field's name as the client sent it
// (JSON member name, dotted path for nested members, query parameter name)
// and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Errors is the list of failing fields of one request, in the order they were
// checked. It is an error so handlers can return it as is.
type Errors []FieldError

// Error lists the fields and reasons; it contains no submitted values.
func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Validator collects field failures. The zero value is not usable; call New.
type Validator struct {
	errs   Errors
	failed map[string]bool
}

// New returns an empty Validator.
func New() *Validator {
	return &Validator{failed: make(map[string]bool)}
}

// Err returns the collected failures as Errors, or nil when every check
// passed. Returning a nil error (not a nil Errors in an error interface)
// keeps `if err != nil` honest.
func (v *Validator) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return slices.Clone(v.errs)
}

// Failed reports whether field already has a failure; later checks of a
// failed field are skipped.
func (v *Validator) Failed(field string) bool { return v.failed[field] }

// Add records a failure for field unless the field already failed. Use it for
// checks this package does not provide.
func (v *Validator) Add(field, reason string) {
	if v.failed[field] {
		return
	}
	v.failed[field] = true
	v.errs = append(v.errs, FieldError{Field: field, Reason: reason})
}

// Check records reason for field when ok is false, and returns ok.
func (v *Validator) Check(ok bool, field, reason string) bool {
	if v.failed[field] {
		return false
	}
	if !ok {
		v.Add(field, reason)
	}
	return ok
}

// Required fails when s is empty or only white space.
func (v *Validator) Required(field, s string) bool {
	return v.Check(strings.TrimSpace(s) != "", field, "is required")
}

// Text fails when s is not valid UTF-8 or contains control characters
// (including tabs and line breaks) or bidirectional-override characters, which
// can disguise what a name or title displays as. Empty strings pass; combine
// with Required.
func (v *Validator) Text(field, s string) bool {
	return v.Check(isText(s, false), field, "must not contain control characters or invalid text")
}

// MultilineText is Text for free-form bodies (descriptions, messages): line
// breaks and tabs are allowed, other control characters are not.
func (v *Validator) MultilineText(field, s string) bool {
	return v.Check(isText(s, true), field, "must not contain control characters or invalid text")
}

// Length fails when s has fewer than min or more than max characters
// (Unicode code points, which is what a person counts, not bytes).
// Invalid UTF-8 fails too, as its length is meaningless.
func (v *Validator) Length(field, s string, min, max int) bool {
	if v.failed[field] {
		return false
	}
	if !utf8.ValidString(s) {
		v.Add(field, "must be valid text")
		return false
	}
	n := utf8.RuneCountInString(s)
	switch {
	case (n < min || n > max) && min == max:
		v.Add(field, "must be exactly "+characters(min))
	case n < min && min == 1:
		v.Add(field, "must not be empty")
	case n < min:
		v.Add(field, "must be at least "+characters(min))
	case n > max:
		v.Add(field, "must be at most "+characters(max))
	default:
		return true
	}
	return false
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

// maxEmailLen is RFC 5321's limit on a forward path (254 octets of address).
const maxEmailLen = 254

// Email fails unless s is a plain address (local@domain, ASCII, no display
// name, no comments, no IP-literal domain) that a mail server would accept.
// Empty strings pass; combine with Required.
func (v *Validator) Email(field, s string) bool {
	if s == "" {
		return !v.failed[field]
	}
	return v.Check(isEmail(s), field, "must be a valid email address, like name@example.com")
}

func isEmail(s string) bool {
	if len(s) > maxEmailLen || strings.Count(s, "@") != 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || len(local) > 64 || strings.HasPrefix(local, `"`) {
		return false
	}
	return isHostname(domain)
}

// isHostname reports whether d is a DNS name of at least two labels, each
// 1..63 letters, digits or inner hyphens.
func isHostname(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// OneOf fails unless s is exactly one of allowed (case-sensitive: "Admin" is
// not "admin"). The reason lists the allowed values, which are part of the
// public contract.
func (v *Validator) OneOf(field, s string, allowed ...string) bool {
	return v.Check(slices.Contains(allowed, s), field, "must be one of: "+strings.Join(allowed, ", "))
}

// Range fails unless min <= n <= max.
func (v *Validator) Range(field string, n, min, max int) bool {
	return v.Check(n >= min && n <= max, field, fmt.Sprintf("must be between %d and %d", min, max))
}

// Pattern fails unless re matches s. hint describes the expected form to the
// user ("must be lowercase letters and digits"); the regular expression
// itself is never shown. Anchor re (^...$) to match the whole value.
func (v *Validator) Pattern(field, s string, re *regexp.Regexp, hint string) bool {
	return v.Check(re.MatchString(s), field, hint)
}

// ID fails unless s is a well-formed public ID with the given prefix (see
// package ids). It says nothing about whether the ID exists.
func (v *Validator) ID(field, s string, p ids.Prefix) bool {
	return v.Check(ids.Valid(s, p), field, fmt.Sprintf("must be a valid %s_ identifier", p))
}

// IsText reports whether s is valid UTF-8 without control or bidirectional
// formatting characters; multiline additionally allows \n, \r and \t. It is
// exported for callers that check values outside a Validator (query and path
// parameters, WebSocket frames).
func IsText(s string, multiline bool) bool { return isText(s, multiline) }

func isText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r):
			return false
		case isBidiControl(r):
			return false
		}
	}
	return true
}

// isBidiControl matches the explicit directional embedding, override and
// isolate characters (the "Trojan Source" set) and the line/paragraph
// separators, none of which belong in user-supplied single values.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
