// Package password hashes and verifies user passwords with argon2id and
// enforces the server-side password policy.
//
// Hashes are stored as PHC-style strings
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// (salt and key in unpadded standard base64), so the cost parameters travel
// with each hash: they can be raised later, old hashes still verify, and
// [Hasher.NeedsRehash] tells the login flow when to re-hash with the new cost.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters and output sizes.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the time cost (number of passes over memory).
	Iterations uint32
	// Parallelism is the number of lanes.
	Parallelism uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes.
	KeyLength uint32
}

// DefaultParams is OWASP's minimum recommendation for argon2id (19 MiB, t=2,
// p=1) with a 16-byte salt and a 32-byte key. Raise it, never lower it:
// stored hashes keep their own parameters and are upgraded on login.
var DefaultParams = Params{
	Memory:      19 * 1024,
	Iterations:  2,
	Parallelism: 1,
	SaltLength:  16,
	KeyLength:   32,
}

// Bounds on parameters accepted from an encoded hash or a configuration. The
// upper bounds exist because the encoded hash dictates how much memory and
// CPU a verification spends: a corrupted or planted record must not be able
// to make one login allocate gigabytes or spin for minutes.
const (
	minMemoryKiB  = 8 * 1024
	maxMemoryKiB  = 256 * 1024
	maxIterations = 16
	maxLanes      = 8
	minSaltLen    = 16
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
	// maxEncodedLen bounds the encoded string before any parsing work.
	maxEncodedLen = 256
)

// MaxPasswordBytes is the longest input Hash and Verify accept. The policy's
// 128-character limit is at most 512 bytes of UTF-8; the extra room keeps
// this a guard against abuse rather than a second policy.
const MaxPasswordBytes = 1024

// Errors returned when an encoded hash cannot be used. They indicate a
// corrupted or foreign record, never a wrong password.
var (
	// ErrMalformedHash means the encoded string is not a well-formed argon2id PHC string.
	ErrMalformedHash = errors.New("password: malformed argon2id hash")
	// ErrIncompatibleVersion means the hash was made by another argon2 version.
	ErrIncompatibleVersion = errors.New("password: incompatible argon2 version")
	// ErrUnsupportedParams means the parameters are outside the accepted bounds.
	ErrUnsupportedParams = errors.New("password: argon2id parameters out of bounds")
	// ErrPasswordTooLong means the input exceeds MaxPasswordBytes.
	ErrPasswordTooLong = errors.New("password: input too long")
)

// kdfFunc has the signature of argon2.IDKey.
type kdfFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Hasher hashes and verifies passwords with argon2id at its Params.
// A Hasher is safe for concurrent use.
type Hasher struct {
	Params

	// kdf is argon2.IDKey unless a test substitutes a counting wrapper to
	// prove that DummyVerify and a wrong password run the same derivation.
	kdf kdfFunc
}

// NewHasher returns a Hasher for p, which must be at least OWASP's minimum
// (DefaultParams) and within the accepted bounds.
func NewHasher(p Params) (*Hasher, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.below(DefaultParams) {
		return nil, fmt.Errorf("%w: below the OWASP minimum (m=%d,t=%d,p=%d, salt %d, key %d)",
			ErrUnsupportedParams, DefaultParams.Memory, DefaultParams.Iterations,
			DefaultParams.Parallelism, DefaultParams.SaltLength, DefaultParams.KeyLength)
	}
	return &Hasher{Params: p}, nil
}

func (h *Hasher) derive(password, salt []byte, p Params) []byte {
	kdf := h.kdf
	if kdf == nil {
		kdf = argon2.IDKey
	}
	return kdf(password, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
}

// Hash returns the encoded argon2id hash of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	if err := h.Params.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, h.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	key := h.derive([]byte(password), salt, h.Params)
	return encode(h.Params, salt, key), nil
}

// Verify reports whether password matches the encoded hash. The comparison is
// constant-time. A non-nil error means the encoded hash itself is unusable
// (callers should treat that as a failed login and log the fault); a wrong
// password is (false, nil). An over-long password is (false, nil) too, since
// it cannot match anything Hash produced.
func (h *Hasher) Verify(password, encoded string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordBytes {
		return false, nil
	}
	got := h.derive([]byte(password), salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummySalt and the all-zero key make the dummy hash: a fixed, well-formed
// record at the hasher's parameters that no password matches in practice.
var dummySalt = []byte("vip-dummy-salt-0vip-dummy-salt-1vip-dummy-salt-2vip-dummy-salt-3")

// DummyVerify spends the same work as verifying a wrong password against a
// hash at the hasher's current parameters. Call it when the account does not
// exist, so that an unknown email and a wrong password cost the same time and
// give the same answer. (A stored hash with
// older, cheaper parameters verifies faster until it is re-hashed on the
// owner's next successful login; that reveals an old account, not whether an
// email is registered.)
func (h *Hasher) DummyVerify(password string) {
	p := h.Params
	if p.validate() != nil {
		p = DefaultParams
	}
	salt := dummySalt[:min(int(p.SaltLength), len(dummySalt))]
	encoded := encode(p, salt, make([]byte, p.KeyLength))
	// Going through Verify keeps this on exactly the code path of a real
	// record: decode, bounds checks, derivation, constant-time compare. The
	// outcome is discarded: the caller answers "invalid credentials" anyway.
	_, _ = h.Verify(password, encoded)
}

// NeedsRehash reports whether encoded should be replaced by a fresh hash:
// its parameters are below the hasher's, or it cannot be decoded at all.
// Call it after a successful Verify and store the result of Hash.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	if err != nil {
		return true
	}
	return p.below(h.Params)
}

// below reports whether any parameter of p is weaker than the same one of q.
func (p Params) below(q Params) bool {
	return p.Memory < q.Memory ||
		p.Iterations < q.Iterations ||
		p.Parallelism < q.Parallelism ||
		p.SaltLength < q.SaltLength ||
		p.KeyLength < q.KeyLength
}

func (p Params) validate() error {
	switch {
	case p.Memory < minMemoryKiB || p.Memory > maxMemoryKiB,
		p.Iterations < 1 || p.Iterations > maxIterations,
		p.Parallelism < 1 || p.Parallelism > maxLanes,
		p.SaltLength < minSaltLen || p.SaltLength > maxSaltLen,
		p.KeyLength < minKeyLen || p.KeyLength > maxKeyLen:
		return fmt.Errorf("%w: m=%d t=%d p=%d salt=%d key=%d", ErrUnsupportedParams,
			p.Memory, p.Iterations, p.Parallelism, p.SaltLength, p.KeyLength)
	}
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

func encodeParams(p Params) string {
	return "m=" + strconv.FormatUint(uint64(p.Memory), 10) +
		",t=" + strconv.FormatUint(uint64(p.Iterations), 10) +
		",p=" + strconv.FormatUint(uint64(p.Parallelism), 10)
}

func encode(p Params, salt, key []byte) string {
	return "$argon2id$v=" + strconv.Itoa(argon2.Version) + "$" + encodeParams(p) +
		"$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
}

// decode parses an encoded hash strictly: exact layout, canonical numbers,
// canonical unpadded base64, and parameters within bounds — all checked
// before any memory is committed to a derivation.
func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	if len(encoded) > maxEncodedLen {
		return p, nil, nil, ErrMalformedHash
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	version, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return p, nil, nil, ErrMalformedHash
	}
	if version != strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrIncompatibleVersion
	}

	var m, t, lanes uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	for i, dst := range []*uint64{&m, &t, &lanes} {
		name, value, ok := strings.Cut(fields[i], "=")
		if !ok || name != "mtp"[i:i+1] {
			return p, nil, nil, ErrMalformedHash
		}
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformedHash
		}
		*dst = n
	}
	if m > maxMemoryKiB || t > maxIterations || lanes > maxLanes {
		return p, nil, nil, ErrUnsupportedParams
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(m), uint32(t), uint8(lanes)
	// Reject non-canonical spellings such as "m=019456" so that one hash has
	// exactly one encoding.
	if encodeParams(p) != parts[3] {
		return Params{}, nil, nil, ErrMalformedHash
	}

	// Base64 lengths are checked before decoding so an oversized field costs nothing.
	if len(parts[4]) > b64.EncodedLen(maxSaltLen) || len(parts[5]) > b64.EncodedLen(maxKeyLen) {
		return Params{}, nil, nil, ErrUnsupportedParams
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}
