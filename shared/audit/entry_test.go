package audit_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/audit"
)

func validEntry() audit.Entry {
	return audit.Entry{
		Actor:     "usr_1",
		ActorRole: "admin",
		Action:    "admin.user.suspend",
		Target:    "usr_2",
		Outcome:   audit.OutcomeSuccess,
		Reason:    "spam",
		RequestID: "req-1",
		SourceIP:  "203.0.113.9",
		Details:   map[string]string{"previousStatus": "active"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*audit.Entry)
		wantErr string // substring; "" means valid
	}{
		{name: "valid", mutate: func(*audit.Entry) {}},
		{name: "system actor no details", mutate: func(e *audit.Entry) { e.Actor = audit.ActorSystem; e.Details = nil }},
		{name: "denied outcome", mutate: func(e *audit.Entry) { e.Outcome = audit.OutcomeDenied }},
		{name: "missing actor", mutate: func(e *audit.Entry) { e.Actor = " " }, wantErr: "actor is required"},
		{name: "empty action", mutate: func(e *audit.Entry) { e.Action = "" }, wantErr: "action"},
		{name: "single-word action", mutate: func(e *audit.Entry) { e.Action = "login" }, wantErr: "action"},
		{name: "upper-case action", mutate: func(e *audit.Entry) { e.Action = "Auth.Login" }, wantErr: "action"},
		{name: "unknown outcome", mutate: func(e *audit.Entry) { e.Outcome = "ok" }, wantErr: "outcome"},
		{name: "password key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"password": "x"} }, wantErr: "credential"},
		{name: "refresh_token key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"refresh_token": "x"} }, wantErr: "credential"},
		{name: "camel-case token key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"accessToken": "x"} }, wantErr: "credential"},
		{name: "client secret key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"Client-Secret": "x"} }, wantErr: "credential"},
		{name: "totp code key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"totpCode": "123456"} }, wantErr: "credential"},
		{name: "otp key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"OTP": "1"} }, wantErr: "credential"},
		{name: "hash key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"pw.hash": "1"} }, wantErr: "credential"},
		{name: "malformed key", mutate: func(e *audit.Entry) { e.Details = map[string]string{"a b": "1"} }, wantErr: "malformed"},
		{name: "too many details", mutate: func(e *audit.Entry) {
			e.Details = map[string]string{}
			for i := range audit.MaxDetails + 1 {
				e.Details["k"+strings.Repeat("x", i)] = "v"
			}
		}, wantErr: "details"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEntry()
			tt.mutate(&e)
			err := e.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, audit.ErrInvalidEntry) {
				t.Fatalf("Validate: got %v, want ErrInvalidEntry", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate: %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateNeverEchoesDetailValues(t *testing.T) {
	e := validEntry()
	e.Details = map[string]string{"password": "hunter2-very-secret"}
	err := e.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Validate: %v", err)
	}
}

// TestCanonicalGolden pins the documented canonical form and hash formula, so
// an accidental change (which would break every existing chain) fails here,
// and so an independent verifier can be checked against these vectors.
func TestCanonicalGolden(t *testing.T) {
	e := validEntry()
	e.Reason = `spam "x" <&>`
	e.Details = map[string]string{"b": "2", "a": "é"}
	e.Time = time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.FixedZone("CET", 3600))
	got, err := audit.CanonicalForTest(e, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"v":1,"time":"2026-01-02T02:04:05.123Z","actor":"usr_1","actorRole":"admin","action":"admin.user.suspend","target":"usr_2","outcome":"success","reason":"spam \"x\" <&>","requestId":"req-1","sourceIp":"203.0.113.9","details":{"a":"é","b":"2"}}`
	if got != want {
		t.Fatalf("canonical:\n got %s\nwant %s", got, want)
	}

	empty := audit.Entry{Actor: audit.ActorAnonymous, Action: "auth.login.failed", Outcome: audit.OutcomeFailure}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	got, err = audit.CanonicalForTest(empty, now)
	if err != nil {
		t.Fatal(err)
	}
	const wantEmpty = `{"v":1,"time":"2026-05-06T07:08:09Z","actor":"anonymous","actorRole":"","action":"auth.login.failed","target":"","outcome":"failure","reason":"","requestId":"","sourceIp":"","details":{}}`
	if got != wantEmpty {
		t.Fatalf("canonical:\n got %s\nwant %s", got, wantEmpty)
	}
}

func TestNormalizationTruncatesAndRepairs(t *testing.T) {
	e := validEntry()
	e.Target = strings.Repeat("é", 300) // 600 bytes, cap 256
	e.SourceIP = "1.2.3.4\xff"
	got, err := audit.CanonicalForTest(e, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `"target":"`+strings.Repeat("é", 128)+`"`) {
		t.Fatalf("target not truncated at a rune boundary to 256 bytes: %s", got)
	}
	if !strings.Contains(got, `"sourceIp":"1.2.3.4`+"\uFFFD"+`"`) {
		t.Fatalf("invalid UTF-8 not replaced: %s", got)
	}
}

// genesisHash and linkHash implement the documented formula independently of
// the package, for the chain tests.
func genesisHash(shard string) []byte {
	h := sha256.Sum256([]byte("vip-audit-genesis/" + shard))
	return h[:]
}

func linkHash(prev []byte, canonical string, seq uint64) string {
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte(canonical))
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	h.Write(s[:])
	return hex.EncodeToString(h.Sum(nil))
}
