package cursor_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/cursor"
)

var (
	key1 = bytes.Repeat([]byte{1}, cursor.KeySize)
	key2 = bytes.Repeat([]byte{2}, cursor.KeySize)
	t0   = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

func sealer(t *testing.T, current, previous []byte, at *time.Time) *cursor.Sealer {
	t.Helper()
	s, err := cursor.New(current, previous, cursor.WithClock(func() time.Time { return *at }))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func lastKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK":     &types.AttributeValueMemberS{Value: "PROGRAM#prg_abc"},
		"SK":     &types.AttributeValueMemberS{Value: "TASK#0001"},
		"GSI1SK": &types.AttributeValueMemberN{Value: "1735689600123"},
		"empty":  &types.AttributeValueMemberS{Value: ""},
	}
}

func equalKeys(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			w, ok := b[k].(*types.AttributeValueMemberS)
			if !ok || w.Value != v.Value {
				return false
			}
		case *types.AttributeValueMemberN:
			w, ok := b[k].(*types.AttributeValueMemberN)
			if !ok || w.Value != v.Value {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func TestKeyRoundTrip(t *testing.T) {
	at := t0
	s := sealer(t, key1, nil, &at)
	purpose := cursor.Purpose("GET /programs", "usr_1", "skill=go")
	tok, err := s.SealKey(purpose, lastKey())
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "+/=") || len(tok) > cursor.MaxTokenLen || strings.Contains(tok, "PROGRAM") {
		t.Fatalf("token %q is not opaque base64url", tok)
	}
	got, err := s.OpenKey(purpose, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !equalKeys(got, lastKey()) {
		t.Fatalf("OpenKey = %v", got)
	}
	again, _ := s.SealKey(purpose, lastKey())
	if again == tok {
		t.Fatal("two seals of one key gave one token: nonce not random")
	}
}

func TestMapRoundTrip(t *testing.T) {
	at := t0
	s := sealer(t, key1, nil, &at)
	in := map[string]string{"offset": "40", "q": "ünï"}
	tok, err := s.Seal("p", in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Open("p", tok)
	if err != nil || !maps.Equal(got, in) {
		t.Fatalf("Open = %v, %v", got, err)
	}
}

func TestEmptyKeyMeansLastPage(t *testing.T) {
	at := t0
	s := sealer(t, key1, nil, &at)
	for _, k := range []map[string]types.AttributeValue{nil, {}} {
		tok, err := s.SealKey("p", k)
		if err != nil || tok != "" {
			t.Fatalf("SealKey(%v) = %q, %v", k, tok, err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	at := t0
	s := sealer(t, key1, nil, &at)
	purpose := cursor.Purpose("GET /programs", "usr_1")
	tok, err := s.SealKey(purpose, lastKey())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	mapTok, _ := s.Seal(purpose, map[string]string{"PK": "SPROGRAM#x"})
	other := sealer(t, key2, nil, &at)
	foreign, _ := other.SealKey(purpose, lastKey())
	tests := []struct {
		name    string
		purpose string
		token   string
	}{
		{"empty", purpose, ""},
		{"not base64", purpose, "!!!!" + tok[4:]},
		{"padded", purpose, tok + "="},
		{"truncated", purpose, tok[:len(tok)-4]},
		{"very short", purpose, tok[:10]},
		{"too long", purpose, strings.Repeat("A", cursor.MaxTokenLen+1)},
		{"version byte", purpose, flip(0)},
		{"nonce byte", purpose, flip(3)},
		{"ciphertext byte", purpose, flip(20)},
		{"tag byte", purpose, flip(len(raw) - 1)},
		{"wrong purpose: other route", cursor.Purpose("GET /applications", "usr_1"), tok},
		{"wrong purpose: other user", cursor.Purpose("GET /programs", "usr_2"), tok},
		{"wrong purpose: ambiguity", cursor.Purpose("GET /programsu", "sr_1"), tok},
		{"wrong key", purpose, foreign},
		{"map token as key", purpose, mapTok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.OpenKey(tc.purpose, tc.token); !errors.Is(err, cursor.ErrInvalidCursor) {
				t.Fatalf("OpenKey = %v, want ErrInvalidCursor", err)
			}
		})
	}
	if _, err := s.Open(purpose, tok); !errors.Is(err, cursor.ErrInvalidCursor) {
		t.Fatalf("key token opened as map: %v", err)
	}
	if _, err := s.OpenKey(purpose, tok); err != nil {
		t.Fatalf("the untampered token must still open: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	at := t0
	s, err := cursor.New(key1, nil, cursor.WithClock(func() time.Time { return at }), cursor.WithMaxAge(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.SealKey("p", lastKey())
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"fresh", t0, true},
		{"at max age", t0.Add(time.Hour), true},
		{"past max age", t0.Add(time.Hour + time.Second), false},
		{"small skew", t0.Add(-time.Minute), true},
		{"from the future", t0.Add(-time.Hour), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at = tc.at
			_, err := s.OpenKey("p", tok)
			if (err == nil) != tc.ok {
				t.Fatalf("OpenKey = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, cursor.ErrInvalidCursor) {
				t.Fatalf("error %v is not ErrInvalidCursor", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	at := t0
	old := sealer(t, key1, nil, &at)
	rotated := sealer(t, key2, key1, &at)
	retired := sealer(t, key2, nil, &at)
	oldTok, _ := old.SealKey("p", lastKey())
	newTok, _ := rotated.SealKey("p", lastKey())
	tests := []struct {
		name  string
		s     *cursor.Sealer
		token string
		ok    bool
	}{
		{"old token, previous key kept", rotated, oldTok, true},
		{"new token, rotated sealer", rotated, newTok, true},
		{"new token, retired sealer", retired, newTok, true},
		{"old token, previous key retired", retired, oldTok, false},
		{"new token, old sealer", old, newTok, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.OpenKey("p", tc.token)
			if (err == nil) != tc.ok {
				t.Fatalf("OpenKey = %v, want ok=%v", err, tc.ok)
			}
			if err == nil && !equalKeys(got, lastKey()) {
				t.Fatalf("OpenKey = %v", got)
			}
		})
	}
}

func TestSealErrors(t *testing.T) {
	at := t0
	s := sealer(t, key1, nil, &at)
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"no purpose", func() error { _, err := s.SealKey("", lastKey()); return err }, cursor.ErrNoPurpose},
		{"no purpose on open", func() error { _, err := s.Open("", "x"); return err }, cursor.ErrNoPurpose},
		{"binary attribute", func() error {
			_, err := s.SealKey("p", map[string]types.AttributeValue{"PK": &types.AttributeValueMemberB{Value: []byte{1}}})
			return err
		}, cursor.ErrUnsupportedKey},
		{"too large", func() error {
			_, err := s.SealKey("p", map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: strings.Repeat("x", 800)}})
			return err
		}, cursor.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// The largest payload that fits seals into a token within the limit.
	tok, err := s.SealKey("p", map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: strings.Repeat("x", 700)}})
	if err != nil || len(tok) > cursor.MaxTokenLen {
		t.Fatalf("700-byte key: len %d, %v", len(tok), err)
	}
}

func TestNewValidatesKeys(t *testing.T) {
	tests := []struct {
		name              string
		current, previous []byte
		ok                bool
	}{
		{"current only", key1, nil, true},
		{"both", key1, key2, true},
		{"base64 secret string as is", []byte(base64.RawURLEncoding.EncodeToString(key1)), nil, true},
		{"short current", key1[:31], nil, false},
		{"nil current", nil, nil, false},
		{"short previous", key1, key2[:16], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cursor.New(tc.current, tc.previous)
			if (err == nil) != tc.ok {
				t.Fatalf("New = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestPurposeIsUnambiguous(t *testing.T) {
	if cursor.Purpose("ab", "c") == cursor.Purpose("a", "bc") || cursor.Purpose("a", "") == cursor.Purpose("a") {
		t.Fatal("Purpose parts are ambiguous")
	}
}
