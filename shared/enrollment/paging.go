package enrollment

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// Cursors seals and opens pagination cursors (*cursor.Sealer).
type Cursors interface {
	SealKey(purpose string, key map[string]types.AttributeValue) (string, error)
	OpenKey(purpose, token string) (map[string]types.AttributeValue, error)
}

var _ Cursors = (*cursor.Sealer)(nil)

// Page limits of every listing (api-docs: limit 1..50, default 20).
const (
	DefaultPageSize = 20
	MaxPageSize     = store.MaxPageSize
)

// Page asks for one page: Limit items (0 means DefaultPageSize) after
// Cursor ("" for the first page).
type Page struct {
	Limit  int
	Cursor string
}

// open checks the limit and opens the cursor for purpose.
func (p Page) open(c Cursors, purpose string) (int32, store.StartKey, error) {
	limit := p.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return 0, nil, validate.Errors{{Field: "limit", Reason: fmt.Sprintf("must be an integer between 1 and %d", MaxPageSize)}}
	}
	if p.Cursor == "" {
		return int32(limit), nil, nil
	}
	start, err := c.OpenKey(purpose, p.Cursor)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return int32(limit), start, nil
}

// seal turns a store's next key into the next cursor ("" on the last
// page).
func seal(c Cursors, purpose string, next store.StartKey) (string, error) {
	if next == nil {
		return "", nil
	}
	tok, err := c.SealKey(purpose, next)
	if err != nil {
		return "", fmt.Errorf("seal cursor: %w", err)
	}
	return tok, nil
}

// isBadStart reports a start key the store refused as not belonging to the
// listing: a sealed cursor of this very purpose that does, which only a
// stolen key or a bug produces. Answered like a tampered cursor.
func isBadStart(err error) bool {
	return errors.Is(err, store.ErrInvalidStartKey) || errors.Is(err, store.ErrInvalidPageStart)
}
