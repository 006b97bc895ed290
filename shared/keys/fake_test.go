package keys_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/vip-platform/backend/shared/keys"
)

// fakeKMS behaves like KMS for symmetric data keys: it wraps data keys under
// its own master key with AES-GCM, binds them to the encryption context
// (unless lenient, to test the envelope's own binding), and refuses a
// Decrypt pinned to another key. It remembers every plaintext data key it
// handed out so tests can check they were wiped.
type fakeKMS struct {
	keyID   string
	master  cipher.AEAD
	lenient bool  // ignore the encryption context, as a broken KMS might
	fail    error // returned by every call when set
	keyLen  int   // data key length to hand out (default 32)

	mu       sync.Mutex
	handed   [][]byte
	decrypts int
}

var _ keys.KMS = (*fakeKMS)(nil)

func newFakeKMS(keyID string) *fakeKMS {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	block, _ := aes.NewCipher(k)
	gcm, _ := cipher.NewGCM(block)
	return &fakeKMS{keyID: keyID, master: gcm, keyLen: 32}
}

type fakeWrapped struct {
	KeyID string
	Nonce []byte
	Box   []byte
}

func (f *fakeKMS) aad(encCtx map[string]string) []byte {
	if f.lenient {
		return nil
	}
	b, _ := json.Marshal(encCtx) // encoding/json sorts map keys
	return b
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if aws.ToString(in.KeyId) != f.keyID {
		return nil, &kmstypes.NotFoundException{Message: aws.String("key not found")}
	}
	if in.KeySpec != kmstypes.DataKeySpecAes256 {
		return nil, errors.New("fake KMS: want AES_256")
	}
	dk := make([]byte, f.keyLen)
	_, _ = rand.Read(dk)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	blob, _ := json.Marshal(fakeWrapped{KeyID: f.keyID, Nonce: nonce, Box: f.master.Seal(nil, nonce, dk, f.aad(in.EncryptionContext))})
	f.remember(dk)
	return &kms.GenerateDataKeyOutput{KeyId: aws.String(f.keyID), Plaintext: dk, CiphertextBlob: blob}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	var w fakeWrapped
	if err := json.Unmarshal(in.CiphertextBlob, &w); err != nil {
		return nil, &kmstypes.InvalidCiphertextException{Message: aws.String("bad blob")}
	}
	if w.KeyID != aws.ToString(in.KeyId) {
		return nil, &kmstypes.IncorrectKeyException{Message: aws.String("wrong key")}
	}
	if w.KeyID != f.keyID {
		return nil, &kmstypes.NotFoundException{Message: aws.String("key not found")}
	}
	dk, err := f.master.Open(nil, w.Nonce, w.Box, f.aad(in.EncryptionContext))
	if err != nil {
		return nil, &kmstypes.InvalidCiphertextException{Message: aws.String("context mismatch")}
	}
	f.mu.Lock()
	f.decrypts++
	f.mu.Unlock()
	f.remember(dk)
	return &kms.DecryptOutput{KeyId: aws.String(f.keyID), Plaintext: dk}, nil
}

func (f *fakeKMS) remember(dk []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handed = append(f.handed, dk)
}

// allWiped reports whether every data key handed out is now all zeroes.
func (f *fakeKMS) allWiped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, dk := range f.handed {
		if !bytes.Equal(dk, make([]byte, len(dk))) {
			return false
		}
	}
	return len(f.handed) > 0
}
