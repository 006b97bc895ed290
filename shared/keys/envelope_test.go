package keys_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/keys"
)

const testKeyID = "alias/vip-test-data"

// secret is recognizable so tests can prove it never leaks into errors.
var secret = []byte("JBSWY3DPEHPK3PXP-totp-secret-of-ada")

func ownerCtx(user string) map[string]string {
	return map[string]string{"purpose": "totp", "userId": user}
}

func newEnvelope(t *testing.T, f *fakeKMS) *keys.Envelope {
	t.Helper()
	e, err := keys.New(f, f.keyID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := keys.New(nil, testKeyID); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := keys.New(newFakeKMS(testKeyID), ""); err == nil {
		t.Error("empty key id accepted")
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"totp secret", secret},
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"maximum", bytes.Repeat([]byte{0xa5}, keys.MaxPlaintext)},
	}
	f := newFakeKMS(testKeyID)
	env := newEnvelope(t, f)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blob, err := env.Seal(context.Background(), tc.plaintext, ownerCtx("usr_a"))
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if len(tc.plaintext) > 4 && bytes.Contains(blob, tc.plaintext) {
				t.Fatal("blob contains the plaintext")
			}
			got, err := env.Open(context.Background(), blob, ownerCtx("usr_a"))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("Open = %x, want %x", got, tc.plaintext)
			}
		})
	}
	if !f.allWiped() {
		t.Fatal("a plaintext data key was not zeroed after use")
	}
}

func TestSealIsRandomized(t *testing.T) {
	env := newEnvelope(t, newFakeKMS(testKeyID))
	a, err := env.Seal(context.Background(), secret, ownerCtx("usr_a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Seal(context.Background(), secret, ownerCtx("usr_a"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are identical")
	}
}

func TestSealRejects(t *testing.T) {
	tests := []struct {
		name      string
		plaintext []byte
		encCtx    map[string]string
	}{
		{"nil context", secret, nil},
		{"empty context", secret, map[string]string{}},
		{"empty context key", secret, map[string]string{"": "x"}},
		{"too long", make([]byte, keys.MaxPlaintext+1), ownerCtx("usr_a")},
	}
	env := newEnvelope(t, newFakeKMS(testKeyID))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if blob, err := env.Seal(context.Background(), tc.plaintext, tc.encCtx); err == nil {
				t.Fatalf("Seal accepted it: %x", blob)
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	f := newFakeKMS(testKeyID)
	env := newEnvelope(t, f)
	blob, err := env.Seal(context.Background(), secret, ownerCtx("usr_a"))
	if err != nil {
		t.Fatal(err)
	}
	wrappedLen := int(blob[1])<<8 | int(blob[2])
	nonceAt := 3 + wrappedLen
	ctAt := nonceAt + 12
	flip := func(i int) []byte {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		return b
	}
	otherKey := newFakeKMS("alias/other")
	otherBlob, err := newEnvelope(t, otherKey).Seal(context.Background(), secret, ownerCtx("usr_a"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		blob   []byte
		encCtx map[string]string
		want   error
	}{
		{"moved to another user", blob, ownerCtx("usr_b"), keys.ErrInvalidCiphertext},
		{"other purpose", blob, map[string]string{"purpose": "cursor", "userId": "usr_a"}, keys.ErrInvalidCiphertext},
		{"extra context entry", blob, map[string]string{"purpose": "totp", "userId": "usr_a", "x": "y"}, keys.ErrInvalidCiphertext},
		{"missing context entry", blob, map[string]string{"userId": "usr_a"}, keys.ErrInvalidCiphertext},
		{"sealed under another key", otherBlob, ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"version 0", append([]byte{0}, blob[1:]...), ownerCtx("usr_a"), keys.ErrUnsupportedVersion},
		{"version 2", append([]byte{2}, blob[1:]...), ownerCtx("usr_a"), keys.ErrUnsupportedVersion},
		{"empty", nil, ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"version byte only", blob[:1], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"truncated length", blob[:2], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"truncated wrapped key", blob[:3+wrappedLen/2], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"truncated nonce", blob[:nonceAt+6], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"no ciphertext", blob[:ctAt], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"truncated tag", blob[:len(blob)-1], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"zero wrapped key length", append([]byte{1, 0, 0}, blob[3:]...), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"wrapped key length too big", append([]byte{1, 0xff, 0xff}, blob[3:]...), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"tampered wrapped key", flip(3 + wrappedLen/2), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"tampered nonce", flip(nonceAt), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"tampered ciphertext", flip(ctAt), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"tampered tag", flip(len(blob) - 1), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"appended byte", append(bytes.Clone(blob), 0), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := env.Open(context.Background(), tc.blob, tc.encCtx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tc.want)
			}
			if got != nil {
				t.Fatalf("Open returned plaintext %q with an error", got)
			}
			assertNoLeak(t, err)
		})
	}
	if !f.allWiped() {
		t.Fatal("a plaintext data key was not zeroed after a failed Open")
	}
}

// The envelope binds the context itself: even if KMS ignored the context, a
// blob moved to another owner must fail at GCM.
func TestContextBoundByGCMToo(t *testing.T) {
	f := newFakeKMS(testKeyID)
	f.lenient = true
	env := newEnvelope(t, f)
	tests := []struct {
		name       string
		seal, open map[string]string
	}{
		{"another user", ownerCtx("usr_a"), ownerCtx("usr_b")},
		{"separator shifted between key and value", map[string]string{"a": "b=c"}, map[string]string{"a=b": "c"}},
		{"value moved between entries", map[string]string{"a": "xy", "b": ""}, map[string]string{"a": "x", "b": "y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blob, err := env.Seal(context.Background(), secret, tc.seal)
			if err != nil {
				t.Fatal(err)
			}
			before := f.decrypts
			_, err = env.Open(context.Background(), blob, tc.open)
			if !errors.Is(err, keys.ErrInvalidCiphertext) {
				t.Fatalf("Open under another context: %v, want ErrInvalidCiphertext", err)
			}
			if f.decrypts != before+1 {
				t.Fatal("the lenient KMS did not unwrap the key; GCM binding not exercised")
			}
			assertNoLeak(t, err)
		})
	}
}

func TestKMSFailures(t *testing.T) {
	boom := errors.New("kms unavailable")
	f := newFakeKMS(testKeyID)
	env := newEnvelope(t, f)
	blob, err := env.Seal(context.Background(), secret, ownerCtx("usr_a"))
	if err != nil {
		t.Fatal(err)
	}
	f.fail = boom
	if _, err := env.Seal(context.Background(), secret, ownerCtx("usr_a")); !errors.Is(err, boom) {
		t.Fatalf("Seal: %v, want the KMS error", err)
	}
	_, err = env.Open(context.Background(), blob, ownerCtx("usr_a"))
	if !errors.Is(err, boom) || errors.Is(err, keys.ErrInvalidCiphertext) {
		t.Fatalf("Open: %v, want the KMS error and not ErrInvalidCiphertext", err)
	}
	f.fail = nil
	f.keyLen = 16
	if _, err := env.Seal(context.Background(), secret, ownerCtx("usr_a")); err == nil {
		t.Fatal("Seal accepted a 16-byte data key")
	}
	if !f.allWiped() {
		t.Fatal("a short data key was not zeroed")
	}
}

func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, string(secret)) || strings.Contains(msg, hex.EncodeToString(secret)) {
		t.Fatalf("error leaks the plaintext: %s", msg)
	}
}
