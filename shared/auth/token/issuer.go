package token

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IssuerConfig configures an Issuer.
type IssuerConfig struct {
	// Issuer is the iss claim, e.g. "https://api.vip.example".
	Issuer string
	// Audience is the single aud claim, e.g. "vip-api".
	Audience string
	// TTL is the token lifetime: zero means DefaultTTL, anything else must
	// lie within [MinTTL, MaxTTL].
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Issuer signs access tokens with the current key of a key ring.
// It is safe for concurrent use.
type Issuer struct {
	keys     KeySource
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// NewIssuer returns an Issuer signing with keys' current key.
func NewIssuer(keys KeySource, cfg IssuerConfig) (*Issuer, error) {
	if keys == nil {
		return nil, errors.New("token issuer: no key source")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("token issuer: issuer and audience are required")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < MinTTL || cfg.TTL > MaxTTL {
		return nil, fmt.Errorf("token issuer: TTL %s outside [%s, %s]", cfg.TTL, MinTTL, MaxTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Issuer{keys: keys, issuer: cfg.Issuer, audience: cfg.Audience, ttl: cfg.TTL, now: cfg.Now}, nil
}

// TTL returns the lifetime of the tokens the issuer signs (for the login
// response's expiresIn).
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue signs a token for s and returns it with its claims. An invalid
// subject (malformed IDs, unknown role, mentor without org) is refused.
func (i *Issuer) Issue(ctx context.Context, s Subject) (string, Claims, error) {
	if err := s.validate(); err != nil {
		return "", Claims{}, fmt.Errorf("issue access token: %w", err)
	}
	ring, err := i.keys.KeyRing(ctx)
	if err != nil {
		return "", Claims{}, fmt.Errorf("issue access token: load key ring: %w", err)
	}
	key := ring.Current
	if len(key.Private) != ed25519.PrivateKeySize || !validKeyID(key.ID) {
		return "", Claims{}, fmt.Errorf("issue access token: %w: no usable current key", ErrBadKeyRing)
	}

	// JWT times have one-second resolution; truncating first makes the
	// returned claims equal to what a verifier will read back.
	now := i.now().UTC().Truncate(time.Second)
	c := Claims{
		Subject:   s,
		ID:        rand.Text(),
		KeyID:     key.ID,
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(i.ttl),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   s.UserID,
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			NotBefore: jwt.NewNumericDate(c.NotBefore),
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ID:        c.ID,
		},
		SessionID: s.SessionID,
		Role:      s.Role,
		OrgID:     s.OrgID,
	})
	t.Header["kid"] = key.ID
	t.Header["typ"] = tokenType
	signed, err := t.SignedString(key.Private)
	if err != nil {
		return "", Claims{}, fmt.Errorf("issue access token: sign: %w", err)
	}
	return signed, c, nil
}
