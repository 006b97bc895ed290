// Package keys envelope-encrypts sensitive fields (TOTP secrets and anything
// else a database leak must not reveal) with KMS data keys.
//
// Seal asks KMS for a fresh AES-256 data key per value, encrypts the value
// locally with AES-256-GCM and stores only the KMS-wrapped copy of the data
// key beside the ciphertext. The caller's encryption context (e.g.
// {"purpose": "totp", "userId": "usr_…"}) binds the blob to its owner twice:
// KMS refuses to unwrap the data key under another context, and the same
// context, canonicalized, is the GCM additional data, so a blob copied onto
// another user fails even against a KMS that ignored the context.
//
// Blob format, version 1 (all lengths big-endian):
//
//	version(1) | len(wrappedKey)(2) | wrappedKey | nonce(12) | ciphertext+tag
//
// The header is authenticated too (it is part of the additional data), so
// no byte of a blob can change without Open failing.
package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS is the part of the KMS API envelope encryption needs.
type KMS interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ KMS = (*kms.Client)(nil)

var (
	// ErrInvalidCiphertext: the blob is malformed or truncated, was
	// tampered with, or does not belong to this encryption context or key.
	// The reasons are deliberately not told apart.
	ErrInvalidCiphertext = errors.New("invalid ciphertext")
	// ErrUnsupportedVersion: the blob was written by a format this code
	// does not know (a newer deployment, or garbage).
	ErrUnsupportedVersion = errors.New("unsupported envelope version")
)

const (
	version1    = 1
	dataKeyLen  = 32 // AES-256
	nonceLen    = 12 // GCM standard nonce
	tagLen      = 16
	headerFixed = 1 + 2 // version + wrapped key length
	// MaxPlaintext bounds what Seal accepts: envelope encryption here is
	// for fields in DynamoDB items (400 KB each), not for files.
	MaxPlaintext = 64 << 10
	// aadLabel separates this format's additional data from any other use
	// of the same keys.
	aadLabel = "vip-platform/keys/envelope"
)

// Envelope seals and opens values under one KMS key. It is safe for
// concurrent use.
type Envelope struct {
	kms   KMS
	keyID string
}

// New returns an Envelope using the KMS key keyID (key ID, key ARN, alias
// name or alias ARN). Open pins the same key when asking KMS to decrypt, so a
// blob wrapped under any other key (e.g. an attacker's, in another account)
// is refused.
func New(client KMS, keyID string) (*Envelope, error) {
	if client == nil {
		return nil, errors.New("keys: nil KMS client")
	}
	if keyID == "" {
		return nil, errors.New("keys: empty key id")
	}
	return &Envelope{kms: client, keyID: keyID}, nil
}

// Seal encrypts plaintext under a fresh data key, bound to encCtx, which must
// be non-empty (an unbound secret could be moved to any owner) and must be
// given again, identical, to Open. The context is not secret: KMS logs it in
// CloudTrail.
func (e *Envelope) Seal(ctx context.Context, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("keys: seal: plaintext longer than %d bytes", MaxPlaintext)
	}
	if err := checkContext(encCtx); err != nil {
		return nil, fmt.Errorf("keys: seal: %w", err)
	}
	out, err := e.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(e.keyID),
		KeySpec:           kmstypes.DataKeySpecAes256,
		EncryptionContext: encCtx,
	})
	if err != nil {
		return nil, fmt.Errorf("keys: seal: generate data key: %w", err)
	}
	// The plaintext data key must not outlive this call. (aes.NewCipher
	// keeps an expanded copy Go gives no way to wipe; it becomes garbage
	// when this function returns.)
	defer clear(out.Plaintext)
	if len(out.Plaintext) != dataKeyLen {
		return nil, fmt.Errorf("keys: seal: KMS returned a %d-byte data key, want %d", len(out.Plaintext), dataKeyLen)
	}
	if n := len(out.CiphertextBlob); n == 0 || n > 0xffff {
		return nil, fmt.Errorf("keys: seal: KMS returned a %d-byte wrapped key", n)
	}
	gcm, err := newGCM(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("keys: seal: %w", err)
	}
	header := make([]byte, 0, headerFixed+len(out.CiphertextBlob)+nonceLen)
	header = append(header, version1)
	header = binary.BigEndian.AppendUint16(header, uint16(len(out.CiphertextBlob)))
	header = append(header, out.CiphertextBlob...)
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: seal: nonce: %w", err)
	}
	header = append(header, nonce...)
	blob := make([]byte, len(header), len(header)+len(plaintext)+tagLen)
	copy(blob, header)
	return gcm.Seal(blob, nonce, plaintext, additionalData(header, encCtx)), nil
}

// Open decrypts a blob made by Seal with the same encryption context. A
// wrong context, another key, a tampered or truncated blob all give
// ErrInvalidCiphertext; an unknown format gives ErrUnsupportedVersion; other
// errors are KMS or network failures. Errors never carry plaintext.
func (e *Envelope) Open(ctx context.Context, blob []byte, encCtx map[string]string) ([]byte, error) {
	if err := checkContext(encCtx); err != nil {
		return nil, fmt.Errorf("keys: open: %w", err)
	}
	if len(blob) == 0 {
		return nil, fmt.Errorf("keys: open: empty blob: %w", ErrInvalidCiphertext)
	}
	if blob[0] != version1 {
		return nil, fmt.Errorf("keys: open: version %d: %w", blob[0], ErrUnsupportedVersion)
	}
	if len(blob) < headerFixed {
		return nil, fmt.Errorf("keys: open: truncated header: %w", ErrInvalidCiphertext)
	}
	wrappedLen := int(binary.BigEndian.Uint16(blob[1:headerFixed]))
	headerLen := headerFixed + wrappedLen + nonceLen
	if wrappedLen == 0 || len(blob) < headerLen+tagLen {
		return nil, fmt.Errorf("keys: open: truncated blob: %w", ErrInvalidCiphertext)
	}
	header := blob[:headerLen]
	wrapped := blob[headerFixed : headerFixed+wrappedLen]
	nonce := blob[headerFixed+wrappedLen : headerLen]

	out, err := e.kms.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(e.keyID),
		CiphertextBlob:    wrapped,
		EncryptionContext: encCtx,
	})
	if err != nil {
		var invalid *kmstypes.InvalidCiphertextException
		var incorrect *kmstypes.IncorrectKeyException
		if errors.As(err, &invalid) || errors.As(err, &incorrect) {
			return nil, fmt.Errorf("keys: open: unwrap data key: %w: %w", ErrInvalidCiphertext, err)
		}
		return nil, fmt.Errorf("keys: open: unwrap data key: %w", err)
	}
	defer clear(out.Plaintext)
	if len(out.Plaintext) != dataKeyLen {
		return nil, fmt.Errorf("keys: open: data key of %d bytes: %w", len(out.Plaintext), ErrInvalidCiphertext)
	}
	gcm, err := newGCM(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("keys: open: %w", err)
	}
	plaintext, err := gcm.Open(nil, nonce, blob[headerLen:], additionalData(header, encCtx))
	if err != nil {
		// gcm's error says only "message authentication failed".
		return nil, fmt.Errorf("keys: open: %w", ErrInvalidCiphertext)
	}
	return plaintext, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return gcm, nil
}

func checkContext(encCtx map[string]string) error {
	if len(encCtx) == 0 {
		return errors.New("empty encryption context")
	}
	for k := range encCtx {
		if k == "" {
			return errors.New("empty encryption context key")
		}
	}
	return nil
}

// additionalData is the GCM AAD: a label, the blob header, and the
// encryption context canonicalized as sorted, length-prefixed key/value
// pairs, so two different contexts can never encode alike (no separator a
// value could contain).
func additionalData(header []byte, encCtx map[string]string) []byte {
	names := make([]string, 0, len(encCtx))
	for k := range encCtx {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString(aadLabel)
	writeField(&b, header)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(names))))
	for _, k := range names {
		writeField(&b, []byte(k))
		writeField(&b, []byte(encCtx[k]))
	}
	return b.Bytes()
}

func writeField(b *bytes.Buffer, v []byte) {
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
	b.Write(v)
}
