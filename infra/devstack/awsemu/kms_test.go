package awsemu

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestKMSEncryptDecryptWithContext(t *testing.T) {
	e, _, env := provisioned(t, repoTemplate, nil, Options{})
	k := e.Clients().KMS
	ctx := t.Context()
	keyID := ref(t, env, "DataKey")
	keyARN, _ := env.GetAtt("DataKey", "Arn")
	alias := ref(t, env, "DataKeyAlias")
	encCtx := map[string]string{"owner": "usr_1", "field": "totp"}
	plaintext := []byte("JBSWY3DPEHPK3PXP")

	for _, id := range []string{keyID, keyARN, alias, "arn:aws:kms:" + e.Region() + ":" + e.AccountID() + ":" + alias} {
		t.Run("encrypt with "+id, func(t *testing.T) {
			out, err := k.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: plaintext, EncryptionContext: encCtx})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if aws.ToString(out.KeyId) != keyARN {
				t.Errorf("Encrypt KeyId = %s, want %s", aws.ToString(out.KeyId), keyARN)
			}
			tests := []struct {
				name     string
				ctx      map[string]string
				wantCode string
			}{
				{"same context", encCtx, ""},
				{"other owner", map[string]string{"owner": "usr_2", "field": "totp"}, "InvalidCiphertextException"},
				{"no context", nil, "InvalidCiphertextException"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					dec, err := k.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: tc.ctx})
					if code := errorCode(err); code != tc.wantCode {
						t.Fatalf("Decrypt error code = %q, want %q", code, tc.wantCode)
					}
					if tc.wantCode == "" && !bytes.Equal(dec.Plaintext, plaintext) {
						t.Fatalf("Decrypt = %q", dec.Plaintext)
					}
				})
			}
		})
	}

	t.Run("data key", func(t *testing.T) {
		dk, err := k.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(alias), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: encCtx})
		if err != nil {
			t.Fatalf("GenerateDataKey: %v", err)
		}
		dec, err := k.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: encCtx})
		if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) || len(dk.Plaintext) != 32 {
			t.Fatalf("data key round trip: %v", err)
		}
	})

	t.Run("rotation as in the template", func(t *testing.T) {
		out, err := k.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(keyID)})
		if err != nil || !out.KeyRotationEnabled {
			t.Fatalf("GetKeyRotationStatus = %+v, %v; want enabled (EnableKeyRotation: true)", out, err)
		}
	})

	t.Run("unknown key", func(t *testing.T) {
		_, err := k.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/nope"), Plaintext: plaintext})
		if code := errorCode(err); code != "NotFoundException" {
			t.Fatalf("error code = %q, want NotFoundException", code)
		}
	})
}

func TestKMSUnsupportedOperation(t *testing.T) {
	e := start(t, Options{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Endpoints().KMS+"/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService.DeriveSharedSecret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "UnsupportedOperationException" {
		t.Fatalf("status %d type %q, want 400 UnsupportedOperationException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
