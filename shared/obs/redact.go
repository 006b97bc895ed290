package obs

import (
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// Redacted replaces every redacted value.
const Redacted = "[REDACTED]"

// sensitiveSubstrings match anywhere in a key once it is lowercased and
// stripped of separators: they are long enough never to occur by accident
// ("refreshToken", "x-api-key", "client_secret", "Set-Cookie").
var sensitiveSubstrings = []string{
	"password", "passwd", "passphrase", "secret", "token", "authorization",
	"cookie", "credential", "apikey", "privatekey", "signingkey", "accesskey",
	"sessionkey", "refresh", "ciphertext", "plaintext", "signature", "recovery",
}

// sensitiveWords match whole words of a key (split at camelCase, '_', '-',
// '.'); as substrings they would hit innocent keys ("hotpath" has "otp").
var sensitiveWords = []string{"otp", "totp", "hotp", "mfa", "pin", "pwd", "jwt", "code", "bearer", "ticket", "auth", "key", "dek"}

// harmlessKeys contain a sensitive word but are everyday log fields: status
// codes, error codes and the like.
var harmlessKeys = []string{
	"statuscode", "errorcode", "httpcode", "exitcode", "responsecode", "errcode",
	"keyid", "kid", "s3key", "objectkey", "idempotencykey", "authorizer", "authtype",
}

// IsSensitiveKey reports whether a log attribute (or map entry) named key
// probably holds a credential or a one-time secret.
func IsSensitiveKey(key string) bool {
	norm := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || r == ' ' {
			return -1
		}
		return unicode.ToLower(r)
	}, key)
	if slices.Contains(harmlessKeys, norm) {
		return false
	}
	for _, s := range sensitiveSubstrings {
		if strings.Contains(norm, s) {
			return true
		}
	}
	for _, w := range splitWords(key) {
		if slices.Contains(sensitiveWords, w) {
			return true
		}
	}
	return false
}

// splitWords splits "mfaCode", "otp_code", "X-Api-Key", "HTTPCode" into
// lowercase words.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	rs := []rune(s)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1]))):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// looksLikeCredential catches credentials logged under an innocent key: HTTP
// authorization values and JWTs.
func looksLikeCredential(s string) bool {
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "bearer ") || strings.HasPrefix(l, "basic ") {
		return true
	}
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}

// ReplaceAttr is the slog.HandlerOptions.ReplaceAttr New installs: it
// redacts attributes whose key (or any enclosing group's key) is sensitive,
// string values that look like credentials, and sensitive entries of logged
// maps (a logged header map keeps Content-Type and loses Authorization).
// Structs are logged as they marshal; log fields, not request structs.
func ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey || a.Key == slog.SourceKey) {
		return a
	}
	if IsSensitiveKey(a.Key) || slices.ContainsFunc(groups, IsSensitiveKey) {
		return slog.String(a.Key, Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if looksLikeCredential(a.Value.String()) {
			return slog.String(a.Key, Redacted)
		}
	case slog.KindAny:
		if m, ok := redactMap(reflect.ValueOf(a.Value.Any())); ok {
			return slog.Any(a.Key, m)
		}
	}
	return a
}

// redactMap copies a map with string keys, redacting sensitive entries and
// recursing into nested maps; ok is false for anything else.
func redactMap(v reflect.Value) (map[string]any, bool) {
	if !v.IsValid() || v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		k := iter.Key().String()
		val := iter.Value()
		for val.Kind() == reflect.Interface && !val.IsNil() {
			val = val.Elem()
		}
		switch {
		case IsSensitiveKey(k):
			out[k] = Redacted
		case val.Kind() == reflect.String && looksLikeCredential(val.String()):
			out[k] = Redacted
		default:
			if nested, ok := redactMap(val); ok {
				out[k] = nested
			} else if val.IsValid() {
				out[k] = val.Interface()
			} else {
				out[k] = nil
			}
		}
	}
	return out, true
}
