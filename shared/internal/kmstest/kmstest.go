// Package kmstest gives tests a real KMS wire protocol: local-kms
// (github.com/nsmithuk/local-kms) served in-process on 127.0.0.1 with its
// LevelDB in a temporary directory, and a real *kms.Client pointed at it.
// Envelope encryption under it exercises the real thing: data keys are
// generated and unwrapped by KMS, and a wrong encryption context fails with
// InvalidCiphertextException exactly as in AWS.
//
// local-kms logs every request to stderr; test output shows those lines
// when a test fails, which helps more than it hurts.
package kmstest

import (
	"context"
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
)

// Region and Account are what local-kms puts into the ARNs it returns.
const (
	Region  = "us-east-1"
	Account = "111122223333"
)

// local-kms keeps its region and account in package variables; they are set
// once, before any server runs, instead of racing parallel tests.
var configOnce sync.Once

// New starts local-kms for the test, creates one symmetric key (as
// template.yaml's DataKey) and returns a client and the key's ARN, the form
// DATA_KEY_ARN takes in the functions. Everything is torn down when the test
// ends.
func New(t testing.TB) (client *kms.Client, keyID string) {
	t.Helper()
	client = NewClient(t)
	return client, CreateKey(t, client)
}

// NewClient starts local-kms for the test and returns a client for it, with
// no key yet (see CreateKey).
func NewClient(t testing.TB) *kms.Client {
	t.Helper()
	configOnce.Do(func() {
		kmsconfig.AWSRegion, kmsconfig.AWSAccountId = Region, Account
	})
	db := data.NewDatabase(t.TempDir())
	t.Cleanup(db.Close) // runs after srv.Close: cleanups are LIFO
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		localkms.HandleRequest(w, r, db)
	}))
	t.Cleanup(srv.Close)
	return Client(srv.URL)
}

// Client builds a KMS client for a local endpoint. The aws.Config is
// assembled by hand: config.LoadDefaultConfig fails on machines that set
// AWS_CA_BUNDLE when a custom HTTP client is involved, and a test must never
// pick up real credentials from the environment.
func Client(endpoint string) *kms.Client {
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// CreateKey creates another symmetric encryption key and returns its ARN,
// e.g. to prove that a blob sealed under one key does not open under
// another.
func CreateKey(t testing.TB, client *kms.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := client.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("kmstest data key")})
	if err != nil {
		t.Fatalf("kmstest: CreateKey: %v", err)
	}
	if out.KeyMetadata == nil || aws.ToString(out.KeyMetadata.Arn) == "" {
		t.Fatal("kmstest: CreateKey returned no key ARN")
	}
	return aws.ToString(out.KeyMetadata.Arn)
}
