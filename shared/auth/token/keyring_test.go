package token

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedKey returns a deterministic key, so JSON fixtures can be written out.
func fixedKey(t testing.TB, kid string, seedByte byte) Key {
	t.Helper()
	seed := bytes.Repeat([]byte{seedByte}, ed25519.SeedSize)
	return Key{ID: kid, Private: ed25519.NewKeyFromSeed(seed), CreatedAt: testNow}
}

func newTestKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey(testNow)
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	return k
}

func seedB64(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func TestNewKey(t *testing.T) {
	a, b := newTestKey(t), newTestKey(t)
	if a.ID == b.ID || bytes.Equal(a.Private, b.Private) {
		t.Fatal("two new keys are equal")
	}
	if !validKeyID(a.ID) || len(a.ID) != 26 {
		t.Fatalf("kid %q is not a 26-character URL-safe ID", a.ID)
	}
	if err := a.validate("new"); err != nil {
		t.Fatalf("new key invalid: %v", err)
	}
}

func TestParseKeyRing(t *testing.T) {
	const created = `"createdAt":"2026-03-01T12:00:00Z"`
	keyJSON := func(kid string, b byte) string {
		return `{"kid":"` + kid + `","seed":"` + seedB64(b) + `",` + created + `}`
	}
	full := `{"version":1,"current":` + keyJSON("k2", 2) + `,"previous":` + keyJSON("k1", 1) + `}`

	tests := []struct {
		name         string
		json         string
		wantErr      bool
		wantPrevious bool
	}{
		{"current and previous", full, false, true},
		{"current only", `{"version":1,"current":` + keyJSON("k2", 2) + `}`, false, false},
		{"previous null", `{"version":1,"current":` + keyJSON("k2", 2) + `,"previous":null}`, false, false},

		{"not JSON", `version=1`, true, false},
		{"empty object", `{}`, true, false},
		{"trailing data", full + `{}`, true, false},
		{"unknown top-level member", strings.Replace(full, `"version":1`, `"version":1,"next":null`, 1), true, false},
		{"unknown key member", strings.Replace(full, created, created+`,"alg":"EdDSA"`, 1), true, false},
		{"duplicate member", strings.Replace(full, `"version":1`, `"version":1,"version":1`, 1), true, false},
		{"case-mismatched member", strings.Replace(full, `"current"`, `"Current"`, 1), true, false},
		{"version missing", strings.Replace(full, `"version":1,`, ``, 1), true, false},
		{"version 2", strings.Replace(full, `"version":1`, `"version":2`, 1), true, false},
		{"version as string", strings.Replace(full, `"version":1`, `"version":"1"`, 1), true, false},
		{"current missing", `{"version":1,"previous":` + keyJSON("k1", 1) + `}`, true, false},
		{"current null", `{"version":1,"current":null}`, true, false},
		{"seed of 16 bytes", strings.Replace(full, seedB64(2), base64.StdEncoding.EncodeToString(make([]byte, 16)), 1), true, false},
		{"seed of 64 bytes (a whole private key)", strings.Replace(full, seedB64(2), base64.StdEncoding.EncodeToString(make([]byte, 64)), 1), true, false},
		{"seed not base64", strings.Replace(full, seedB64(2), "not*base64!", 1), true, false},
		{"seed unpadded", strings.Replace(full, seedB64(2), strings.TrimRight(seedB64(2), "="), 1), true, false},
		{"seed missing", `{"version":1,"current":{"kid":"k2",` + created + `}}`, true, false},
		{"kid missing", `{"version":1,"current":{"seed":"` + seedB64(2) + `",` + created + `}}`, true, false},
		{"kid with slash", `{"version":1,"current":` + keyJSON("k/2", 2) + `}`, true, false},
		{"kid too long", `{"version":1,"current":` + keyJSON(strings.Repeat("k", 65), 2) + `}`, true, false},
		{"createdAt missing", `{"version":1,"current":{"kid":"k2","seed":"` + seedB64(2) + `"}}`, true, false},
		{"createdAt not a time", strings.Replace(full, "2026-03-01T12:00:00Z", "yesterday", 1), true, false},
		{"duplicate kids", `{"version":1,"current":` + keyJSON("k1", 2) + `,"previous":` + keyJSON("k1", 1) + `}`, true, false},
		{"same key under two kids", `{"version":1,"current":` + keyJSON("k2", 1) + `,"previous":` + keyJSON("k1", 1) + `}`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := ParseKeyRing([]byte(tc.json))
			if tc.wantErr {
				if !errors.Is(err, ErrBadKeyRing) {
					t.Fatalf("ParseKeyRing error = %v, want ErrBadKeyRing", err)
				}
				for b := byte(0); b < 3; b++ {
					if strings.Contains(err.Error(), seedB64(b)) || strings.Contains(err.Error(), strings.TrimRight(seedB64(b), "=")) {
						t.Fatal("error text contains a seed")
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeyRing: %v", err)
			}
			want := fixedKey(t, "k2", 2)
			if ring.Current.ID != "k2" || !bytes.Equal(ring.Current.Private, want.Private) || !ring.Current.CreatedAt.Equal(testNow) {
				t.Fatalf("current = %v, want %v", ring.Current, want)
			}
			if (ring.Previous != nil) != tc.wantPrevious {
				t.Fatalf("previous = %v, want present %v", ring.Previous, tc.wantPrevious)
			}
			if tc.wantPrevious && (ring.Previous.ID != "k1" || !bytes.Equal(ring.Previous.Private, fixedKey(t, "k1", 1).Private)) {
				t.Fatalf("previous = %v", ring.Previous)
			}
		})
	}
}

func TestKeyRingMarshalRoundTrip(t *testing.T) {
	k1, k2 := newTestKey(t), newTestKey(t)
	tests := []struct {
		name string
		ring *KeyRing
	}{
		{"current only", &KeyRing{Current: k1}},
		{"with previous", &KeyRing{Current: k2, Previous: &k1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.ring.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			back, err := ParseKeyRing(b)
			if err != nil {
				t.Fatalf("ParseKeyRing(Marshal()): %v", err)
			}
			if back.Current.ID != tc.ring.Current.ID || !bytes.Equal(back.Current.Private, tc.ring.Current.Private) ||
				!back.Current.CreatedAt.Equal(tc.ring.Current.CreatedAt) {
				t.Fatalf("current changed in the round trip")
			}
			if (back.Previous == nil) != (tc.ring.Previous == nil) ||
				back.Previous != nil && !bytes.Equal(back.Previous.Private, tc.ring.Previous.Private) {
				t.Fatalf("previous changed in the round trip")
			}
		})
	}
}

func TestKeyRingMarshalRefusesInvalid(t *testing.T) {
	k := newTestKey(t)
	dup := k
	broken := k
	broken.Private = broken.Private[:32]
	tests := []struct {
		name string
		ring *KeyRing
	}{
		{"zero ring", &KeyRing{}},
		{"duplicate kid", &KeyRing{Current: k, Previous: &dup}},
		{"truncated private key", &KeyRing{Current: broken}},
		{"no creation time", &KeyRing{Current: Key{ID: "x", Private: k.Private}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.ring.Marshal(); !errors.Is(err, ErrBadKeyRing) {
				t.Fatalf("Marshal error = %v, want ErrBadKeyRing", err)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	k1, k2, k3 := newTestKey(t), newTestKey(t), newTestKey(t)
	r1 := &KeyRing{Current: k1}
	r2 := r1.Rotate(k2)
	r3 := r2.Rotate(k3)

	if r1.Previous != nil || r1.Current.ID != k1.ID {
		t.Fatal("Rotate modified its receiver")
	}
	tests := []struct {
		name string
		ring *KeyRing
		kid  string
		want bool
	}{
		{"first ring knows k1", r1, k1.ID, true},
		{"first ring does not know k2", r1, k2.ID, false},
		{"after one rotation k2 is current", r2, k2.ID, true},
		{"after one rotation k1 is previous", r2, k1.ID, true},
		{"after two rotations k3 is current", r3, k3.ID, true},
		{"after two rotations k2 is previous", r3, k2.ID, true},
		{"after two rotations k1 is gone", r3, k1.ID, false},
		{"empty kid", r3, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.ring.Lookup(tc.kid); ok != tc.want {
				t.Fatalf("Lookup = %v, want %v", ok, tc.want)
			}
		})
	}
	if r3.Current.ID != k3.ID || r3.Previous.ID != k2.ID {
		t.Fatalf("ring after two rotations = %v", r3)
	}
}

func TestPublicJWKS(t *testing.T) {
	k1, k2 := newTestKey(t), newTestKey(t)
	ring := &KeyRing{Current: k2, Previous: &k1}
	b, err := ring.PublicJWKS()
	if err != nil {
		t.Fatalf("PublicJWKS: %v", err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	want := []Key{k2, k1}
	if len(set.Keys) != len(want) {
		t.Fatalf("%d keys, want %d", len(set.Keys), len(want))
	}
	for i, k := range want {
		got := set.Keys[i]
		x, err := base64.RawURLEncoding.DecodeString(got["x"])
		if err != nil || !bytes.Equal(x, k.Public()) {
			t.Fatalf("key %d: x does not decode to the public key", i)
		}
		if got["kty"] != "OKP" || got["crv"] != "Ed25519" || got["alg"] != "EdDSA" || got["use"] != "sig" || got["kid"] != k.ID {
			t.Fatalf("key %d = %v", i, got)
		}
		if _, ok := got["d"]; ok || len(got) != 6 {
			t.Fatalf("key %d has members beyond the public ones: %v", i, got)
		}
	}
	if bytes.Contains(b, []byte(base64.RawURLEncoding.EncodeToString(k1.Private.Seed()))) {
		t.Fatal("JWKS contains a private seed")
	}
}

// TestKeysDoNotPrintSecrets formats keys and rings every way a log line or
// an error might, and checks no form of the private key appears.
func TestKeysDoNotPrintSecrets(t *testing.T) {
	k1, k2 := newTestKey(t), newTestKey(t)
	ring := &KeyRing{Current: k2, Previous: &k1}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("ring", "ring", ring, "key", k1, "ptr", &k2)

	outputs := map[string]string{"slog": logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outputs["key "+verb] = fmt.Sprintf(verb, k1)
		outputs["ring "+verb] = fmt.Sprintf(verb, ring)
		outputs["ring value "+verb] = fmt.Sprintf(verb, *ring)
		outputs["slice "+verb] = fmt.Sprintf(verb, []Key{k1})
	}
	for name, out := range outputs {
		for _, k := range []Key{k1, k2} {
			seed := k.Private.Seed()
			for _, form := range []string{
				hex.EncodeToString(seed), strings.ToUpper(hex.EncodeToString(seed)),
				base64.StdEncoding.EncodeToString(seed), base64.RawURLEncoding.EncodeToString(seed),
				fmt.Sprint(seed[:8]), fmt.Sprint([]byte(k.Private)[:8]),
			} {
				if strings.Contains(out, form[:min(len(form), 24)]) {
					t.Fatalf("%s output leaks the private key: %s", name, out)
				}
			}
		}
		if !strings.Contains(out, k1.ID) {
			t.Fatalf("%s output lacks the kid: %s", name, out)
		}
	}
}
