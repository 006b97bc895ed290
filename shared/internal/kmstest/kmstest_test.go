package kmstest_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/internal/kmstest"
	"github.com/vip-platform/backend/shared/keys"
)

func TestNew(t *testing.T) {
	client, keyID := kmstest.New(t)
	if !strings.HasPrefix(keyID, "arn:aws:kms:"+kmstest.Region+":"+kmstest.Account+":key/") {
		t.Fatalf("key id %q is not a key ARN", keyID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	env, err := keys.New(client, keyID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.New(client, kmstest.CreateKey(t, client))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	owner := map[string]string{"userId": "usr_a", "purpose": "totp"}
	blob, err := env.Seal(ctx, secret, owner)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	tests := []struct {
		name    string
		env     *keys.Envelope
		encCtx  map[string]string
		wantErr error
	}{
		{"same key and context", env, owner, nil},
		{"another owner", env, map[string]string{"userId": "usr_b", "purpose": "totp"}, keys.ErrInvalidCiphertext},
		{"another key", other, owner, keys.ErrInvalidCiphertext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.env.Open(ctx, blob, tt.encCtx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(got, secret) {
				t.Fatalf("Open = %q, want the sealed secret", got)
			}
		})
	}
}

func TestServersAreIndependent(t *testing.T) {
	// A key made on one server does not exist on another: tests cannot
	// share state by accident.
	a, keyA := kmstest.New(t)
	b := kmstest.NewClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.ListKeys(ctx, nil); err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	envB, err := keys.New(b, keyA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envB.Seal(ctx, []byte("x"), map[string]string{"k": "v"}); err == nil {
		t.Fatal("Seal under a key of another server succeeded")
	}
}
