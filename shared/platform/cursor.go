package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/secrets"
)

// EnvCursorKeySecret names the secret whose value seals pagination cursors.
const EnvCursorKeySecret = "CURSOR_KEY_SECRET_ID"

// CursorSealer returns the sealer of pagination cursors, keyed by the
// CURSOR_KEY_SECRET_ID secret. It reads the secret now (once per cold
// start): its AWSCURRENT value seals and opens, and its AWSPREVIOUS value,
// when there is one, still opens, so cursors handed out just before a
// rotation keep working.
func (d *Deps) CursorSealer(ctx context.Context) (*cursor.Sealer, error) {
	id, err := d.env(EnvCursorKeySecret)
	if err != nil {
		return nil, err
	}
	sm, err := d.Secrets()
	if err != nil {
		return nil, err
	}
	return NewCursorSealer(ctx, sm, id, d.Now)
}

// NewCursorSealer builds a cursor sealer from secret id of r (see
// CursorSealer). A missing AWSPREVIOUS version is normal (the secret was
// never rotated); any other failure to read it is an error, because
// silently dropping it would make every cursor of the last rotation
// period invalid without a trace.
func NewCursorSealer(ctx context.Context, r secrets.StageReader, id string, now func() time.Time) (*cursor.Sealer, error) {
	if r == nil || id == "" || now == nil {
		return nil, errors.New("cursor sealer: secret reader, secret id and clock are required")
	}
	current, err := r.SecretStage(ctx, id, secrets.StageCurrent)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	previous, err := r.SecretStage(ctx, id, secrets.StagePrevious)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		previous = nil
	case err != nil:
		return nil, fmt.Errorf("previous cursor key: %w", err)
	}
	s, err := cursor.New(current, previous, cursor.WithClock(now))
	if err != nil {
		return nil, fmt.Errorf("cursor sealer: %w", err)
	}
	return s, nil
}
