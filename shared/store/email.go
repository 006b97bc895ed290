package store

import (
	"errors"
	"net/mail"
	"strings"
)

// ErrInvalidEmail is returned by NormalizeEmail for anything that is not a
// plain, single address.
var ErrInvalidEmail = errors.New("invalid email address")

const (
	maxEmailLen  = 254 // RFC 5321 path limit minus the angle brackets
	maxLocalLen  = 64  // RFC 5321 4.5.3.1.1
	maxLabelLen  = 63  // RFC 1035
	minDomainDot = 1   // a bare host ("user@localhost") is not deliverable mail
)

// NormalizeEmail returns the canonical form of an email address, the form
// that is unique across users (the email claim key) and used for lookups.
//
// It trims surrounding white space and lowercases the whole address,
// including the local part. RFC 5321 lets a server treat the local part as
// case-sensitive, but no mainstream provider does, and treating "Ann@x.io"
// and "ann@x.io" as two accounts invites impersonation and lock-out support
// cases. Provider-specific aliasing (dots or "+tag" in Gmail) is deliberately
// not folded: it is not universal, and folding it would merge real,
// distinct mailboxes elsewhere.
//
// Only plain ASCII addresses are accepted (no display name, no comments, no
// quoted local part, no IP-literal domain, exactly one "@", at most 254
// characters, a dotted domain of LDH labels). Internationalized addresses are
// refused on purpose: without Unicode normalization, visually identical
// addresses would be distinct keys.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxEmailLen || strings.Count(s, "@") != 1 {
		return "", ErrInvalidEmail
	}
	for i := 0; i < len(s); i++ {
		// Printable ASCII only, and none of the characters net/mail would
		// treat as syntax (quotes, comments, angle brackets, lists).
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),:;<>[\]`, c) >= 0 {
			return "", ErrInvalidEmail
		}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", ErrInvalidEmail
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || len(local) > maxLocalLen || !validDomain(domain) {
		return "", ErrInvalidEmail
	}
	return s, nil
}

// validDomain checks an already lowercased domain: LDH labels, no label
// starting or ending with '-', at least one dot, a non-numeric last label.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < minDomainDot+1 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.TrimLeft(tld, "0123456789") != ""
}
