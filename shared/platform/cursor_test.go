package platform_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/platform"
	"github.com/vip-platform/backend/shared/secrets"
)

// stages is a fake secret with values per staging label.
type stages struct {
	values map[string]string
	err    error // returned for AWSPREVIOUS when set
}

func (s stages) Secret(ctx context.Context, id string) ([]byte, error) {
	return s.SecretStage(ctx, id, secrets.StageCurrent)
}

func (s stages) SecretStage(_ context.Context, _ string, stage string) ([]byte, error) {
	if stage == secrets.StagePrevious && s.err != nil {
		return nil, s.err
	}
	v, ok := s.values[stage]
	if !ok {
		return nil, secrets.ErrNotFound
	}
	return []byte(v), nil
}

var (
	keyA = strings.Repeat("a", 40)
	keyB = strings.Repeat("b", 40)
	now  = func() time.Time { return time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC) }
	page = map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "PROGRAM#x"}}
)

func TestNewCursorSealer(t *testing.T) {
	ctx := context.Background()
	old, err := platform.NewCursorSealer(ctx, stages{values: map[string]string{secrets.StageCurrent: keyA}}, "cursor", now)
	if err != nil {
		t.Fatalf("never rotated: %v", err)
	}
	token, err := old.SealKey("purpose", page)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := platform.NewCursorSealer(ctx, stages{values: map[string]string{secrets.StageCurrent: keyB, secrets.StagePrevious: keyA}}, "cursor", now)
	if err != nil {
		t.Fatalf("rotated: %v", err)
	}
	if _, err := rotated.OpenKey("purpose", token); err != nil {
		t.Fatalf("cursor of the previous key refused after rotation: %v", err)
	}
	fresh, err := platform.NewCursorSealer(ctx, stages{values: map[string]string{secrets.StageCurrent: keyB}}, "cursor", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.OpenKey("purpose", token); !errors.Is(err, cursor.ErrInvalidCursor) {
		t.Fatalf("cursor of an unknown key: %v, want ErrInvalidCursor", err)
	}

	for name, r := range map[string]stages{
		"no current":          {values: map[string]string{}},
		"short key":           {values: map[string]string{secrets.StageCurrent: "short"}},
		"previous unreadable": {values: map[string]string{secrets.StageCurrent: keyA}, err: errors.New("throttled")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := platform.NewCursorSealer(ctx, r, "cursor", now); err == nil {
				t.Fatal("sealer built")
			}
		})
	}
}
