package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Leeway bounds: clock skew tolerated on exp, nbf and iat.
const (
	DefaultLeeway = 30 * time.Second
	MaxLeeway     = 60 * time.Second
)

// maxTokenLen bounds the input before any decoding work; issued tokens are
// about 500 bytes.
const maxTokenLen = 4096

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Issuer is the exact iss required.
	Issuer string
	// Audience is the exact, single aud required.
	Audience string
	// Leeway is the tolerated clock skew: zero means DefaultLeeway; at most
	// MaxLeeway.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks access tokens. A token is accepted only if all hold:
//   - at most 4 KiB, compact JWS, header exactly {alg, kid, typ} with alg
//     EdDSA (so "none", HS256 keyed with the public key, RS*, ES* all fail),
//     typ at+jwt, and kid naming the current or previous key of the ring;
//   - the Ed25519 signature verifies with that key;
//   - iss and aud are exactly the configured ones (aud a single value);
//   - exp, nbf and iat are present, exp is in the future and nbf and iat are
//     not, each within the leeway, and the lifetime is at most MaxTTL;
//   - sub, sid, jti are present, role is known, and the IDs have the
//     platform's formats (sub usr_, sid ses_, org org_ required for mentors
//     and org admins).
//
// When the kid is well formed but not in the ring and the KeySource is also a
// Refresher, the ring is re-read once and the lookup retried, so a warm
// verifier accepts tokens signed by a key that was rotated in after it cached
// the ring. The Refresher is expected to rate-limit these re-reads, since
// the kid is chosen by whoever sent the token.
//
// It is safe for concurrent use.
type Verifier struct {
	keys     KeySource
	refresh  Refresher // nil when keys cannot refresh
	audience string
	leeway   time.Duration
	parser   *jwt.Parser
}

// NewVerifier returns a Verifier trusting the keys of keys' ring.
func NewVerifier(keys KeySource, cfg VerifierConfig) (*Verifier, error) {
	if keys == nil {
		return nil, errors.New("token verifier: no key source")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("token verifier: issuer and audience are required")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Leeway < 0 || cfg.Leeway > MaxLeeway {
		return nil, fmt.Errorf("token verifier: leeway %s outside (0, %s]", cfg.Leeway, MaxLeeway)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		// Canonical base64 only: no second spelling of the same signature.
		jwt.WithStrictDecoding(),
	)
	refresh, _ := keys.(Refresher)
	return &Verifier{keys: keys, refresh: refresh, audience: cfg.Audience, leeway: cfg.Leeway, parser: parser}, nil
}

// Verify checks raw and returns its claims. Every rejection matches
// ErrTokenInvalid (and one specific sentinel); any other error is a fault
// loading (or refreshing) the key ring.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if len(raw) == 0 || len(raw) > maxTokenLen {
		return Claims{}, reject(ErrTokenMalformed, "size")
	}
	ring, err := v.keys.KeyRing(ctx)
	if err != nil {
		return Claims{}, fmt.Errorf("verify access token: load key ring: %w", err)
	}

	var wc wireClaims
	var kid string
	var refreshErr error
	_, err = v.parser.ParseWithClaims(raw, &wc, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodEdDSA {
			return nil, ErrTokenSignature
		}
		for name := range t.Header {
			if name != "alg" && name != "kid" && name != "typ" {
				// crit, jku, jwk, x5u, b64…: never issued here, so never accepted.
				return nil, ErrTokenMalformed
			}
		}
		if typ, _ := t.Header["typ"].(string); typ != tokenType {
			return nil, ErrTokenMalformed
		}
		kid, _ = t.Header["kid"].(string)
		pub, ok := ring.Lookup(kid)
		// A missing or malformed kid can never name a key, so it must not
		// cost a Secrets Manager read.
		if !ok && v.refresh != nil && validKeyID(kid) {
			fresh, err := v.refresh.RefreshKeyRing(ctx)
			if err != nil {
				refreshErr = err
				return nil, err
			}
			if fresh != nil {
				pub, ok = fresh.Lookup(kid)
			}
		}
		if !ok {
			return nil, ErrUnknownKey
		}
		return pub, nil
	})
	if refreshErr != nil {
		// Not a rejection: the token may be fine and the ring unreadable.
		return Claims{}, fmt.Errorf("verify access token: refresh key ring: %w", refreshErr)
	}
	if err != nil {
		return Claims{}, classify(err)
	}
	return v.claims(&wc, kid)
}

// claims applies the checks the JWT library leaves to the application.
func (v *Verifier) claims(wc *wireClaims, kid string) (Claims, error) {
	if len(wc.Audience) != 1 || wc.Audience[0] != v.audience {
		return Claims{}, reject(ErrTokenClaims, "aud is not exactly the expected audience")
	}
	if wc.IssuedAt == nil {
		return Claims{}, reject(ErrTokenClaims, "iat missing")
	}
	if wc.ID == "" {
		return Claims{}, reject(ErrTokenClaims, "jti missing")
	}
	c := Claims{
		Subject:   Subject{UserID: wc.Subject, SessionID: wc.SessionID, Role: wc.Role, OrgID: wc.OrgID},
		ID:        wc.ID,
		KeyID:     kid,
		IssuedAt:  wc.IssuedAt.UTC(),
		NotBefore: wc.NotBefore.UTC(),
		ExpiresAt: wc.ExpiresAt.UTC(),
	}
	// A lifetime longer than any issuer may configure means the token was
	// not made by this code (or by a misconfigured issuer): refuse it.
	if c.ExpiresAt.Sub(c.IssuedAt) > MaxTTL || c.ExpiresAt.Sub(c.NotBefore) > MaxTTL {
		return Claims{}, reject(ErrTokenClaims, "lifetime too long")
	}
	if err := c.Subject.validate(); err != nil {
		return Claims{}, fmt.Errorf("verify access token: %w", err)
	}
	return c, nil
}

func reject(sentinel error, detail string) error {
	return fmt.Errorf("verify access token: %w: %s", sentinel, detail)
}

// classify maps a JWT library error to this package's sentinels. The
// library's own text is dropped: it is not needed to act on the error, and
// dropping it guarantees that nothing taken from the token reaches a log.
func classify(err error) error {
	for _, own := range []error{ErrTokenMalformed, ErrTokenSignature, ErrUnknownKey} {
		if errors.Is(err, own) {
			return reject(own, "header")
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return reject(ErrTokenMalformed, "encoding")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return reject(ErrTokenSignature, "algorithm or signature")
	// Claim-set problems outrank timing ones: refreshing cannot fix them.
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return reject(ErrTokenClaims, "required claim missing")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return reject(ErrTokenClaims, "iss")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return reject(ErrTokenClaims, "aud")
	case errors.Is(err, jwt.ErrTokenExpired):
		return reject(ErrTokenExpired, "exp")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return reject(ErrTokenNotYetValid, "nbf or iat")
	}
	return reject(ErrTokenClaims, "claims")
}
