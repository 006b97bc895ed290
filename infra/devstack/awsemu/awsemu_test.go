package awsemu

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestStartPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name    string
		opts    Options
		service string
	}{
		{"DynamoDB", Options{DynamoDBPort: port}, "DynamoDB"},
		{"S3", Options{S3Port: port}, "S3"},
		{"KMS", Options{KMSPort: port}, "KMS"},
		{"Secrets Manager", Options{SecretsManagerPort: port}, "Secrets Manager"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DataDir = t.TempDir()
			e, err := Start(t.Context(), tc.opts)
			if err == nil {
				_ = e.Close()
				t.Fatal("Start succeeded on a taken port")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.service+" port "+strconv.Itoa(port)) || !strings.Contains(msg, "already in use") {
				t.Fatalf("error %q does not name the service and port", msg)
			}
		})
	}
	// Nothing was left bound: the same ports can be used right away.
	start(t, Options{DynamoDBPort: 0})
}

func TestStartFixedPorts(t *testing.T) {
	var ports []int
	for range 4 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
		_ = ln.Close()
	}
	e := start(t, Options{DynamoDBPort: ports[0], S3Port: ports[1], KMSPort: ports[2], SecretsManagerPort: ports[3]})
	ep := e.Endpoints()
	for i, u := range []string{ep.DynamoDB, ep.S3, ep.KMS, ep.SecretsManager} {
		if want := "http://127.0.0.1:" + strconv.Itoa(ports[i]); u != want {
			t.Errorf("endpoint %d = %s, want %s", i, u, want)
		}
	}
}

func TestStartRejects(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"non-loopback host", Options{Host: "0.0.0.0"}, "not a loopback address"},
		{"hostname", Options{Host: "example.com"}, "not a loopback address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DataDir = t.TempDir()
			e, err := Start(t.Context(), tc.opts)
			if err == nil {
				_ = e.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestStartKMSConstraints(t *testing.T) {
	dir := t.TempDir()
	first := start(t, Options{DataDir: dir})
	t.Run("second region in one process", func(t *testing.T) {
		e, err := Start(t.Context(), Options{DataDir: t.TempDir(), Region: "eu-west-1"})
		if err == nil {
			_ = e.Close()
			t.Fatal("Start succeeded")
		}
		if !strings.Contains(err.Error(), "one region/account per process") {
			t.Fatalf("error %q", err)
		}
	})
	t.Run("data dir in use", func(t *testing.T) {
		e, err := Start(t.Context(), Options{DataDir: dir})
		if err == nil {
			_ = e.Close()
			t.Fatal("Start succeeded on a locked KMS database")
		}
		if !strings.Contains(err.Error(), "KMS") {
			t.Fatalf("error %q", err)
		}
	})
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// With the first closed, another region is fine.
	start(t, Options{Region: "eu-west-1"})
}

func TestEndpointSource(t *testing.T) {
	e := start(t, Options{})
	src := endpointSource(e.Endpoints())
	tests := []struct {
		sdkID string
		want  string
	}{
		{dynamodb.ServiceID, e.Endpoints().DynamoDB},
		{s3.ServiceID, e.Endpoints().S3},
		{kms.ServiceID, e.Endpoints().KMS},
		{secretsmanager.ServiceID, e.Endpoints().SecretsManager},
		{"SQS", ""},
	}
	for _, tc := range tests {
		t.Run(tc.sdkID, func(t *testing.T) {
			got, found, err := src.GetServiceBaseEndpoint(context.Background(), tc.sdkID)
			if err != nil || got != tc.want || found != (tc.want != "") {
				t.Fatalf("= %q, %v, %v; want %q", got, found, err, tc.want)
			}
		})
	}
	// The four endpoints are distinct listeners.
	seen := map[string]bool{}
	for _, u := range []string{e.Endpoints().DynamoDB, e.Endpoints().S3, e.Endpoints().KMS, e.Endpoints().SecretsManager} {
		p, err := url.Parse(u)
		if err != nil || p.Hostname() != "127.0.0.1" || seen[p.Host] {
			t.Errorf("endpoint %s is not a distinct loopback URL", u)
		}
		seen[p.Host] = true
	}
	// AWSConfig alone reaches every service.
	cfg := e.AWSConfig()
	if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("none")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("DynamoDB via AWSConfig: %v", err)
	}
	if _, err := kms.NewFromConfig(cfg).ListKeys(t.Context(), &kms.ListKeysInput{}); err != nil {
		t.Errorf("KMS via AWSConfig: %v", err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("none")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("Secrets Manager via AWSConfig: %v", err)
	}
	if _, err := s3.NewFromConfig(cfg).ListBuckets(t.Context(), &s3.ListBucketsInput{}); err != nil {
		t.Errorf("S3 via AWSConfig: %v", err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:4566", true},
		{"127.10.0.1:80", true},
		{"[::1]:443", true},
		{"10.0.0.1:443", false},
		{"93.184.216.34:443", false},
		{"[2001:db8::1]:443", false},
		{"no-port", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if err := loopbackOnly("tcp", tc.addr, nil); (err == nil) != tc.ok {
				t.Fatalf("loopbackOnly(%s) = %v, want ok=%v", tc.addr, err, tc.ok)
			}
		})
	}
}

// TestSDKEnvEndpoints is how the devstack wires functions: only environment
// variables, read by config.LoadDefaultConfig at the pinned SDK version. The
// loopback-only client keeps a misrouted request on this machine.
func TestSDKEnvEndpoints(t *testing.T) {
	e, _, env := provisioned(t, testTemplate, nil, Options{})
	ep := e.Endpoints()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":        ep.DynamoDB,
		"AWS_ENDPOINT_URL_S3":              ep.S3,
		"AWS_ENDPOINT_URL_KMS":             ep.KMS,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": ep.SecretsManager,
		"AWS_ACCESS_KEY_ID":                "AKIAEXAMPLEEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "not-a-secret",
		"AWS_REGION":                       e.Region(),
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_CONFIG_FILE":                  "/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE":      "/nonexistent",
	} {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	ctx := t.Context()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(LoopbackHTTPClient()))
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(ref(t, env, "ItemsTable"))}); err != nil {
		t.Errorf("DynamoDB: %v", err)
	}
	if _, err := s3.NewFromConfig(cfg).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(ref(t, env, "UploadsBucket")), Key: aws.String("k"), Body: strings.NewReader("v"),
	}); err != nil {
		t.Errorf("S3 (path-style without UsePathStyle): %v", err)
	}
	if _, err := kms.NewFromConfig(cfg).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref(t, env, "FilesKeyAlias"))}); err != nil {
		t.Errorf("KMS: %v", err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref(t, env, "FixedSecret"))}); err != nil {
		t.Errorf("Secrets Manager: %v", err)
	}
}
