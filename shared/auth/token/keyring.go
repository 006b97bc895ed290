package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json/v2"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// KeyRingVersion is the only secret-value format version ParseKeyRing accepts.
const KeyRingVersion = 1

// maxKeyIDLen bounds a kid; NewKey makes 26-character ones.
const maxKeyIDLen = 64

// ErrBadKeyRing is the cause of every ParseKeyRing, Validate and Marshal
// failure. Its messages never include key material.
var ErrBadKeyRing = errors.New("token: bad signing key ring")

// Key is one Ed25519 signing key of the ring.
//
// Key and KeyRing implement fmt.Formatter and slog.LogValuer and print only
// the kid and creation time, so a stray log line or %+v cannot leak the
// private key.
type Key struct {
	// ID is the key's kid: URL-safe, 1 to 64 characters of [A-Za-z0-9_-].
	ID string
	// Private is the Ed25519 private key (seed and public half).
	Private ed25519.PrivateKey
	// CreatedAt is when the key was generated.
	CreatedAt time.Time
}

// NewKey generates a fresh signing key with a random kid.
func NewKey(now time.Time) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("generate signing key: %w", err)
	}
	// rand.Text is 128 random bits in base32 (A-Z, 2-7): unguessable and
	// URL-safe, as a kid that travels in every token header must be.
	return Key{ID: rand.Text(), Private: priv, CreatedAt: now.UTC()}, nil
}

// Public returns the key's Ed25519 public key, or nil if Private is not a
// whole Ed25519 private key (ed25519.PrivateKey.Public would panic on it).
func (k Key) Public() ed25519.PublicKey {
	if len(k.Private) != ed25519.PrivateKeySize {
		return nil
	}
	return ed25519.PublicKey(bytes.Clone(k.Private[ed25519.SeedSize:]))
}

// Format prints the kid only.
func (k Key) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "token.Key{kid=%s, createdAt=%s}", k.ID, k.CreatedAt.Format(time.RFC3339))
}

// LogValue logs the kid and creation time only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.ID), slog.Time("createdAt", k.CreatedAt))
}

func (k Key) validate(role string) error {
	if !validKeyID(k.ID) {
		return fmt.Errorf("%w: %s key has an invalid kid", ErrBadKeyRing, role)
	}
	if len(k.Private) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: %s key %s is not an Ed25519 private key", ErrBadKeyRing, role, k.ID)
	}
	// The public half must be the one the seed derives, or tokens would be
	// signed with one key and checked against another.
	if !bytes.Equal(ed25519.NewKeyFromSeed(k.Private.Seed()), k.Private) {
		return fmt.Errorf("%w: %s key %s is inconsistent", ErrBadKeyRing, role, k.ID)
	}
	if k.CreatedAt.IsZero() {
		return fmt.Errorf("%w: %s key %s has no creation time", ErrBadKeyRing, role, k.ID)
	}
	return nil
}

func validKeyID(kid string) bool {
	if kid == "" || len(kid) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// KeyRing is the set of access-token signing keys: Current signs, and both
// Current and Previous verify, so tokens signed just before a rotation stay
// valid for the rest of their (short) lifetime.
//
// In Secrets Manager the ring is stored as this JSON secret string:
//
//	{
//	  "version": 1,
//	  "current":  {"kid": "<kid>", "seed": "<base64>", "createdAt": "<RFC 3339>"},
//	  "previous": {"kid": "<kid>", "seed": "<base64>", "createdAt": "<RFC 3339>"}
//	}
//
// where seed is the 32-byte Ed25519 private-key seed in standard, padded
// base64 (44 characters), kid is URL-safe ([A-Za-z0-9_-], at most 64
// characters), and "previous" may be absent or null (a brand-new ring).
// ParseKeyRing accepts exactly this: no unknown or duplicate members, no
// case-folded names, distinct kids and keys.
type KeyRing struct {
	Current  Key
	Previous *Key
}

// Format prints the kids only.
func (r KeyRing) Format(f fmt.State, _ rune) {
	if r.Previous == nil {
		fmt.Fprintf(f, "token.KeyRing{current=%s}", r.Current.ID)
		return
	}
	fmt.Fprintf(f, "token.KeyRing{current=%s, previous=%s}", r.Current.ID, r.Previous.ID)
}

// LogValue logs the kids only.
func (r KeyRing) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("current", r.Current.ID)}
	if r.Previous != nil {
		attrs = append(attrs, slog.String("previous", r.Previous.ID))
	}
	return slog.GroupValue(attrs...)
}

// Validate checks that both keys are well formed and distinct.
func (r *KeyRing) Validate() error {
	if err := r.Current.validate("current"); err != nil {
		return err
	}
	if r.Previous == nil {
		return nil
	}
	if err := r.Previous.validate("previous"); err != nil {
		return err
	}
	if r.Previous.ID == r.Current.ID {
		return fmt.Errorf("%w: current and previous keys share kid %s", ErrBadKeyRing, r.Current.ID)
	}
	if bytes.Equal(r.Previous.Private, r.Current.Private) {
		return fmt.Errorf("%w: current and previous keys are the same key", ErrBadKeyRing)
	}
	return nil
}

// Rotate returns a new ring in which k signs and the current key becomes the
// previous one; the old previous key is dropped, so tokens it signed stop
// verifying. The receiver is not modified.
func (r *KeyRing) Rotate(k Key) *KeyRing {
	prev := r.Current
	return &KeyRing{Current: k, Previous: &prev}
}

// Lookup returns the public key with the given kid, if the ring holds it.
func (r *KeyRing) Lookup(kid string) (ed25519.PublicKey, bool) {
	var pub ed25519.PublicKey
	switch {
	case kid == "":
	case kid == r.Current.ID:
		pub = r.Current.Public()
	case r.Previous != nil && kid == r.Previous.ID:
		pub = r.Previous.Public()
	}
	return pub, pub != nil
}

// wireKey and wireRing are the secret-value JSON layout.
type wireKey struct {
	KID       string    `json:"kid"`
	Seed      string    `json:"seed"`
	CreatedAt time.Time `json:"createdAt"`
}

type wireRing struct {
	Version  int      `json:"version"`
	Current  *wireKey `json:"current"`
	Previous *wireKey `json:"previous,omitzero"`
}

var seedEncoding = base64.StdEncoding.Strict()

// ParseKeyRing decodes and validates a key-ring secret value.
func ParseKeyRing(data []byte) (*KeyRing, error) {
	var w wireRing
	// encoding/json/v2 already rejects duplicate names, invalid UTF-8 and
	// case-insensitive name matches; unknown members are rejected here.
	if err := json.Unmarshal(data, &w, json.RejectUnknownMembers(true)); err != nil {
		// The decoder's message can quote input, which here is key material.
		return nil, fmt.Errorf("%w: not a key-ring JSON document of the expected shape", ErrBadKeyRing)
	}
	if w.Version != KeyRingVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadKeyRing, w.Version, KeyRingVersion)
	}
	if w.Current == nil {
		return nil, fmt.Errorf("%w: no current key", ErrBadKeyRing)
	}
	cur, err := w.Current.key("current")
	if err != nil {
		return nil, err
	}
	ring := &KeyRing{Current: cur}
	if w.Previous != nil {
		prev, err := w.Previous.key("previous")
		if err != nil {
			return nil, err
		}
		ring.Previous = &prev
	}
	if err := ring.Validate(); err != nil {
		return nil, err
	}
	return ring, nil
}

func (w *wireKey) key(role string) (Key, error) {
	seed, err := seedEncoding.DecodeString(w.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("%w: %s key seed is not %d bytes of base64", ErrBadKeyRing, role, ed25519.SeedSize)
	}
	return Key{ID: w.KID, Private: ed25519.NewKeyFromSeed(seed), CreatedAt: w.CreatedAt.UTC()}, nil
}

func (k Key) wire() *wireKey {
	return &wireKey{KID: k.ID, Seed: seedEncoding.EncodeToString(k.Private.Seed()), CreatedAt: k.CreatedAt.UTC()}
}

// Marshal encodes the ring as its secret value (see KeyRing). It refuses an
// invalid ring, so a rotation can never store one.
func (r *KeyRing) Marshal() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	w := wireRing{Version: KeyRingVersion, Current: r.Current.wire()}
	if r.Previous != nil {
		w.Previous = r.Previous.wire()
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %w", ErrBadKeyRing, err)
	}
	return b, nil
}

// jwk is an RFC 8037 OKP public key.
type jwk struct {
	KeyType   string `json:"kty"`
	Curve     string `json:"crv"`
	X         string `json:"x"`
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
	Use       string `json:"use"`
}

// PublicJWKS renders the ring's public keys as a JWK Set (RFC 7517, OKP
// Ed25519 keys per RFC 8037), current key first, for anyone who must verify
// access tokens without access to the secret.
func (r *KeyRing) PublicJWKS() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	keys := []jwk{publicJWK(r.Current)}
	if r.Previous != nil {
		keys = append(keys, publicJWK(*r.Previous))
	}
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	return b, nil
}

func publicJWK(k Key) jwk {
	return jwk{
		KeyType:   "OKP",
		Curve:     "Ed25519",
		X:         base64.RawURLEncoding.EncodeToString(k.Public()),
		KeyID:     k.ID,
		Algorithm: "EdDSA",
		Use:       "sig",
	}
}

// KeySource supplies the current key ring. Production implementations read
// the Secrets Manager secret and cache the parsed ring with a TTL; the
// rotation function writes the secret.
type KeySource interface {
	KeyRing(ctx context.Context) (*KeyRing, error)
}

// Refresher is implemented by a KeySource that can re-read its ring on
// demand, bypassing its cache (signingkeys.Source does). Verifier calls it
// when a token names a kid the cached ring does not hold: the ring may have
// been rotated after it was cached. Implementations should rate-limit the
// re-reads and may return the cached ring unchanged.
type Refresher interface {
	RefreshKeyRing(ctx context.Context) (*KeyRing, error)
}

// StaticKeyRing is a KeySource that always returns Ring: for tests and for
// callers that refresh the ring themselves.
type StaticKeyRing struct {
	Ring *KeyRing
}

var _ KeySource = StaticKeyRing{}

// KeyRing returns s.Ring.
func (s StaticKeyRing) KeyRing(context.Context) (*KeyRing, error) {
	if s.Ring == nil {
		return nil, fmt.Errorf("%w: no key ring", ErrBadKeyRing)
	}
	return s.Ring, nil
}
