package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vip-platform/backend/shared/ids"
)

const (
	testIssuer   = "https://api.vip.test"
	testAudience = "vip-api"
)

// clock is an injectable, settable time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newIssuer(t testing.TB, src KeySource, c *clock) *Issuer {
	t.Helper()
	iss, err := NewIssuer(src, IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: 15 * time.Minute, Now: c.Now})
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return iss
}

func newVerifier(t testing.TB, src KeySource, c *clock) *Verifier {
	t.Helper()
	v, err := NewVerifier(src, VerifierConfig{Issuer: testIssuer, Audience: testAudience, Leeway: 30 * time.Second, Now: c.Now})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func mentor() Subject {
	return Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: RoleMentor, OrgID: ids.New(ids.Org)}
}

// craft signs arbitrary claims and header fields with any method, the way
// an attacker (or a buggy issuer) could.
func craft(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = tokenType
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign crafted token: %v", err)
	}
	return s
}

// goodClaims are the claims the issuer would write at now.
func goodClaims(s Subject, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "aud": []string{testAudience}, "sub": s.UserID, "sid": s.SessionID,
		"role": s.Role, "org": s.OrgID, "jti": "JTI" + ids.New(ids.Session)[4:],
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
}

func with(c jwt.MapClaims, changes map[string]any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// segment re-encodes one JSON object as a JWT segment.
func segment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	prev, cur := newTestKey(t), newTestKey(t)
	ring := &KeyRing{Current: cur, Previous: &prev}
	src := StaticKeyRing{Ring: ring}
	issuer := newIssuer(t, src, c)
	verifier := newVerifier(t, src, c)

	subject := mentor()
	valid, _, err := issuer.Issue(ctx, subject)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	parts := strings.Split(valid, ".")
	base := goodClaims(subject, testNow)
	kid := map[string]any{"kid": cur.ID}
	_, attackerKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(parts[2])
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}

	tests := []struct {
		name  string
		token string
		want  error // nil means valid
	}{
		{"valid, issued", valid, nil},
		{"valid, crafted like the issuer", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, base), nil},
		{"valid, signed by the previous key", craft(t, jwt.SigningMethodEdDSA, prev.Private, map[string]any{"kid": prev.ID}, base), nil},
		{"valid, expired within leeway", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{
			"iat": testNow.Add(-15 * time.Minute).Unix(), "nbf": testNow.Add(-15 * time.Minute).Unix(), "exp": testNow.Add(-20 * time.Second).Unix()})), nil},
		{"valid, intern without org", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"role": RoleIntern, "org": nil})), nil},

		{"tampered payload", parts[0] + "." + segment(t, with(base, map[string]any{"role": RoleAdmin})) + "." + parts[2], ErrTokenSignature},
		{"tampered header", segment(t, map[string]any{"alg": "EdDSA", "kid": prev.ID, "typ": tokenType}) + "." + parts[1] + "." + parts[2], ErrTokenSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flipped), ErrTokenSignature},
		{"signature removed", parts[0] + "." + parts[1] + ".", ErrTokenSignature},
		{"wrong kid (previous key's kid, current key's signature)", craft(t, jwt.SigningMethodEdDSA, cur.Private, map[string]any{"kid": prev.ID}, base), ErrTokenSignature},
		{"unknown kid", craft(t, jwt.SigningMethodEdDSA, cur.Private, map[string]any{"kid": "NOSUCHKEY"}, base), ErrUnknownKey},
		{"kid missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, nil, base), ErrUnknownKey},
		{"kid not a string", craft(t, jwt.SigningMethodEdDSA, cur.Private, map[string]any{"kid": 7}, base), ErrUnknownKey},
		{"another key under a known kid", craft(t, jwt.SigningMethodEdDSA, attackerKey, kid, base), ErrTokenSignature},
		{"alg none", craft(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, base), ErrTokenSignature},
		{"HS256 keyed with the public key", craft(t, jwt.SigningMethodHS256, []byte(cur.Public()), kid, base), ErrTokenSignature},
		{"HS256 keyed with the JWKS x", craft(t, jwt.SigningMethodHS256, []byte(base64.RawURLEncoding.EncodeToString(cur.Public())), kid, base), ErrTokenSignature},
		{"RS256", craft(t, jwt.SigningMethodRS256, rsaKey, kid, base), ErrTokenSignature},
		{"PS256", craft(t, jwt.SigningMethodPS256, rsaKey, kid, base), ErrTokenSignature},
		{"ES256", craft(t, jwt.SigningMethodES256, ecKey, kid, base), ErrTokenSignature},
		{"alg unknown to the library", segment(t, map[string]any{"alg": "Ed448", "kid": cur.ID, "typ": tokenType}) + "." + parts[1] + "." + parts[2], ErrTokenSignature},

		{"expired", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{
			"iat": testNow.Add(-16 * time.Minute).Unix(), "nbf": testNow.Add(-16 * time.Minute).Unix(), "exp": testNow.Add(-1 * time.Minute).Unix()})), ErrTokenExpired},
		{"nbf in the future", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"nbf": testNow.Add(2 * time.Minute).Unix()})), ErrTokenNotYetValid},
		{"iat in the future", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"iat": testNow.Add(2 * time.Minute).Unix()})), ErrTokenNotYetValid},
		{"wrong aud", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"aud": "other-api"})), ErrTokenClaims},
		{"aud with an extra audience", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"aud": []string{testAudience, "other-api"}})), ErrTokenClaims},
		{"aud missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"aud": nil})), ErrTokenClaims},
		{"wrong iss", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"iss": "https://evil.test"})), ErrTokenClaims},
		{"iss differs in case", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"iss": strings.ToUpper(testIssuer)})), ErrTokenClaims},
		{"iss missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"iss": nil})), ErrTokenClaims},
		{"exp missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"exp": nil})), ErrTokenClaims},
		{"nbf missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"nbf": nil})), ErrTokenClaims},
		{"iat missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"iat": nil})), ErrTokenClaims},
		{"exp as a string", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"exp": "never"})), ErrTokenMalformed},
		{"lifetime of a day", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"exp": testNow.Add(24 * time.Hour).Unix()})), ErrTokenClaims},
		{"sub missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"sub": nil})), ErrTokenClaims},
		{"sub not a user ID", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"sub": "admin"})), ErrTokenClaims},
		{"sid missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"sid": nil})), ErrTokenClaims},
		{"jti missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"jti": nil})), ErrTokenClaims},
		{"role unknown", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"role": "superuser"})), ErrTokenClaims},
		{"role missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"role": nil})), ErrTokenClaims},
		{"mentor without org", craft(t, jwt.SigningMethodEdDSA, cur.Private, kid, with(base, map[string]any{"org": nil})), ErrTokenClaims},

		{"typ JWT", craft(t, jwt.SigningMethodEdDSA, cur.Private, map[string]any{"kid": cur.ID, "typ": "JWT"}, base), ErrTokenMalformed},
		{"typ missing", craft(t, jwt.SigningMethodEdDSA, cur.Private, map[string]any{"kid": cur.ID, "typ": nil}, base), ErrTokenMalformed},
		{"crit header", craft(t, jwt.SigningMethodEdDSA, cur.Private, map[string]any{"kid": cur.ID, "crit": []string{"exp"}}, base), ErrTokenMalformed},
		{"embedded jwk header", craft(t, jwt.SigningMethodEdDSA, attackerKey, map[string]any{"kid": cur.ID, "jwk": map[string]string{"kty": "OKP"}}, base), ErrTokenMalformed},
		{"empty", "", ErrTokenMalformed},
		{"garbage", "not-a-token", ErrTokenMalformed},
		{"four segments", valid + ".x", ErrTokenMalformed},
		{"padded segment", parts[0] + "=." + parts[1] + "." + parts[2], ErrTokenMalformed},
		{"oversized", parts[0] + "." + strings.Repeat("A", maxTokenLen) + "." + parts[2], ErrTokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := verifier.Verify(ctx, tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify rejected a valid token: %v", err)
				}
				if claims.UserID != subject.UserID || claims.SessionID != subject.SessionID {
					t.Fatalf("claims = %+v, want subject %+v", claims, subject)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("error %v does not match ErrTokenInvalid", err)
			}
			if claims != (Claims{}) {
				t.Fatalf("rejected token returned claims %+v", claims)
			}
			for _, part := range strings.Split(tc.token, ".") {
				if len(part) >= 8 && strings.Contains(err.Error(), part) {
					t.Fatalf("error text %q contains part of the token", err)
				}
			}
		})
	}
}

func TestIssueClaimsRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow.Add(500 * time.Millisecond)}
	k := newTestKey(t)
	src := StaticKeyRing{Ring: &KeyRing{Current: k}}
	issuer, verifier := newIssuer(t, src, c), newVerifier(t, src, c)

	tests := []struct {
		name    string
		subject Subject
	}{
		{"intern", Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: RoleIntern}},
		{"mentor", mentor()},
		{"org admin", Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: RoleOrgAdmin, OrgID: ids.New(ids.Org)}},
		{"admin", Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: RoleAdmin}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, issued, err := issuer.Issue(ctx, tc.subject)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if seen[issued.ID] {
				t.Fatal("jti reused")
			}
			seen[issued.ID] = true
			if issued.ExpiresAt.Sub(issued.IssuedAt) != 15*time.Minute || !issued.IssuedAt.Equal(testNow) || !issued.NotBefore.Equal(testNow) {
				t.Fatalf("times = iat %s nbf %s exp %s", issued.IssuedAt, issued.NotBefore, issued.ExpiresAt)
			}
			header, _, _ := strings.Cut(raw, ".")
			hb, _ := base64.RawURLEncoding.DecodeString(header)
			var h map[string]any
			if err := json.Unmarshal(hb, &h); err != nil || h["alg"] != "EdDSA" || h["kid"] != k.ID || h["typ"] != tokenType || len(h) != 3 {
				t.Fatalf("header = %s", hb)
			}
			got, err := verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != issued {
				t.Fatalf("verified claims %+v differ from issued %+v", got, issued)
			}
		})
	}
}

func TestIssueRefusesBadSubject(t *testing.T) {
	c := &clock{now: testNow}
	issuer := newIssuer(t, StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}, c)
	good := mentor()
	tests := []struct {
		name    string
		subject Subject
	}{
		{"zero", Subject{}},
		{"user ID of another type", Subject{UserID: ids.New(ids.Org), SessionID: good.SessionID, Role: RoleIntern}},
		{"session ID malformed", Subject{UserID: good.UserID, SessionID: "ses_x", Role: RoleIntern}},
		{"unknown role", Subject{UserID: good.UserID, SessionID: good.SessionID, Role: "root"}},
		{"org admin without org", Subject{UserID: good.UserID, SessionID: good.SessionID, Role: RoleOrgAdmin}},
		{"org malformed", Subject{UserID: good.UserID, SessionID: good.SessionID, Role: RoleMentor, OrgID: "acme"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := issuer.Issue(context.Background(), tc.subject); !errors.Is(err, ErrTokenClaims) {
				t.Fatalf("Issue error = %v, want ErrTokenClaims", err)
			}
		})
	}
}

func TestNewIssuerConfig(t *testing.T) {
	src := StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}
	tests := []struct {
		name    string
		cfg     IssuerConfig
		wantTTL time.Duration
		wantErr bool
	}{
		{"default TTL", IssuerConfig{Issuer: testIssuer, Audience: testAudience}, DefaultTTL, false},
		{"10 minutes", IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: 10 * time.Minute}, 10 * time.Minute, false},
		{"15 minutes", IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: 15 * time.Minute}, 15 * time.Minute, false},
		{"9m59s", IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: 10*time.Minute - time.Second}, 0, true},
		{"15m1s", IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: 15*time.Minute + time.Second}, 0, true},
		{"an hour", IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: time.Hour}, 0, true},
		{"negative", IssuerConfig{Issuer: testIssuer, Audience: testAudience, TTL: -time.Minute}, 0, true},
		{"no issuer", IssuerConfig{Audience: testAudience}, 0, true},
		{"no audience", IssuerConfig{Issuer: testIssuer}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss, err := NewIssuer(src, tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewIssuer error = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && iss.TTL() != tc.wantTTL {
				t.Fatalf("TTL = %s, want %s", iss.TTL(), tc.wantTTL)
			}
		})
	}
	if _, err := NewIssuer(nil, IssuerConfig{Issuer: testIssuer, Audience: testAudience}); err == nil {
		t.Fatal("NewIssuer accepted a nil key source")
	}
}

func TestNewVerifierConfig(t *testing.T) {
	src := StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}
	tests := []struct {
		name    string
		cfg     VerifierConfig
		wantErr bool
	}{
		{"default leeway", VerifierConfig{Issuer: testIssuer, Audience: testAudience}, false},
		{"60 s leeway", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Leeway: 60 * time.Second}, false},
		{"61 s leeway", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Leeway: 61 * time.Second}, true},
		{"negative leeway", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Leeway: -time.Second}, true},
		{"no issuer", VerifierConfig{Audience: testAudience}, true},
		{"no audience", VerifierConfig{Issuer: testIssuer}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewVerifier(src, tc.cfg); (err != nil) != tc.wantErr {
				t.Fatalf("NewVerifier error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

// TestLeewayBoundaries moves the clock around a token's exp and nbf.
func TestLeewayBoundaries(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	src := StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}
	raw, issued, err := newIssuer(t, src, c).Issue(ctx, mentor())
	if err != nil {
		t.Fatal(err)
	}
	verifier := newVerifier(t, src, c)
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"at issue", issued.IssuedAt, nil},
		{"29 s before nbf", issued.NotBefore.Add(-29 * time.Second), nil},
		{"31 s before nbf", issued.NotBefore.Add(-31 * time.Second), ErrTokenNotYetValid},
		{"just before exp", issued.ExpiresAt.Add(-time.Second), nil},
		{"29 s after exp", issued.ExpiresAt.Add(29 * time.Second), nil},
		{"30 s after exp", issued.ExpiresAt.Add(30 * time.Second), ErrTokenExpired},
		{"an hour after exp", issued.ExpiresAt.Add(time.Hour), ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.now = tc.at
			_, err := verifier.Verify(ctx, raw)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify at %s = %v, want %v", tc.at, err, tc.want)
			}
		})
	}
}

// TestRotation: a token signed by the current key keeps verifying after one
// rotation (its key is now previous) and stops after a second one.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	k1, k2, k3 := newTestKey(t), newTestKey(t), newTestKey(t)
	r1 := &KeyRing{Current: k1}
	raw, _, err := newIssuer(t, StaticKeyRing{Ring: r1}, c).Issue(ctx, mentor())
	if err != nil {
		t.Fatal(err)
	}
	r2 := r1.Rotate(k2)
	r3 := r2.Rotate(k3)
	tests := []struct {
		name string
		ring *KeyRing
		want error
	}{
		{"before rotation", r1, nil},
		{"after one rotation (signing key is previous)", r2, nil},
		{"after two rotations (signing key removed)", r3, ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newVerifier(t, StaticKeyRing{Ring: tc.ring}, c).Verify(ctx, raw)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}

	// After rotation the issuer signs with the new current key.
	raw2, claims, err := newIssuer(t, StaticKeyRing{Ring: r2}, c).Issue(ctx, mentor())
	if err != nil {
		t.Fatal(err)
	}
	if claims.KeyID != k2.ID {
		t.Fatalf("issued with kid %s, want the new current %s", claims.KeyID, k2.ID)
	}
	if _, err := newVerifier(t, StaticKeyRing{Ring: r1}, c).Verify(ctx, raw2); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a verifier with the old ring accepted a token of the new key: %v", err)
	}
}

// failingSource is a KeySource whose secret cannot be read.
type failingSource struct{}

var _ KeySource = failingSource{}

var errSecretsDown = errors.New("secrets manager unavailable")

func (failingSource) KeyRing(context.Context) (*KeyRing, error) { return nil, errSecretsDown }

func TestKeySourceFailureIsAFault(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	good := StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}
	raw, _, err := newIssuer(t, good, c).Issue(ctx, mentor())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"verify", func() error { _, err := newVerifier(t, failingSource{}, c).Verify(ctx, raw); return err }},
		{"issue", func() error { _, _, err := newIssuer(t, failingSource{}, c).Issue(ctx, mentor()); return err }},
		{"verify with empty static ring", func() error { _, err := newVerifier(t, StaticKeyRing{}, c).Verify(ctx, raw); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("error = %v; want a fault that is not a token rejection", err)
			}
		})
	}
}

// TestConcurrentUse runs one Issuer and one Verifier from many goroutines;
// run with -race it proves they share no unsynchronized state.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	src := StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}
	issuer, verifier := newIssuer(t, src, c), newVerifier(t, src, c)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			s := mentor()
			raw, _, err := issuer.Issue(ctx, s)
			if err == nil {
				var got Claims
				if got, err = verifier.Verify(ctx, raw); err == nil && got.UserID != s.UserID {
					err = errors.New("claims of another token")
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestHandBuiltBrokenRing: a ring built in code (not parsed) with a
// truncated key must fail cleanly, not panic.
func TestHandBuiltBrokenRing(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	good := newTestKey(t)
	raw, _, err := newIssuer(t, StaticKeyRing{Ring: &KeyRing{Current: good}}, c).Issue(ctx, mentor())
	if err != nil {
		t.Fatal(err)
	}
	broken := &KeyRing{Current: Key{ID: good.ID, Private: good.Private[:40], CreatedAt: testNow}}
	if _, _, err := newIssuer(t, StaticKeyRing{Ring: broken}, c).Issue(ctx, mentor()); !errors.Is(err, ErrBadKeyRing) {
		t.Fatalf("Issue with a truncated key = %v, want ErrBadKeyRing", err)
	}
	if _, err := newVerifier(t, StaticKeyRing{Ring: broken}, c).Verify(ctx, raw); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify with a truncated key = %v, want ErrUnknownKey", err)
	}
}
