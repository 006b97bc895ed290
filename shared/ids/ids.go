// Package ids generates and checks the platform's opaque public IDs: a
// three-letter type prefix, an underscore and 128 random bits written as 26
// lowercase base32 characters (e.g. usr_k5qg3zr7m2a4xv6nbh2wq3ydle).
//
// The IDs carry no meaning (no time, no counter, no DynamoDB key), so they can
// be neither guessed nor enumerated, and they reveal nothing about storage.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// Prefix names the type of the thing an ID identifies.
type Prefix string

// The prefixes DESIGN.md assigns, plus ses (session IDs, the "sid"
// access-token claim), inv (invites), rev (reviews) and ntf (notifications).
const (
	User         Prefix = "usr"
	Org          Prefix = "org"
	Program      Prefix = "prg"
	Task         Prefix = "tsk"
	Application  Prefix = "app"
	Enrollment   Prefix = "enr"
	Submission   Prefix = "sub"
	Upload       Prefix = "upl"
	Certificate  Prefix = "crt"
	Session      Prefix = "ses"
	Invite       Prefix = "inv"
	Review       Prefix = "rev"
	Notification Prefix = "ntf"
)

const (
	randomBytes = 16 // 128 bits: collisions and guessing are out of reach.
	// EncodedLen is the length of the random part of an ID.
	EncodedLen = 26
)

// encoding is RFC 4648 base32 in lowercase without padding: URL-safe,
// case-insensitive-looking and free of ambiguous punctuation.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns a fresh random ID with the given prefix. crypto/rand never fails
// on supported platforms (the runtime aborts instead), so New cannot fail. A
// prefix that is not three lowercase letters yields IDs Valid rejects, which
// the ID tests catch for every declared prefix.
func New(p Prefix) string {
	var b [randomBytes]byte
	_, _ = rand.Read(b[:])
	return string(p) + "_" + encoding.EncodeToString(b[:])
}

// Valid reports whether s is a well-formed ID of prefix p: exactly the form
// New produces, in canonical encoding (so one ID has one spelling).
func Valid(s string, p Prefix) bool {
	if !validPrefix(p) {
		return false
	}
	rest, ok := strings.CutPrefix(s, string(p)+"_")
	if !ok || len(rest) != EncodedLen {
		return false
	}
	b, err := encoding.DecodeString(rest)
	if err != nil || len(b) != randomBytes {
		return false
	}
	// The last character carries 3 data bits and 2 padding bits; re-encoding
	// rejects spellings whose padding bits are set.
	return encoding.EncodeToString(b) == rest
}

func validPrefix(p Prefix) bool {
	if len(p) != 3 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'a' || p[i] > 'z' {
			return false
		}
	}
	return true
}
