package token

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// refreshingSource is a KeySource and Refresher: KeyRing serves the cached
// ring; RefreshKeyRing "re-reads the secret", which then holds next.
type refreshingSource struct {
	mu        sync.Mutex
	cached    *KeyRing
	next      *KeyRing
	err       error
	refreshes int
}

var (
	_ KeySource = (*refreshingSource)(nil)
	_ Refresher = (*refreshingSource)(nil)
)

func (s *refreshingSource) KeyRing(context.Context) (*KeyRing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cached, nil
}

func (s *refreshingSource) RefreshKeyRing(context.Context) (*KeyRing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	if s.err != nil {
		return nil, s.err
	}
	s.cached = s.next
	return s.cached, nil
}

func (s *refreshingSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// TestVerifyRefreshesOnUnknownKid: a verifier whose cached ring predates a
// rotation re-reads the ring once for a well-formed unknown kid, and only
// then.
func TestVerifyRefreshesOnUnknownKid(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: testNow}
	old, rotatedIn := newTestKey(t), newTestKey(t)
	before := &KeyRing{Current: old}
	after := before.Rotate(rotatedIn)
	subject := mentor()
	base := goodClaims(subject, testNow)
	_, attacker, _ := ed25519.GenerateKey(rand.Reader)
	errDown := errors.New("secrets manager unavailable")

	byNewKey := craft(t, jwt.SigningMethodEdDSA, rotatedIn.Private, map[string]any{"kid": rotatedIn.ID}, base)
	tests := []struct {
		name          string
		token         string
		next          *KeyRing // what the secret holds when re-read
		refreshErr    error
		want          error // nil: valid; errFault: a fault, not a rejection
		wantRefreshes int
	}{
		{"new key after rotation: refreshed and accepted", byNewKey, after, nil, nil, 1},
		{"known kid: no refresh", craft(t, jwt.SigningMethodEdDSA, old.Private, map[string]any{"kid": old.ID}, base), after, nil, nil, 0},
		{"unknown kid, still unknown after refresh", craft(t, jwt.SigningMethodEdDSA, rotatedIn.Private, map[string]any{"kid": "NOSUCHKEY"}, base), after, nil, ErrUnknownKey, 1},
		{"refreshed kid but another key's signature", craft(t, jwt.SigningMethodEdDSA, attacker, map[string]any{"kid": rotatedIn.ID}, base), after, nil, ErrTokenSignature, 1},
		{"kid missing: no refresh", craft(t, jwt.SigningMethodEdDSA, rotatedIn.Private, nil, base), after, nil, ErrUnknownKey, 0},
		{"kid malformed: no refresh", craft(t, jwt.SigningMethodEdDSA, rotatedIn.Private, map[string]any{"kid": "../../etc"}, base), after, nil, ErrUnknownKey, 0},
		{"kid not a string: no refresh", craft(t, jwt.SigningMethodEdDSA, rotatedIn.Private, map[string]any{"kid": 7}, base), after, nil, ErrUnknownKey, 0},
		{"alg none never refreshes", craft(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": rotatedIn.ID}, base), after, nil, ErrTokenSignature, 0},
		{"refresh fails: a fault", byNewKey, after, errDown, errFault, 1},
		{"refresh returns no ring", byNewKey, nil, nil, ErrUnknownKey, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &refreshingSource{cached: before, next: tc.next, err: tc.refreshErr}
			claims, err := newVerifier(t, src, c).Verify(ctx, tc.token)
			if got := src.count(); got != tc.wantRefreshes {
				t.Errorf("refreshes = %d, want %d", got, tc.wantRefreshes)
			}
			switch {
			case tc.want == nil:
				if err != nil {
					t.Fatalf("Verify = %v, want valid", err)
				}
				if claims.UserID != subject.UserID {
					t.Fatalf("claims = %+v", claims)
				}
			case tc.want == errFault:
				if err == nil || errors.Is(err, ErrTokenInvalid) || !errors.Is(err, tc.refreshErr) {
					t.Fatalf("Verify = %v, want a fault wrapping %v", err, tc.refreshErr)
				}
			default:
				if !errors.Is(err, tc.want) || !errors.Is(err, ErrTokenInvalid) {
					t.Fatalf("Verify = %v, want %v", err, tc.want)
				}
			}
		})
	}
}

// errFault marks test cases that expect a non-rejection error.
var errFault = errors.New("fault")

// TestStaticKeyRingNeverRefreshes: a source without RefreshKeyRing keeps the
// old behaviour (unknown kid rejected at once).
func TestStaticKeyRingNeverRefreshes(t *testing.T) {
	c := &clock{now: testNow}
	k := newTestKey(t)
	var src KeySource = StaticKeyRing{Ring: &KeyRing{Current: newTestKey(t)}}
	if _, ok := src.(Refresher); ok {
		t.Fatal("StaticKeyRing must not be a Refresher")
	}
	raw := craft(t, jwt.SigningMethodEdDSA, k.Private, map[string]any{"kid": k.ID}, goodClaims(mentor(), testNow))
	if _, err := newVerifier(t, src, c).Verify(context.Background(), raw); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify = %v, want ErrUnknownKey", err)
	}
}
