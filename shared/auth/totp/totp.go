// Package totp enrolls and checks time-based one-time passwords (RFC 6238)
// for admin MFA: HMAC-SHA1, 6 digits, 30-second steps, which every
// authenticator app supports.
//
// Replay protection is the caller's half of the contract: ValidateAt returns
// the time step a code belongs to; the caller stores the last accepted step
// per account and passes it to ValidateAfter, which refuses that step and
// every earlier one, so a code observed once cannot be used again.
package totp

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Parameters of every secret this package issues.
const (
	// Issuer is the label authenticator apps show above the code.
	Issuer = "Virtual Internship Platform"
	// Period is the length of one time step, in seconds.
	Period = 30
	// Digits is the code length.
	Digits = 6
	// Skew is how many steps before and after the current one are accepted,
	// for clock drift and the time it takes to type a code.
	Skew = 1
	// SecretBytes is the secret's size: 160 bits, as RFC 4226 recommends
	// for HMAC-SHA1.
	SecretBytes = 20
)

// minSecretBytes is the shortest secret ValidateAt accepts (RFC 4226's
// minimum of 128 bits).
const minSecretBytes = 16

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

var hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrollment is a new TOTP secret for one account. Secret must be stored
// envelope-encrypted; URL is shown once to the user (as a QR code) and never
// stored or logged, since it contains the secret.
type Enrollment struct {
	// Secret is the shared secret in unpadded base32, as ValidateAt takes it.
	Secret string
	// URL is the otpauth://totp/… key URI for authenticator apps.
	URL string
}

// Format prints no secret.
func (e Enrollment) Format(f fmt.State, _ rune) { fmt.Fprint(f, "totp.Enrollment{[redacted]}") }

// Generate makes a fresh secret for accountName (the user's email).
func Generate(accountName string) (Enrollment, error) {
	// The key URI separates issuer and account with a colon, so the account
	// name may not contain one (Google Authenticator key URI format).
	if strings.TrimSpace(accountName) == "" || strings.Contains(accountName, ":") {
		return Enrollment{}, errors.New("totp: account name must be non-empty and contain no colon")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      Issuer,
		AccountName: accountName,
		Period:      Period,
		SecretSize:  SecretBytes,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("totp: generate secret: %w", err)
	}
	return Enrollment{Secret: key.Secret(), URL: key.URL()}, nil
}

// Step returns the RFC 6238 time step t falls in.
func Step(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return -1
	}
	return s / Period
}

// ValidateAt reports whether code is valid at time t for secret, within
// ±Skew steps, and if so which step it belongs to. A malformed code (not
// exactly 6 ASCII digits) or secret is simply not valid. The comparison is
// constant-time and every candidate step is computed, so timing reveals
// nothing about which step (if any) matched.
func ValidateAt(secret, code string, t time.Time) (step int64, ok bool) {
	return ValidateAfter(secret, code, t, -1)
}

// ValidateAfter is ValidateAt that also refuses every step at or before
// lastStep: pass the step of the last code accepted for the account (or -1
// if none), and store the returned step on success.
func ValidateAfter(secret, code string, t time.Time, lastStep int64) (step int64, ok bool) {
	if !wellFormedCode(code) || !wellFormedSecret(secret) {
		return 0, false
	}
	current := Step(t)
	found := int64(-1)
	for s := current - Skew; s <= current+Skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotpOpts)
		if err != nil {
			return 0, false
		}
		// Keep the earliest acceptable match, and keep looping: the work
		// must not depend on where the match is.
		match := subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		if match && s > lastStep && found < 0 {
			found = s
		}
	}
	if found < 0 {
		return 0, false
	}
	return found, true
}

func wellFormedCode(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// wellFormedSecret accepts exactly what Generate produces: upper-case,
// unpadded base32 of at least 128 bits.
func wellFormedSecret(secret string) bool {
	// The base32 decoder skips line breaks; a stored secret has none.
	if strings.ContainsAny(secret, "\r\n") {
		return false
	}
	b, err := secretEncoding.DecodeString(secret)
	return err == nil && len(b) >= minSecretBytes
}
