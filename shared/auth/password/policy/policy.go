// Package policy is the server-side password policy: 12 to 128 characters,
// no composition rules, and no passwords that are common, easy to guess, or
// built from the user's own email or name (NIST SP 800-63B style).
//
// It lives apart from package password because its strength estimator
// (zxcvbn) loads its dictionaries at program start — about 30 ms and 18 MB
// on a developer machine — a cost that login, refresh and the authorizer,
// which only verify hashes, must not pay on every cold start.
package policy

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
	"github.com/ccojocar/zxcvbn-go/match"
	"github.com/ccojocar/zxcvbn-go/matching"
)

// Length limits, counted in characters (Unicode code points), not bytes.
const (
	MinLength = 12
	MaxLength = 128
)

// minScore is the lowest zxcvbn score accepted: 3 means an estimated 10^8
// guesses or more, zxcvbn's "safely unguessable" threshold for online attacks.
const minScore = 3

// minContextToken is the shortest piece of the user's email or name that may
// not appear in the password; shorter pieces ("li", "bob") occur too often by
// chance to reject on sight, and zxcvbn still weighs them as user inputs.
const minContextToken = 4

// Code identifies which rule a password broke, for clients and metrics.
type Code string

// The rules a password can break.
const (
	CodeInvalidText  Code = "invalid_text"
	CodeTooShort     Code = "too_short"
	CodeTooLong      Code = "too_long"
	CodePersonalInfo Code = "personal_info"
	CodeTooCommon    Code = "too_common"
	CodeTooGuessable Code = "too_guessable"
)

const (
	reasonInvalidText  = "must be valid UTF-8 text"
	reasonTooShort     = "must be at least 12 characters"
	reasonTooLong      = "must be at most 128 characters"
	reasonPersonalInfo = "must not contain your email or name"
	reasonTooCommon    = "is too common"
	reasonTooGuessable = "is too easy to guess"
)

// Error is a policy violation. Reason is a user-actionable phrase meant to
// follow the word "password" (it fits the error envelope's field reason);
// it never contains the password or any part of it.
type Error struct {
	Code   Code
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return "password " + e.Reason }

func violation(c Code, reason string) *Error { return &Error{Code: c, Reason: reason} }

// Check returns nil if password satisfies the policy, or an *Error saying
// which rule it breaks. context holds what the user told us about
// themselves — email address, display name, organization name — from which
// the password must not be built.
func Check(password string, context ...string) error {
	if !utf8.ValidString(password) {
		return violation(CodeInvalidText, reasonInvalidText)
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinLength:
		return violation(CodeTooShort, reasonTooShort)
	case n > MaxLength:
		return violation(CodeTooLong, reasonTooLong)
	}

	tokens := contextTokens(context)
	candidates := deleetVariants(password)
	for _, c := range candidates {
		lower := strings.ToLower(c)
		for _, t := range tokens {
			if utf8.RuneCountInString(t) >= minContextToken && strings.Contains(lower, t) {
				return violation(CodePersonalInfo, reasonPersonalInfo)
			}
		}
	}

	// A password that is a short unit repeated ("abababab…", "Summer24Summer24")
	// is as weak as the unit, which this zxcvbn port does not see by itself.
	if unit, ok := repeatedUnit(password); ok {
		candidates = append(candidates, deleetVariants(unit)...)
	}

	worst := estimate(candidates[0], tokens)
	for _, c := range candidates[1:] {
		if s := estimate(c, tokens); s.score < worst.score {
			worst = s
		}
	}
	if worst.score >= minScore {
		return nil
	}
	switch {
	case worst.personal:
		return violation(CodePersonalInfo, reasonPersonalInfo)
	case worst.common:
		return violation(CodeTooCommon, reasonTooCommon)
	default:
		return violation(CodeTooGuessable, reasonTooGuessable)
	}
}

// strength is what the policy needs from one zxcvbn estimate.
type strength struct {
	score int
	// personal and common report whether the weakest decomposition of the
	// password uses the user's own inputs, or a common-password entry.
	personal, common bool
}

// noL33t excludes zxcvbn's own l33t matcher: it tries every combination of
// substitutions and costs seconds of CPU on a 128-character password full of
// symbols — a denial of service on a public sign-up route. deleetVariants
// gives the same protection at a few times the cost of a plain estimate.
func noL33t(m match.Matcher) bool { return m.ID == matching.L33TMatcherName }

func estimate(password string, userInputs []string) strength {
	r := zxcvbn.PasswordStrength(password, userInputs, noL33t)
	s := strength{score: r.Score}
	for _, m := range r.MatchSequence {
		if m.Pattern != "dictionary" {
			continue
		}
		switch m.DictionaryName {
		case "user_inputs":
			s.personal = true
		case "Passwords":
			s.common = true
		}
	}
	return s
}

// leetSymbols are the symbols of zxcvbn's l33t table. leetUnambiguous maps
// those that stand for one letter back to it; "1", "|" and "7" stand for two
// letters each and deleetVariants tries every reading.
const leetSymbols = "4@8({[<3690$5+%2!1|7"

var leetUnambiguous = strings.NewReplacer(
	"4", "a", "@", "a", "8", "b", "(", "c", "{", "c", "[", "c", "<", "c",
	"3", "e", "6", "g", "9", "g", "0", "o", "$", "s", "5", "s", "+", "t",
	"%", "x", "2", "z", "!", "i",
)

// deleetVariants returns password and, if it contains l33t symbols, its
// readings with every symbol replaced by a letter: at most five strings, so
// the work stays linear in the number of readings instead of exponential in
// the number of distinct symbols as in zxcvbn's own l33t matcher.
func deleetVariants(password string) []string {
	out := []string{password}
	if !strings.ContainsAny(password, leetSymbols) {
		return out
	}
	base := leetUnambiguous.Replace(password)
	for _, one := range [...]string{"i", "l"} {
		for _, seven := range [...]string{"t", "l"} {
			v := strings.NewReplacer("1", one, "|", one, "7", seven).Replace(base)
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// repeatedUnit reports the shortest unit u such that password is u repeated
// at least twice (the last copy may be cut short), using the KMP failure
// function so it is linear in the length.
func repeatedUnit(password string) (string, bool) {
	r := []rune(password)
	n := len(r)
	fail := make([]int, n)
	for i, k := 1, 0; i < n; i++ {
		for k > 0 && r[i] != r[k] {
			k = fail[k-1]
		}
		if r[i] == r[k] {
			k++
		}
		fail[i] = k
	}
	period := n - fail[n-1]
	if period*2 > n {
		return "", false
	}
	return string(r[:period]), true
}

// contextTokens splits what the user told us into lower-case tokens: an
// email gives its local part, the local part's words and the domain's labels
// (jane.doe+work@acme-corp.example → jane.doe+work, jane, doe, work, acme,
// corp, acme-corp, example); a name gives its words. zxcvbn also receives
// them as user inputs.
func contextTokens(context []string) []string {
	var tokens []string
	add := func(t string) {
		if t != "" && !slices.Contains(tokens, t) {
			tokens = append(tokens, t)
		}
	}
	// addWords adds the alphanumeric words of s and, inside each, its runs of
	// letters and of digits, so "jane1990" also yields "jane" and "1990".
	addWords := func(s string) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			add(w)
			start, prevDigit := 0, false
			for i, r := range w {
				if digit := unicode.IsDigit(r); i == 0 {
					prevDigit = digit
				} else if digit != prevDigit {
					add(w[start:i])
					start, prevDigit = i, digit
				}
			}
			if start > 0 {
				add(w[start:])
			}
		}
	}
	for _, c := range context {
		c = strings.ToLower(strings.TrimSpace(c))
		if local, domain, ok := cutLast(c, "@"); ok {
			add(local)
			addWords(local)
			for _, label := range strings.Split(domain, ".") {
				add(label)
				addWords(label)
			}
			continue
		}
		add(c)
		addWords(c)
	}
	return tokens
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
