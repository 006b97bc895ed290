// Package platform wires the shared building blocks a function needs from
// its environment, once per cold start: configuration, the logger, the AWS
// SDK configuration and clients, the store, the audit writer, and on demand
// the token issuer/verifier, the envelope and the rate limiter. Every
// functions/<name>/main.go calls Load and passes what it needs to its
// handler, so handlers never read the environment and never know whether
// they run in AWS or in the devstack.
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/awsclient"
	"github.com/vip-platform/backend/shared/config"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/secrets"
	"github.com/vip-platform/backend/shared/signingkeys"
	"github.com/vip-platform/backend/shared/store"
)

// Environment variables read beyond config.Base.
const (
	EnvSigningKeysSecret = "SIGNING_KEYS_SECRET_ID"
	EnvRateLimitSecret   = "RATE_LIMIT_KEY_SECRET_ID"
	EnvDataKey           = "DATA_KEY_ARN"
	EnvTokenIssuer       = "TOKEN_ISSUER"
	EnvTokenAudience     = "TOKEN_AUDIENCE"
	EnvAccessTokenTTL    = "ACCESS_TOKEN_TTL"
)

// Deps are a function's shared dependencies.
type Deps struct {
	// Name is the function's folder name (auth-login), used in logs.
	Name   string
	Config config.Base
	Log    *slog.Logger
	AWS    aws.Config
	Dynamo *dynamodb.Client
	Store  *store.Store
	Audit  *audit.Writer
	// Now is the clock every component shares.
	Now func() time.Time

	lookup      func(string) (string, bool)
	secretsOnce sync.Once
	secrets     *secrets.Manager
	secretsErr  error
}

// Load reads the base configuration (failing with every missing variable
// named), builds the logger and the SDK configuration, the store and the
// audit writer. It makes no network call.
func Load(ctx context.Context, name string) (*Deps, error) {
	return LoadFrom(ctx, name, os.LookupEnv)
}

// LoadFrom is Load with an explicit environment (tests).
func LoadFrom(ctx context.Context, name string, lookup func(string) (string, bool)) (*Deps, error) {
	l := config.NewLoaderFrom(lookup)
	base := config.LoadBase(l)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("%s config: %w", name, err)
	}
	d := &Deps{
		Name:   name,
		Config: base,
		Log:    obs.New(os.Stdout, name, base.LogLevel),
		Now:    time.Now,
		lookup: lookup,
	}
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		return nil, err
	}
	d.AWS = cfg
	d.Dynamo = awsclient.DynamoDB(cfg)
	if d.Store, err = store.New(d.Dynamo, base.TableName, store.WithClock(d.Now)); err != nil {
		return nil, fmt.Errorf("%s store: %w", name, err)
	}
	if d.Audit, err = audit.NewWriter(d.Dynamo, audit.Config{Table: base.AuditTableName, Clock: d.Now}); err != nil {
		return nil, fmt.Errorf("%s audit writer: %w", name, err)
	}
	return d, nil
}

// env reads one required variable.
func (d *Deps) env(name string) (string, error) {
	l := config.NewLoaderFrom(d.lookup)
	v := l.String(name)
	return v, l.Err()
}

// Secrets returns the (uncached) Secrets Manager reader; callers cache.
func (d *Deps) Secrets() (*secrets.Manager, error) {
	d.secretsOnce.Do(func() {
		d.secrets, d.secretsErr = secrets.NewManager(awsclient.SecretsManager(d.AWS))
	})
	return d.secrets, d.secretsErr
}

// KeySource returns the signing key ring source (SIGNING_KEYS_SECRET_ID).
func (d *Deps) KeySource() (*signingkeys.Source, error) {
	id, err := d.env(EnvSigningKeysSecret)
	if err != nil {
		return nil, err
	}
	sm, err := d.Secrets()
	if err != nil {
		return nil, err
	}
	return signingkeys.New(sm, id, signingkeys.WithClock(d.Now))
}

func (d *Deps) tokenConfig() (issuer, audience string, ttl time.Duration, err error) {
	l := config.NewLoaderFrom(d.lookup)
	issuer = l.String(EnvTokenIssuer)
	audience = l.String(EnvTokenAudience)
	ttl = l.Duration(EnvAccessTokenTTL, token.DefaultTTL)
	return issuer, audience, ttl, l.Err()
}

// Issuer returns the access-token issuer.
func (d *Deps) Issuer() (*token.Issuer, error) {
	src, err := d.KeySource()
	if err != nil {
		return nil, err
	}
	iss, aud, ttl, err := d.tokenConfig()
	if err != nil {
		return nil, err
	}
	return token.NewIssuer(src, token.IssuerConfig{Issuer: iss, Audience: aud, TTL: ttl, Now: d.Now})
}

// Verifier returns the access-token verifier.
func (d *Deps) Verifier() (*token.Verifier, error) {
	src, err := d.KeySource()
	if err != nil {
		return nil, err
	}
	iss, aud, _, err := d.tokenConfig()
	if err != nil {
		return nil, err
	}
	return token.NewVerifier(src, token.VerifierConfig{Issuer: iss, Audience: aud, Now: d.Now})
}

// Envelope returns KMS envelope encryption under DATA_KEY_ARN.
func (d *Deps) Envelope() (*keys.Envelope, error) {
	arn, err := d.env(EnvDataKey)
	if err != nil {
		return nil, err
	}
	return keys.New(awsclient.KMS(d.AWS), arn)
}

// Limiter returns a rate limiter over the main table whose counter keys are
// HMACed with the RATE_LIMIT_KEY_SECRET_ID secret. It reads the secret now:
// once per cold start.
func (d *Deps) Limiter(ctx context.Context, policies map[string]ratelimit.Policy) (*ratelimit.Limiter, error) {
	id, err := d.env(EnvRateLimitSecret)
	if err != nil {
		return nil, err
	}
	sm, err := d.Secrets()
	if err != nil {
		return nil, err
	}
	key, err := sm.Secret(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("rate limit key: %w", err)
	}
	return ratelimit.New(d.Dynamo, ratelimit.Config{
		Table: d.Config.TableName, Policies: policies, Clock: d.Now, HashKey: key,
	})
}

// StartHTTP starts the Lambda runtime loop for an API Gateway proxy handler,
// wrapped by apigw.Wrap (error mapping, security headers, CORS, logging).
// It does not return.
func (d *Deps) StartHTTP(h apigw.Handler) {
	lambda.Start(apigw.Wrap(d.Name, d.Log, h, apigw.WithAllowedOrigins(d.Config.AllowedOrigins)))
}
