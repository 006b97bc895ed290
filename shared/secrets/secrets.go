// Package secrets reads secret values (signing key rings, API keys) from AWS
// Secrets Manager, through a small interface so consumers do not depend on
// the SDK, and caches them with a TTL so a warm Lambda does not call Secrets
// Manager on every request yet picks up a rotation within one TTL.
//
// Errors name the secret (its name is not secret) but never contain a value.
package secrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Staging labels of Secrets Manager versions. A rotation writes AWSPENDING,
// then moves AWSCURRENT onto it, and AWSPREVIOUS onto the old current.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// ErrNotFound: no such secret, or no version with the requested stage (as
// AWSPENDING outside a rotation).
var ErrNotFound = errors.New("secrets: not found")

// Reader returns the current value of a secret. Callers must not keep the
// returned slice beyond their use of it, and may overwrite it.
type Reader interface {
	Secret(ctx context.Context, id string) ([]byte, error)
}

// StageReader also returns the value of a secret's version with a given
// staging label, which key rotation and key-ring verification need.
type StageReader interface {
	Reader
	SecretStage(ctx context.Context, id, stage string) ([]byte, error)
}

// API is the part of the Secrets Manager client Manager uses.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// Manager reads secrets from Secrets Manager.
type Manager struct {
	api API
}

var _ StageReader = (*Manager)(nil)

// NewManager returns a Manager using api (awsclient.SecretsManager(cfg)).
func NewManager(api API) (*Manager, error) {
	if api == nil {
		return nil, errors.New("secrets: nil Secrets Manager client")
	}
	return &Manager{api: api}, nil
}

// Secret returns the AWSCURRENT value of secret id.
func (m *Manager) Secret(ctx context.Context, id string) ([]byte, error) {
	return m.SecretStage(ctx, id, StageCurrent)
}

// SecretStage returns the value of secret id's version labelled stage:
// SecretBinary when set, else SecretString's bytes.
func (m *Manager) SecretStage(ctx context.Context, id, stage string) ([]byte, error) {
	if id == "" || stage == "" {
		return nil, errors.New("secrets: secret id and stage are required")
	}
	out, err := m.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(id),
		VersionStage: aws.String(stage),
	})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("get secret %s (%s): %w", id, stage, ErrNotFound)
		}
		return nil, fmt.Errorf("get secret %s (%s): %w", id, stage, err)
	}
	switch {
	case out.SecretBinary != nil:
		return out.SecretBinary, nil
	case out.SecretString != nil:
		return []byte(*out.SecretString), nil
	}
	return nil, fmt.Errorf("get secret %s (%s): version has no value", id, stage)
}
