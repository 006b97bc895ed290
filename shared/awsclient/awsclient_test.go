package awsclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/vip-platform/backend/shared/awsclient/s3client"
)

// recorder is a fake AWS endpoint: it records each request's target (JSON
// protocols) or path (S3) and answers a minimal valid response.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	what := req.Header.Get("X-Amz-Target")
	if what == "" {
		what = req.Method + " " + req.URL.Path
	}
	r.seen = append(r.seen, what)
	r.mu.Unlock()
	switch {
	case strings.HasPrefix(what, "DynamoDB_20120810."):
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	case strings.HasPrefix(what, "TrentService."):
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"Keys":[]}`))
	case strings.HasPrefix(what, "secretsmanager."):
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"Name":"s","SecretString":"v","VersionId":"1"}`))
	default: // S3 HeadBucket
		w.WriteHeader(http.StatusOK)
	}
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// isolate gives the test a clean AWS environment: fake credentials, a
// region, no shared config files, no instance metadata.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION":                          "eu-west-1",
		"AWS_ACCESS_KEY_ID":                   "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":               "test-secret",
		"AWS_SESSION_TOKEN":                   "",
		"AWS_PROFILE":                         "",
		"AWS_CONFIG_FILE":                     filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":         filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":           "true",
		"AWS_ENDPOINT_URL":                    "",
		"AWS_ENDPOINT_URL_DYNAMODB":           "",
		"AWS_ENDPOINT_URL_S3":                 "",
		"AWS_ENDPOINT_URL_KMS":                "",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER":    "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	} {
		t.Setenv(k, v)
	}
}

func callAll(t *testing.T, cfg aws.Config) {
	t.Helper()
	ctx := context.Background()
	if _, err := DynamoDB(cfg).GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key:       map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "HEALTH"}, "SK": &types.AttributeValueMemberS{Value: "HEALTH"}},
	}); err != nil {
		t.Fatalf("DynamoDB: %v", err)
	}
	if _, err := s3client.New(cfg).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("vip-files")}); err != nil {
		t.Fatalf("S3: %v", err)
	}
	if _, err := KMS(cfg).ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("KMS: %v", err)
	}
	if _, err := SecretsManager(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}); err != nil {
		t.Fatalf("SecretsManager: %v", err)
	}
}

func TestPerServiceEndpointEnv(t *testing.T) {
	isolate(t)
	servers := map[string]*recorder{}
	for _, svc := range []string{"DYNAMODB", "S3", "KMS", "SECRETS_MANAGER"} {
		rec := &recorder{}
		hs := httptest.NewServer(rec)
		t.Cleanup(hs.Close)
		t.Setenv("AWS_ENDPOINT_URL_"+svc, hs.URL)
		servers[svc] = rec
	}
	cfg, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	callAll(t, cfg)
	want := map[string]string{
		"DYNAMODB":        "DynamoDB_20120810.GetItem",
		"S3":              "HEAD /vip-files", // path-style: bucket in the path
		"KMS":             "TrentService.ListKeys",
		"SECRETS_MANAGER": "secretsmanager.GetSecretValue",
	}
	for svc, w := range want {
		got := servers[svc].requests()
		if len(got) != 1 || got[0] != w {
			t.Errorf("%s endpoint saw %v, want [%s]", svc, got, w)
		}
	}
}

func TestGlobalEndpointEnv(t *testing.T) {
	isolate(t)
	rec := &recorder{}
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	cfg, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	callAll(t, cfg)
	if got := rec.requests(); len(got) != 4 || got[1] != "HEAD /vip-files" {
		t.Fatalf("global endpoint saw %v", got)
	}
}

func TestS3PathStyle(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		base *string
		want bool
	}{
		{"real AWS", nil, nil, false},
		{"s3 override", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}, nil, true},
		{"global override", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, nil, true},
		{"overrides ignored", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, nil, false},
		{"base endpoint in config", nil, aws.String("http://127.0.0.1:1"), true},
		{"other service override only", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: tt.base}
			if got := s3client.New(cfg).Options().UsePathStyle; got != tt.want {
				t.Fatalf("UsePathStyle = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCABundleWithTLSEmulator covers the AWS_CA_BUNDLE trap: Load must work
// with the variable set, and must actually trust the bundle, so a devstack
// serving TLS with its own certificate is reachable.
func TestCABundleWithTLSEmulator(t *testing.T) {
	isolate(t)
	rec := &recorder{}
	hs := httptest.NewTLSServer(rec)
	t.Cleanup(hs.Close)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", hs.URL)
	get := func() error {
		cfg, err := Load(context.Background())
		if err != nil {
			t.Fatalf("Load with AWS_CA_BUNDLE set: %v", err)
		}
		_, err = DynamoDB(cfg).GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName: aws.String("t"),
			Key:       map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "x"}},
		}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		return err
	}

	t.Setenv("AWS_CA_BUNDLE", bundle)
	if err := get(); err != nil {
		t.Fatalf("TLS emulator with its CA bundle: %v", err)
	}

	// A bundle with an unrelated CA must not trust the server: the bundle
	// really is what the SDK verifies against.
	other := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(other, unrelatedCAPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", other)
	if err := get(); err == nil {
		t.Fatal("request succeeded with a CA bundle that does not trust the server")
	}
}

func TestLoadNeedsRegion(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := Load(context.Background()); err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("Load without region = %v", err)
	}
}

func unrelatedCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "unrelated test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
