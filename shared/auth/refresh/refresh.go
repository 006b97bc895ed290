// Package refresh makes and checks opaque secrets: refresh tokens, and
// one-time tickets or challenges of any prefix. A secret is a type prefix
// followed by random bytes in unpadded base64url, e.g.
//
//	rt_3q2-7wEAAAB8c0tM0n5YQh6b9d1F4m9Hnqk2Xb2q1bE
//
// Only a hash of a secret is ever stored (Hash); the secret itself goes to
// its owner once and is checked by hashing what they present and looking the
// hash up.
package refresh

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Prefix marks refresh tokens, so one found in a log or a repository is
// recognizable (and secret scanners can match it).
const Prefix = "rt_"

// TokenBytes is a refresh token's randomness: 256 bits.
const TokenBytes = 32

// Bounds on RandomToken's arguments. 16 bytes (128 bits) is the least that
// stays out of reach of online and offline guessing alike.
const (
	MinRandomBytes = 16
	MaxRandomBytes = 64
	maxPrefixLen   = 8
)

// ErrMalformed means a presented secret does not have the exact form this
// package produces; it is rejected before any lookup.
var ErrMalformed = errors.New("refresh: malformed token")

var encoding = base64.RawURLEncoding.Strict()

// Token is a refresh token. It is a string for storage in responses
// (string(t)), but prints and logs redacted, so a stray %v or slog attribute
// cannot leak it.
type Token string

// New returns a fresh refresh token: Prefix + 256 random bits.
func New() (Token, error) {
	s, err := RandomToken(Prefix, TokenBytes)
	return Token(s), err
}

// Parse checks that s is a well-formed refresh token — prefix, length and
// canonical base64url — so that garbage never reaches the session store.
func Parse(s string) (Token, error) {
	if err := Check(s, Prefix, TokenBytes); err != nil {
		return "", err
	}
	return Token(s), nil
}

// Hash returns the token's storage and lookup key (see the function Hash).
func (t Token) Hash() string { return Hash(string(t)) }

// Format prints the prefix only.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// LogValue logs the prefix only.
func (t Token) LogValue() slog.Value { return slog.StringValue(redacted) }

const redacted = Prefix + "[redacted]"

// RandomToken returns prefix followed by nBytes random bytes in unpadded
// base64url. The prefix is up to 8 characters of [a-z0-9_], conventionally
// ending in "_" (e.g. "wst_" for WebSocket tickets); nBytes is within
// [MinRandomBytes, MaxRandomBytes].
func RandomToken(prefix string, nBytes int) (string, error) {
	if err := checkShape(prefix, nBytes); err != nil {
		return "", err
	}
	b := make([]byte, nBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return prefix + encoding.EncodeToString(b), nil
}

// Check reports whether s has exactly the form RandomToken(prefix, nBytes)
// produces. The checks look only at the presented value's shape, never at
// any stored secret, so their timing reveals nothing.
func Check(s, prefix string, nBytes int) error {
	if err := checkShape(prefix, nBytes); err != nil {
		return err
	}
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != encoding.EncodedLen(nBytes) {
		return ErrMalformed
	}
	if _, err := encoding.DecodeString(body); err != nil {
		return ErrMalformed
	}
	return nil
}

func checkShape(prefix string, nBytes int) error {
	if nBytes < MinRandomBytes || nBytes > MaxRandomBytes {
		return fmt.Errorf("random token: %d bytes outside [%d, %d]", nBytes, MinRandomBytes, MaxRandomBytes)
	}
	if len(prefix) > maxPrefixLen {
		return fmt.Errorf("random token: prefix longer than %d", maxPrefixLen)
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("random token: prefix must be [a-z0-9_]")
		}
	}
	return nil
}

// Hash returns the lookup key under which a secret is stored: SHA-256 of
// the whole token, in lowercase hex.
//
// A plain, unsalted, fast hash is right here, unlike for passwords: the
// token holds 128 to 256 bits of randomness, so there is no dictionary to
// try and brute force is out of reach however fast the hash; a salt would
// only make the stored value impossible to look up directly. The hash means a
// leak of the table does not hand out usable tokens.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal compares two secrets (or their hashes) in constant time, for the
// rare case where a stored value is compared rather than looked up.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
