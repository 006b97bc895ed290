package awsemu

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// AWSConfig returns an aws.Config for the emulators: the region, static
// credentials random per Emulators, each service's BaseEndpoint (through
// ConfigSources, the way config.LoadDefaultConfig passes
// AWS_ENDPOINT_URL_<SERVICE>), and an HTTP client that dials loopback only,
// so a misrouted request fails instead of leaving the machine.
//
// It is built by hand rather than with config.LoadDefaultConfig, which fails
// on machines that set AWS_CA_BUNDLE when given a custom HTTP client.
//
// aws.Config cannot say "path-style" for S3; the endpoints are IP addresses,
// for which the SDK addresses buckets by path anyway. Clients sets
// UsePathStyle explicitly.
func (e *Emulators) AWSConfig() aws.Config {
	return aws.Config{
		Region:        e.opts.Region,
		Credentials:   credentials.NewStaticCredentialsProvider(e.accessKey, e.secretKey, ""),
		HTTPClient:    LoopbackHTTPClient(),
		ConfigSources: []any{endpointSource(e.endpoints)},
	}
}

// Clients are SDK clients pointed at the emulators.
type Clients struct {
	DynamoDB       *dynamodb.Client
	S3             *s3.Client
	KMS            *kms.Client
	SecretsManager *secretsmanager.Client
}

// Clients returns SDK clients for the emulators, built from AWSConfig with
// each BaseEndpoint set explicitly (so AWS_ENDPOINT_URL in the environment
// cannot redirect them) and S3 path-style.
func (e *Emulators) Clients() Clients {
	cfg := e.AWSConfig()
	ep := e.endpoints
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep.DynamoDB) }),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(ep.S3)
			o.UsePathStyle = true
		}),
		KMS:            kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(ep.KMS) }),
		SecretsManager: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(ep.SecretsManager) }),
	}
}

// endpointSource answers the SDK's per-service endpoint lookup
// (configsources.ServiceBaseEndpointProvider) with the emulators' URLs. The
// SDK IDs are the services' ServiceID constants.
type endpointSource Endpoints

// GetServiceBaseEndpoint returns the emulator URL for an SDK service ID.
func (s endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	switch sdkID {
	case dynamodb.ServiceID:
		return s.DynamoDB, true, nil
	case s3.ServiceID:
		return s.S3, true, nil
	case kms.ServiceID:
		return s.KMS, true, nil
	case secretsmanager.ServiceID:
		return s.SecretsManager, true, nil
	}
	return "", false, nil
}

// LoopbackHTTPClient is the SDK's default HTTP client, without proxies,
// refusing to connect anywhere but a loopback address.
func LoopbackHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithTransportOptions(func(t *http.Transport) { t.Proxy = nil }).
		WithDialerOptions(func(d *net.Dialer) { d.Control = loopbackOnly })
}

func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("awsemu client: dial %q: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("awsemu client: refusing to dial %s: only loopback addresses are allowed", address)
	}
	return nil
}
