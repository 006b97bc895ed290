package password

import (
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
)

// kdfCall records the parameters of one key derivation.
type kdfCall struct {
	time, memory      uint32
	threads           uint8
	keyLen, saltLen   uint32
	passwordByteCount int
}

// countingKDF wraps argon2.IDKey and records every call, so tests can prove
// which derivations ran without measuring time.
type countingKDF struct {
	mu    sync.Mutex
	calls []kdfCall
}

func (c *countingKDF) kdf(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	c.mu.Lock()
	c.calls = append(c.calls, kdfCall{time, memory, threads, keyLen, uint32(len(salt)), len(password)})
	c.mu.Unlock()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}

func (c *countingKDF) take() []kdfCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func newTestHasher(t *testing.T) (*Hasher, *countingKDF) {
	t.Helper()
	h, err := NewHasher(DefaultParams)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	c := &countingKDF{}
	h.kdf = c.kdf
	return h, c
}

var encodedPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashFormatAndVerify(t *testing.T) {
	h, _ := newTestHasher(t)
	const pw = "correct horse battery staple"
	encoded, err := h.Hash(pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !encodedPattern.MatchString(encoded) {
		t.Fatalf("encoded hash %q does not have the PHC layout", encoded)
	}
	if strings.Contains(encoded, pw) {
		t.Fatal("encoded hash contains the password")
	}
	again, err := h.Hash(pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if again == encoded {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"same password", pw, true},
		{"wrong password", "correct horse battery stapler", false},
		{"case differs", "Correct horse battery staple", false},
		{"empty", "", false},
		{"prefix", pw[:len(pw)-1], false},
		{"over the byte cap", strings.Repeat("a", MaxPasswordBytes+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(tc.password, encoded)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.want {
				t.Fatalf("Verify = %v, want %v", ok, tc.want)
			}
		})
	}
}

func TestHashRejects(t *testing.T) {
	tests := []struct {
		name     string
		hasher   Hasher
		password string
		want     error
	}{
		{"zero hasher", Hasher{}, "a fine password", ErrUnsupportedParams},
		{"memory above cap", Hasher{Params: Params{Memory: maxMemoryKiB + 1, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}}, "a fine password", ErrUnsupportedParams},
		{"password over cap", Hasher{Params: DefaultParams}, strings.Repeat("x", MaxPasswordBytes+1), ErrPasswordTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.hasher.Hash(tc.password); !errors.Is(err, tc.want) {
				t.Fatalf("Hash error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewHasher(t *testing.T) {
	with := func(f func(*Params)) Params { p := DefaultParams; f(&p); return p }
	tests := []struct {
		name    string
		params  Params
		wantErr bool
	}{
		{"owasp minimum", DefaultParams, false},
		{"stronger", with(func(p *Params) { p.Memory = 64 * 1024; p.Iterations = 3 }), false},
		{"memory below owasp", with(func(p *Params) { p.Memory = 12 * 1024 }), true},
		{"one iteration", with(func(p *Params) { p.Iterations = 1 }), true},
		{"no lanes", with(func(p *Params) { p.Parallelism = 0 }), true},
		{"short salt", with(func(p *Params) { p.SaltLength = 8 }), true},
		{"short key", with(func(p *Params) { p.KeyLength = 16 }), true},
		{"memory above cap", with(func(p *Params) { p.Memory = 1 << 20 }), true},
		{"iterations above cap", with(func(p *Params) { p.Iterations = 100 }), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHasher(tc.params)
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewHasher error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedParams) {
				t.Fatalf("error %v is not ErrUnsupportedParams", err)
			}
		})
	}
}

// encodeRaw builds an encoded hash by hand, for records made with other
// parameters than the hasher's.
func encodeRaw(t *testing.T, password string, p Params) string {
	t.Helper()
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return encode(p, salt, key)
}

func TestVerifyUsesStoredParams(t *testing.T) {
	h, counter := newTestHasher(t)
	const pw = "legacy and future hashes"
	tests := []struct {
		name       string
		params     Params
		wantRehash bool
	}{
		{"current", DefaultParams, false},
		{"older, less memory", Params{Memory: 8 * 1024, Iterations: 3, Parallelism: 1, SaltLength: 16, KeyLength: 32}, true},
		{"older, fewer iterations", Params{Memory: 19 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, true},
		{"older, shorter key", Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 16}, true},
		{"newer, stronger", Params{Memory: 32 * 1024, Iterations: 3, Parallelism: 2, SaltLength: 32, KeyLength: 64}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			encoded := encodeRaw(t, pw, tc.params)
			ok, err := h.Verify(pw, encoded)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
			calls := counter.take()
			if len(calls) != 1 || calls[0].memory != tc.params.Memory || calls[0].time != tc.params.Iterations ||
				calls[0].threads != tc.params.Parallelism || calls[0].keyLen != tc.params.KeyLength {
				t.Fatalf("derivations %+v do not use the stored parameters %+v", calls, tc.params)
			}
			if got := h.NeedsRehash(encoded); got != tc.wantRehash {
				t.Fatalf("NeedsRehash = %v, want %v", got, tc.wantRehash)
			}
		})
	}
	if !h.NeedsRehash("not a hash") {
		t.Fatal("NeedsRehash of garbage = false, want true")
	}
}

func TestDecodeRejects(t *testing.T) {
	h, counter := newTestHasher(t)
	valid := encodeRaw(t, "x", DefaultParams)
	parts := strings.Split(valid, "$")
	salt, key := parts[4], parts[5]
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }

	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrMalformedHash},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", ErrMalformedHash},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1), ErrMalformedHash},
		{"argon2d", strings.Replace(valid, "argon2id", "argon2d", 1), ErrMalformedHash},
		{"version 16", strings.Replace(valid, "v=19", "v=16", 1), ErrIncompatibleVersion},
		{"version missing", strings.Replace(valid, "$v=19", "", 1), ErrMalformedHash},
		{"leading text", "x" + valid, ErrMalformedHash},
		{"extra field", valid + "$", ErrMalformedHash},
		{"params reordered", with("t=2,m=19456,p=1"), ErrMalformedHash},
		{"param missing", with("m=19456,t=2"), ErrMalformedHash},
		{"param extra", with("m=19456,t=2,p=1,k=1"), ErrMalformedHash},
		{"leading zero", with("m=019456,t=2,p=1"), ErrMalformedHash},
		{"plus sign", with("m=+19456,t=2,p=1"), ErrMalformedHash},
		{"negative", with("m=19456,t=-2,p=1"), ErrMalformedHash},
		{"not a number", with("m=lots,t=2,p=1"), ErrMalformedHash},
		{"uint32 overflow", with("m=4294967296,t=2,p=1"), ErrMalformedHash},
		{"memory 4 GiB", with("m=4194304,t=2,p=1"), ErrUnsupportedParams},
		{"memory tiny", with("m=64,t=2,p=1"), ErrUnsupportedParams},
		{"iterations absurd", with("m=19456,t=4000000,p=1"), ErrUnsupportedParams},
		{"iterations zero", with("m=19456,t=0,p=1"), ErrUnsupportedParams},
		{"lanes zero", with("m=19456,t=2,p=0"), ErrUnsupportedParams},
		{"lanes 255", with("m=19456,t=2,p=255"), ErrUnsupportedParams},
		{"salt short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key, ErrUnsupportedParams},
		{"salt huge", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 120) + "$" + key, ErrUnsupportedParams},
		{"key short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAA", ErrUnsupportedParams},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key, ErrMalformedHash},
		{"salt url alphabet", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("-", 22) + "$" + key, ErrMalformedHash},
		{"key non-canonical bits", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:42] + "B", ErrMalformedHash},
		{"oversized", valid + strings.Repeat("A", 300), ErrMalformedHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify("x", tc.encoded)
			if ok || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, %v; want false, %v", ok, err, tc.want)
			}
			if calls := counter.take(); len(calls) != 0 {
				t.Fatalf("a rejected hash still ran %d derivations", len(calls))
			}
		})
	}
}

// TestDummyVerifySamePathAsWrongPassword proves that an unknown account
// (DummyVerify) and a wrong password for a real account run the very same
// derivation: one argon2id call with identical cost parameters, salt length
// and input length. Equal work is what makes the two answers take the same
// time; counting calls proves it without a wall-clock measurement.
func TestDummyVerifySamePathAsWrongPassword(t *testing.T) {
	h, counter := newTestHasher(t)
	stored, err := h.Hash("the real password of the user")
	if err != nil {
		t.Fatal(err)
	}
	counter.take()

	const attempt = "an attacker's guess"
	tests := []struct {
		name string
		run  func()
	}{
		{"wrong password", func() {
			if ok, err := h.Verify(attempt, stored); ok || err != nil {
				t.Fatalf("Verify = %v, %v; want false, nil", ok, err)
			}
		}},
		{"unknown account", func() { h.DummyVerify(attempt) }},
	}
	var seen [][]kdfCall
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run()
			calls := counter.take()
			if len(calls) != 1 {
				t.Fatalf("%d derivations, want exactly 1", len(calls))
			}
			c := calls[0]
			if c.memory != DefaultParams.Memory || c.time != DefaultParams.Iterations ||
				c.threads != DefaultParams.Parallelism || c.keyLen != DefaultParams.KeyLength ||
				c.saltLen != DefaultParams.SaltLength {
				t.Fatalf("derivation %+v is not at the hasher's parameters %+v", c, DefaultParams)
			}
			seen = append(seen, calls)
		})
	}
	if len(seen) == 2 && seen[0][0] != seen[1][0] {
		t.Fatalf("wrong password ran %+v, unknown account ran %+v", seen[0][0], seen[1][0])
	}
}

func TestDummyVerifyFollowsRaisedParams(t *testing.T) {
	p := DefaultParams
	p.Memory, p.Iterations = 24*1024, 3
	h, err := NewHasher(p)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingKDF{}
	h.kdf = c.kdf
	h.DummyVerify("whatever")
	calls := c.take()
	if len(calls) != 1 || calls[0].memory != p.Memory || calls[0].time != p.Iterations {
		t.Fatalf("DummyVerify ran %+v, want one derivation at m=%d t=%d", calls, p.Memory, p.Iterations)
	}
}
