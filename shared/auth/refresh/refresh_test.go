package refresh

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

var tokenPattern = regexp.MustCompile(`^rt_[A-Za-z0-9_-]{43}$`)

func TestNew(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if a == b {
		t.Fatal("two tokens are equal")
	}
	if !tokenPattern.MatchString(string(a)) {
		t.Fatalf("token %q does not look like rt_ + 43 base64url characters", string(a))
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(string(a), Prefix))
	if len(raw) != 32 {
		t.Fatalf("token carries %d random bytes, want 32", len(raw))
	}
	if got, err := Parse(string(a)); err != nil || got != a {
		t.Fatalf("Parse(New()) = %v, %v", got == a, err)
	}
}

func TestParse(t *testing.T) {
	good, err := New()
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	body := strings.TrimPrefix(s, Prefix)
	// 32 bytes take 43 characters; the last one's low 2 bits are padding
	// that the canonical encoding leaves zero. Setting one gives a second
	// spelling of the same bytes, which must be refused.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	nonCanonical := Prefix + body[:42] + string(alphabet[strings.IndexByte(alphabet, body[42])|1])
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"fresh token", s, true},
		{"empty", "", false},
		{"prefix only", Prefix, false},
		{"no prefix", body, false},
		{"other prefix", "wst_" + body, false},
		{"upper-case prefix", "RT_" + body, false},
		{"one character short", s[:len(s)-1], false},
		{"one character long", s + "A", false},
		{"padded", s + "=", false},
		{"standard alphabet", Prefix + strings.Repeat("+", 43), false},
		{"whitespace", " " + s, false},
		{"non-canonical last character", nonCanonical, false},
		{"a JWT", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.token)
			if tc.ok && err != nil {
				t.Fatalf("Parse rejected a good token: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestRandomToken(t *testing.T) {
	tests := []struct {
		name    string
		prefix  string
		n       int
		wantLen int
		wantErr bool
	}{
		{"ticket, 128 bits", "wst_", 16, 4 + 22, false},
		{"challenge, 256 bits", "chl_", 32, 4 + 43, false},
		{"no prefix", "", 16, 22, false},
		{"maximum", "x_", 64, 2 + 86, false},
		{"too few bytes", "wst_", 15, 0, true},
		{"too many bytes", "wst_", 65, 0, true},
		{"prefix with a dot", "a.b_", 16, 0, true},
		{"prefix upper case", "WST_", 16, 0, true},
		{"prefix too long", "verylongprefix_", 16, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := RandomToken(tc.prefix, tc.n)
			if (err != nil) != tc.wantErr {
				t.Fatalf("RandomToken error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				if err := Check("anything", tc.prefix, tc.n); err == nil {
					t.Fatal("Check accepted a shape RandomToken refuses")
				}
				return
			}
			if len(tok) != tc.wantLen || !strings.HasPrefix(tok, tc.prefix) {
				t.Fatalf("token %q has length %d, want %d with prefix %q", tok, len(tok), tc.wantLen, tc.prefix)
			}
			if err := Check(tok, tc.prefix, tc.n); err != nil {
				t.Fatalf("Check(RandomToken()) = %v", err)
			}
			other := tc.n + 1
			if other > MaxRandomBytes {
				other = tc.n - 1
			}
			if err := Check(tok, tc.prefix, other); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Check with another length = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// SHA-256 test vectors (FIPS 180-2).
		{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Hash(tc.in); got != tc.want {
				t.Fatalf("Hash = %s, want %s", got, tc.want)
			}
		})
	}
	tok, _ := New()
	if tok.Hash() != Hash(string(tok)) || strings.Contains(tok.Hash(), strings.TrimPrefix(string(tok), Prefix)) {
		t.Fatal("Token.Hash is not the hash of the token")
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", "rt_abc", "rt_abc", true},
		{"different", "rt_abc", "rt_abd", false},
		{"prefix of the other", "rt_ab", "rt_abc", false},
		{"both empty", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Fatalf("Equal = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTokenRedactedButSerialized(t *testing.T) {
	tok, err := New()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(string(tok), Prefix)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("issued", "token", tok)
	tests := []struct {
		name, out string
	}{
		{"%v", fmt.Sprintf("%v", tok)},
		{"%s", fmt.Sprintf("%s", tok)},
		{"%q", fmt.Sprintf("%q", tok)},
		{"%#v", fmt.Sprintf("%#v", tok)},
		{"%x", fmt.Sprintf("%x", tok)},
		{"in a struct", fmt.Sprintf("%+v", struct{ T Token }{tok})},
		{"error", fmt.Errorf("refresh failed for %v", tok).Error()},
		{"slog", logs.String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.out, secret) || strings.Contains(tc.out, fmt.Sprintf("%x", secret)[:20]) {
				t.Fatalf("output leaks the token: %s", tc.out)
			}
		})
	}
	b, err := json.Marshal(map[string]Token{"refreshToken": tok})
	if err != nil || !strings.Contains(string(b), string(tok)) {
		t.Fatalf("JSON encoding lost the token: %s, %v", b, err)
	}
}
