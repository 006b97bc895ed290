// Package awsclient builds the AWS SDK configuration once per cold start and
// the service clients from it, identically in Lambda and in the devstack.
//
// Endpoints are never chosen in code: the SDK (config v1.33.20, verified in
// its env_config.go and each service's resolveBaseEndpoint) reads
// AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_DYNAMODB, _S3, _KMS,
// _SECRETS_MANAGER) and AWS_ENDPOINT_URL, unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. The devstack injects those
// variables, so a handler cannot tell where it runs.
//
// No custom *http.Client is ever passed to the SDK: with AWS_CA_BUNDLE set
// (as on the build machines, or to trust the devstack's TLS certificate)
// config.LoadDefaultConfig refuses one ("has no WithTransportOptions"). The
// SDK's default buildable client honours AWS_CA_BUNDLE.
package awsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Load returns the SDK configuration from the environment (region,
// credentials, endpoints, CA bundle), failing when no region is configured,
// which would otherwise only surface on the first call. optFns are passed to
// config.LoadDefaultConfig.
func Load(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("load AWS config: no region (set AWS_REGION)")
	}
	return cfg, nil
}

// DynamoDB returns a DynamoDB client.
func DynamoDB(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }

// KMS returns a KMS client.
func KMS(cfg aws.Config) *kms.Client { return kms.NewFromConfig(cfg) }

// SecretsManager returns a Secrets Manager client.
func SecretsManager(cfg aws.Config) *secretsmanager.Client { return secretsmanager.NewFromConfig(cfg) }
