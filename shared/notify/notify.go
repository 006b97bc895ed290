// Package notify is the notification inbox: listing a user's notifications
// (newest first, optionally unread only, sealed cursors) and marking one
// read. Notifications are written by the transactions that cause them
// (store.NotificationPutItem in accept, reject, submit and review), so one
// exists exactly when its cause happened; this package only reads and marks.
//
// The record is shaped for a real-time push added later: a notification is
// addressed to exactly one recipient (Event.Recipient), names what happened
// (Kind, also the WebSocket event name) and carries only IDs, titles, the
// decision and the version (store.NotificationData) — nothing the recipient
// may not read, nothing about another person. The same View is the REST
// inbox entry and the pushed payload, so a publisher needs no other shape.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// ListStore is the part of the store listing uses.
type ListStore interface {
	ListNotifications(ctx context.Context, userID string, unreadOnly bool, limit int32,
		start map[string]types.AttributeValue) ([]store.Notification, map[string]types.AttributeValue, error)
}

// MarkStore is the part of the store marking uses.
type MarkStore interface {
	MarkNotificationRead(ctx context.Context, userID, id string) error
}

var (
	_ ListStore = (*store.Store)(nil)
	_ MarkStore = (*store.Store)(nil)
)

// Cursors seals and opens page positions.
type Cursors interface {
	SealKey(purpose string, key map[string]types.AttributeValue) (string, error)
	OpenKey(purpose, token string) (map[string]types.AttributeValue, error)
}

var _ Cursors = (*cursor.Sealer)(nil)

// Errors of the service; handlers map them to HTTP.
var (
	// ErrInvalidCursor: the cursor is malformed, tampered, expired, or
	// belongs to another user or filter. Answer 400.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrNotFound: no such notification in the caller's inbox. Answer 404.
	ErrNotFound = errors.New("notification not found")
	// ErrInvalidQuery: limit out of range or caller malformed. Answer 400.
	ErrInvalidQuery = errors.New("invalid query")
)

// Page sizes (api-docs: limit 1..50, default 20).
const (
	DefaultLimit = 20
	MaxLimit     = store.MaxPageSize
)

// listRoute is part of every cursor's purpose: a cursor of another listing
// never opens here.
const listRoute = "GET /v1/notifications"

// View is a notification as its recipient sees it: the REST inbox entry
// (api-docs/openapi.yaml Notification) and the real-time payload.
type View struct {
	ID        string                 `json:"id"`
	Kind      string                 `json:"kind"`
	Read      bool                   `json:"read"`
	CreatedAt time.Time              `json:"createdAt"`
	Data      store.NotificationData `json:"data"`
}

// ViewOf is the recipient's view of n.
func ViewOf(n store.Notification) View {
	return View{ID: n.ID, Kind: n.Kind, Read: n.Read, CreatedAt: n.CreatedAt.UTC(), Data: n.Data}
}

// Event is a notification addressed for delivery: a real-time publisher
// sends Notification to the connections of Recipient only.
type Event struct {
	Recipient    string
	Notification View
}

// EventOf addresses n to its recipient.
func EventOf(n store.Notification) Event {
	return Event{Recipient: n.UserID, Notification: ViewOf(n)}
}

// Lister pages through a user's own notifications. The user ID always
// comes from the authenticated principal, and every store key is built from
// it, so no request can reach another user's inbox.
type Lister struct {
	store   ListStore
	cursors Cursors
}

// NewLister returns the inbox listing.
func NewLister(st ListStore, c Cursors) (*Lister, error) {
	if st == nil || c == nil {
		return nil, errors.New("notify: store and cursors are required")
	}
	return &Lister{store: st, cursors: c}, nil
}

// Marker marks a user's own notifications read.
type Marker struct {
	store MarkStore
}

// NewMarker returns the marker.
func NewMarker(st MarkStore) (*Marker, error) {
	if st == nil {
		return nil, errors.New("notify: store is required")
	}
	return &Marker{store: st}, nil
}

// ListQuery selects one page of the inbox.
type ListQuery struct {
	UnreadOnly bool
	// Limit is 1..MaxLimit; 0 means DefaultLimit.
	Limit int
	// Cursor is the NextCursor of the previous page ("" for the first).
	Cursor string
}

// Page is one page of the inbox, newest first.
type Page struct {
	Items []View `json:"items"`
	// NextCursor is "" on the last page.
	NextCursor string `json:"nextCursor,omitzero"`
}

func purpose(userID string, unreadOnly bool) string {
	return cursor.Purpose(listRoute, userID, "unread="+strconv.FormatBool(unreadOnly))
}

// List returns one page of userID's notifications.
func (s *Lister) List(ctx context.Context, userID string, q ListQuery) (Page, error) {
	if !ids.Valid(userID, ids.User) {
		return Page{}, fmt.Errorf("%w: caller", ErrInvalidQuery)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Page{}, fmt.Errorf("%w: limit %d", ErrInvalidQuery, limit)
	}
	p := purpose(userID, q.UnreadOnly)
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		k, err := s.cursors.OpenKey(p, q.Cursor)
		if err != nil {
			return Page{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
		}
		start = k
	}
	items, next, err := s.store.ListNotifications(ctx, userID, q.UnreadOnly, int32(limit), start)
	switch {
	case errors.Is(err, store.ErrInvalidPageStart):
		return Page{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	case err != nil:
		return Page{}, fmt.Errorf("list notifications: %w", err)
	}
	page := Page{Items: make([]View, 0, len(items))}
	for _, n := range items {
		page.Items = append(page.Items, ViewOf(n))
	}
	if page.NextCursor, err = s.cursors.SealKey(p, next); err != nil {
		return Page{}, fmt.Errorf("seal notifications cursor: %w", err)
	}
	return page, nil
}

// MarkRead marks one of userID's notifications read (idempotent). Another
// user's notification is ErrNotFound, exactly like an unknown one: the
// lookup is keyed by the caller, so it cannot even be addressed.
func (s *Marker) MarkRead(ctx context.Context, userID, id string) error {
	err := s.store.MarkNotificationRead(ctx, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("mark notification read: %w", err)
	}
	return nil
}
