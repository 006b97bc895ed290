// Package cursor seals pagination cursors: a listing hands the client an
// opaque token that carries where the next page starts (usually DynamoDB's
// LastEvaluatedKey), and takes it back on the next request. The token is
// encrypted and authenticated (AES-256-GCM), so a client can neither read the
// table keys inside (DynamoDB keys never leave the service) nor forge or
// alter one to start a query elsewhere.
//
// Every token is bound to a purpose, the additional authenticated data:
// build it with Purpose from the route, the caller's ID and any filter
// (Purpose("GET /programs", callerID, "skill="+skill)), so a cursor of one
// listing, one user or one filter is refused by every other. Tokens also
// carry their issue time and expire after MaxAge (24 h by default), so one
// that leaks through a log or a browser history soon becomes useless.
//
// # Token format
//
//	base64url_nopad( version(1) || nonce(12) || AES-256-GCM(plaintext) )
//	plaintext = issuedAt (8 bytes, big-endian unix seconds) || payload (JSON)
//	AAD       = "vip-cursor" 0x00 version kind purpose
//
// kind tells a string map (Seal) from a DynamoDB key (SealKey), so one cannot
// be opened as the other. Tokens are at most MaxTokenLen characters.
//
// # Keys
//
// The key material (at least KeySize bytes; the secret from Secrets Manager,
// e.g. the devstack's random-32 generator output, as is) is not used
// directly: the AES key is derived from it with HKDF-SHA-256, so the secret
// cannot be misused across purposes. Rotation: New(current, previous) seals
// with current and opens with either, so cursors issued just before a
// rotation keep working for one rotation period.
//
// Every failure to open is ErrInvalidCursor (wrapped with a reason for logs
// that never contains the token): handlers answer 400.
package cursor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json/v2"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Sizes and limits.
const (
	// KeySize is the minimum length of key material given to New.
	KeySize = 32
	// MaxTokenLen bounds a token, within apigw's query parameter limit.
	MaxTokenLen = 1024
	// DefaultMaxAge is how long a token stays valid unless WithMaxAge says
	// otherwise.
	DefaultMaxAge = 24 * time.Hour
	// clockSkew tolerates tokens issued by an instance whose clock runs a
	// little ahead.
	clockSkew = 5 * time.Minute
)

const (
	version   byte = 1
	nonceSize      = 12
	tagSize        = 16
	stampSize      = 8
	kindMap   byte = 'm'
	kindKey   byte = 'k'
	hkdfInfo       = "vip-platform cursor v1"
)

// Errors.
var (
	// ErrInvalidCursor is every reason a token does not open: malformed,
	// truncated, tampered, sealed with an unknown key or for another purpose,
	// expired. Answer 400.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrTooLarge: the sealed token would exceed MaxTokenLen. A programming
	// error (a key with huge attribute values), not a client error.
	ErrTooLarge = errors.New("cursor too large")
	// ErrUnsupportedKey: SealKey got an attribute other than S or N.
	ErrUnsupportedKey = errors.New("cursor key attribute must be S or N")
	// ErrNoPurpose: Seal and Open need a purpose.
	ErrNoPurpose = errors.New("cursor purpose is empty")
)

// Sealer seals and opens cursors. It is safe for concurrent use.
type Sealer struct {
	current  cipher.AEAD
	previous cipher.AEAD
	now      func() time.Time
	maxAge   time.Duration
}

// Option configures a Sealer.
type Option func(*Sealer)

// WithClock replaces time.Now (tests of expiry).
func WithClock(now func() time.Time) Option { return func(s *Sealer) { s.now = now } }

// WithMaxAge sets how long tokens stay valid; values <= 0 keep the default.
func WithMaxAge(d time.Duration) Option {
	return func(s *Sealer) {
		if d > 0 {
			s.maxAge = d
		}
	}
}

// New returns a Sealer that seals with current and opens tokens of current or
// previous (nil or empty when there is none). Each must be at least KeySize
// bytes of secret key material.
func New(current, previous []byte, opts ...Option) (*Sealer, error) {
	s := &Sealer{now: time.Now, maxAge: DefaultMaxAge}
	var err error
	if s.current, err = newAEAD(current); err != nil {
		return nil, fmt.Errorf("cursor: current key: %w", err)
	}
	if len(previous) > 0 {
		if s.previous, err = newAEAD(previous); err != nil {
			return nil, fmt.Errorf("cursor: previous key: %w", err)
		}
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

func newAEAD(material []byte) (cipher.AEAD, error) {
	if len(material) < KeySize {
		return nil, fmt.Errorf("key material must be at least %d bytes", KeySize)
	}
	key, err := hkdf.Key(sha256.New, material, nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// Purpose builds an unambiguous purpose from its parts (route, caller ID,
// filters): each part is length-prefixed, so ("ab", "c") and ("a", "bc")
// differ.
func Purpose(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.Write(binary.AppendUvarint(nil, uint64(len(p))))
		b.WriteString(p)
	}
	return b.String()
}

// Seal returns a token carrying fields, bound to purpose.
func (s *Sealer) Seal(purpose string, fields map[string]string) (string, error) {
	payload, err := json.Marshal(fields, json.Deterministic(true))
	if err != nil {
		return "", fmt.Errorf("cursor: encode: %w", err)
	}
	return s.seal(purpose, kindMap, payload)
}

// Open returns the fields of a token Seal made for the same purpose.
func (s *Sealer) Open(purpose, token string) (map[string]string, error) {
	payload, err := s.open(purpose, kindMap, token)
	if err != nil {
		return nil, err
	}
	var fields map[string]string
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, fmt.Errorf("%w: payload", ErrInvalidCursor)
	}
	return fields, nil
}

// SealKey seals a DynamoDB LastEvaluatedKey (S and N attributes). An empty
// key means there is no next page and returns "" without error, so a
// handler can pass out.LastEvaluatedKey straight through.
func (s *Sealer) SealKey(purpose string, key map[string]types.AttributeValue) (string, error) {
	if len(key) == 0 {
		return "", nil
	}
	enc := make(map[string]string, len(key))
	for name, av := range key {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			enc[name] = "S" + v.Value
		case *types.AttributeValueMemberN:
			enc[name] = "N" + v.Value
		default:
			return "", fmt.Errorf("cursor: attribute %q: %w", name, ErrUnsupportedKey)
		}
	}
	payload, err := json.Marshal(enc, json.Deterministic(true))
	if err != nil {
		return "", fmt.Errorf("cursor: encode key: %w", err)
	}
	return s.seal(purpose, kindKey, payload)
}

// OpenKey returns the ExclusiveStartKey of a token SealKey made for the same
// purpose.
func (s *Sealer) OpenKey(purpose, token string) (map[string]types.AttributeValue, error) {
	payload, err := s.open(purpose, kindKey, token)
	if err != nil {
		return nil, err
	}
	var enc map[string]string
	if err := json.Unmarshal(payload, &enc); err != nil || len(enc) == 0 {
		return nil, fmt.Errorf("%w: key payload", ErrInvalidCursor)
	}
	key := make(map[string]types.AttributeValue, len(enc))
	for name, v := range enc {
		switch {
		case strings.HasPrefix(v, "S"):
			key[name] = &types.AttributeValueMemberS{Value: v[1:]}
		case strings.HasPrefix(v, "N"):
			key[name] = &types.AttributeValueMemberN{Value: v[1:]}
		default:
			return nil, fmt.Errorf("%w: key attribute type", ErrInvalidCursor)
		}
	}
	return key, nil
}

func aad(kind byte, purpose string) []byte {
	b := make([]byte, 0, 13+len(purpose))
	b = append(b, "vip-cursor\x00"...)
	b = append(b, version, kind)
	return append(b, purpose...)
}

func (s *Sealer) seal(purpose string, kind byte, payload []byte) (string, error) {
	if purpose == "" {
		return "", fmt.Errorf("cursor: seal: %w", ErrNoPurpose)
	}
	// Check the size first: encrypting something that cannot be sent is
	// wasted work.
	rawLen := 1 + nonceSize + stampSize + len(payload) + tagSize
	if base64.RawURLEncoding.EncodedLen(rawLen) > MaxTokenLen {
		return "", fmt.Errorf("cursor: %w (%d bytes of payload)", ErrTooLarge, len(payload))
	}
	plain := make([]byte, stampSize, stampSize+len(payload))
	binary.BigEndian.PutUint64(plain, uint64(s.now().Unix()))
	plain = append(plain, payload...)

	var nonce [nonceSize]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand does not fail on supported platforms
	out := make([]byte, 0, rawLen)
	out = append(append(out, version), nonce[:]...)
	out = s.current.Seal(out, nonce[:], plain, aad(kind, purpose))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (s *Sealer) open(purpose string, kind byte, token string) ([]byte, error) {
	if purpose == "" {
		return nil, fmt.Errorf("cursor: open: %w", ErrNoPurpose)
	}
	if token == "" || len(token) > MaxTokenLen {
		return nil, fmt.Errorf("%w: length", ErrInvalidCursor)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding", ErrInvalidCursor)
	}
	if len(raw) < 1+nonceSize+stampSize+tagSize {
		return nil, fmt.Errorf("%w: truncated", ErrInvalidCursor)
	}
	if raw[0] != version {
		return nil, fmt.Errorf("%w: version", ErrInvalidCursor)
	}
	nonce, sealed, ad := raw[1:1+nonceSize], raw[1+nonceSize:], aad(kind, purpose)
	plain, err := s.current.Open(nil, nonce, sealed, ad)
	if err != nil && s.previous != nil {
		plain, err = s.previous.Open(nil, nonce, sealed, ad)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: authentication", ErrInvalidCursor)
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(plain[:stampSize])), 0)
	now := s.now()
	if now.Sub(issued) > s.maxAge || issued.Sub(now) > clockSkew {
		return nil, fmt.Errorf("%w: expired", ErrInvalidCursor)
	}
	return plain[stampSize:], nil
}
