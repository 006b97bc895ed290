package keys_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	localkms "github.com/nsmithuk/local-kms/src"
	kmsconfig "github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"

	"github.com/vip-platform/backend/shared/keys"
)

const (
	localRegion  = "us-east-1"
	localAccount = "111122223333"
)

// local-kms keeps its region and account in package variables; set them
// once, before any server runs, instead of racing parallel tests.
var kmsConfigOnce sync.Once

// newLocalKMS runs local-kms in-process on 127.0.0.1 with its LevelDB in a
// temporary directory and returns a real *kms.Client for it. The aws.Config
// is built by hand: config.LoadDefaultConfig breaks on machines that set
// AWS_CA_BUNDLE, and a test must never pick up real credentials.
func newLocalKMS(t *testing.T) *kms.Client {
	t.Helper()
	kmsConfigOnce.Do(func() {
		kmsconfig.AWSRegion, kmsconfig.AWSAccountId = localRegion, localAccount
	})
	db := data.NewDatabase(t.TempDir())
	t.Cleanup(db.Close) // runs after srv.Close: cleanups are LIFO
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		localkms.HandleRequest(w, r, db)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      localRegion,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// createKey creates a symmetric key with an alias, as template.yaml's
// DataKey and DataKeyAlias do, and returns the alias name.
func createKey(t *testing.T, c *kms.Client, alias string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("test data key")})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	return alias
}

func TestLocalKMS(t *testing.T) {
	c := newLocalKMS(t)
	env, err := keys.New(c, createKey(t, c, "alias/vip-test-data"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.New(c, createKey(t, c, "alias/vip-test-other"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	blob, err := env.Seal(ctx, secret, ownerCtx("usr_a"))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if bytes.Contains(blob, secret) {
		t.Fatal("blob contains the plaintext")
	}
	got, err := env.Open(ctx, blob, ownerCtx("usr_a"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}

	// usr_b's blob carrying usr_a's wrapped data key: local-kms refuses to
	// unwrap it under usr_b's context (its log shows the failure) before the
	// envelope's own GCM check is reached.
	blobB, err := env.Seal(ctx, secret, ownerCtx("usr_b"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    *keys.Envelope
		blob   []byte
		encCtx map[string]string
		want   error
	}{
		{"moved to another user", env, blob, ownerCtx("usr_b"), keys.ErrInvalidCiphertext},
		{"context changed", env, blob, map[string]string{"purpose": "totp", "userId": "usr_a", "v": "2"}, keys.ErrInvalidCiphertext},
		{"wrapped key of another owner", env, spliceWrappedKey(t, blobB, blob), ownerCtx("usr_b"), keys.ErrInvalidCiphertext},
		{"opened under another key", other, blob, ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"tampered ciphertext", env, append(bytes.Clone(blob[:len(blob)-1]), blob[len(blob)-1]^1), ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
		{"truncated", env, blob[:len(blob)-17], ownerCtx("usr_a"), keys.ErrInvalidCiphertext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.env.Open(ctx, tc.blob, tc.encCtx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tc.want)
			}
			assertNoLeak(t, err)
		})
	}

	t.Run("unknown key", func(t *testing.T) {
		missing, err := keys.New(c, "alias/does-not-exist")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := missing.Seal(ctx, secret, ownerCtx("usr_a")); err == nil {
			t.Fatal("Seal under a missing key succeeded")
		}
	})
}

// spliceWrappedKey returns dst with its wrapped data key replaced by src's.
// Both come from one Envelope, so the wrapped keys have the same length and
// the header layout is unchanged.
func spliceWrappedKey(t *testing.T, dst, src []byte) []byte {
	t.Helper()
	n := int(dst[1])<<8 | int(dst[2])
	if m := int(src[1])<<8 | int(src[2]); m != n {
		t.Fatalf("wrapped key lengths differ: %d vs %d", n, m)
	}
	out := bytes.Clone(dst)
	copy(out[3:3+n], src[3:3+n])
	return out
}
