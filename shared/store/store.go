// Package store is the identity persistence layer: users, email claims,
// sessions, refresh tokens, MFA login challenges and the platform bootstrap
// marker, in the main single-table DynamoDB table (docs/data-model.md).
//
// Every multi-item change is one TransactWriteItems and every update is
// conditional (on a version number or on the item's state), so concurrent
// requests cannot lose updates, register one email twice or spend one refresh
// token twice. Reads are strongly consistent: a logout or suspension must take
// effect on the very next request.
//
// Items whose expiresAt has passed are invisible to every read, because
// DynamoDB's TTL deletes them lazily (and the local emulator never does).
//
// IDs and hashes are validated before they become part of a key, so no caller
// input can address an item of another type (e.g. an ID containing "#").
package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB is the part of the DynamoDB API the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Sentinel errors. Callers test them with errors.Is; the store wraps them
// with the operation that failed.
var (
	// ErrNotFound: the item does not exist, has expired, or (for keyed
	// lookups) the ID or hash given is malformed.
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken: another user already holds this normalized email.
	ErrEmailTaken = errors.New("email already registered")
	// ErrConflict: the item changed since it was read (version mismatch or a
	// state condition failed, including DynamoDB transaction conflicts);
	// re-read and retry, or give up.
	ErrConflict = errors.New("conflict")
	// ErrTokenSpent: the refresh token exists but has already been used, the
	// signature of a stolen token being replayed.
	ErrTokenSpent = errors.New("refresh token already used")
	// ErrAlreadyBootstrapped: the first platform admin already exists.
	ErrAlreadyBootstrapped = errors.New("platform already bootstrapped")
)

// Store reads and writes identity items in the main table. It is safe for
// concurrent use.
type Store struct {
	db    DynamoDB
	table string
	now   func() time.Time

	// pageSize bounds each Query page; tests shrink it to exercise paging.
	pageSize int32
	// batchAttempts and batchBackoff bound the UnprocessedKeys retry.
	batchAttempts int
	batchBackoff  time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now, for tests of expiry. The clock decides which
// items are expired and stamps createdAt/updatedAt.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns a Store over table. The table name is injected (TABLE_NAME in
// the functions) so one code path serves AWS, the devstack and tests.
func New(client DynamoDB, table string, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("store: nil DynamoDB client")
	}
	if table == "" {
		return nil, errors.New("store: empty table name")
	}
	s := &Store{
		db:            client,
		table:         table,
		now:           time.Now,
		pageSize:      100,
		batchAttempts: 5,
		batchBackoff:  20 * time.Millisecond,
	}
	for _, o := range opts {
		o(s)
	}
	if s.now == nil {
		return nil, errors.New("store: nil clock")
	}
	return s, nil
}

// Key attribute names and fixed sort keys of docs/data-model.md.
const (
	attrPK      = "PK"
	attrSK      = "SK"
	attrExpires = "expiresAt"
	attrVersion = "version"
	attrStatus  = "status"
)

// hashPattern bounds what may follow REFRESH# or CHALLENGE#: a hex or
// base64url digest. Anything else (e.g. "#") never reaches a key.
var hashPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)

func validHash(h string) bool { return hashPattern.MatchString(h) }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// epoch is the TTL representation: whole seconds, as DynamoDB TTL requires.
// An item is expired once expiresAt <= now, so a sub-second remainder is
// rounded up to never shorten a lifetime to below what the caller asked.
func epoch(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// expired reports whether an item with the given TTL epoch is dead at now.
func expired(expiresAt int64, now time.Time) bool { return expiresAt <= now.Unix() }

// fromEpoch turns a stored TTL back into a time.
func fromEpoch(s int64) time.Time { return time.Unix(s, 0).UTC() }

// getItem is a strongly consistent GetItem; found is false when the item is
// absent.
// getDecoded reads one item and decodes it: a missing item is ErrNotFound,
// and every error is wrapped with op.
func getDecoded[T any](ctx context.Context, s *Store, op string, k map[string]types.AttributeValue, decode func(map[string]types.AttributeValue) (T, error)) (T, error) {
	var zero T
	av, found, err := s.getItem(ctx, k)
	if err != nil {
		return zero, wrap(op, err)
	}
	if !found {
		return zero, wrap(op, ErrNotFound)
	}
	v, err := decode(av)
	if err != nil {
		return zero, wrap(op, err)
	}
	return v, nil
}

func (s *Store) getItem(ctx context.Context, k map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            k,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, err
	}
	if len(out.Item) == 0 {
		return nil, false, nil
	}
	return out.Item, true, nil
}

// isConditionFailed reports a failed ConditionExpression on a single-item
// write.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancellation reports, for a cancelled transaction, the reason code of each
// item ("None", "ConditionalCheckFailed", "TransactionConflict", ...). ok is
// false when err is not a cancelled transaction.
func cancellation(err error) (codes []string, ok bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	codes = make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes, true
}

// reasonAt returns the cancellation code of item i, "" when not reported.
func reasonAt(codes []string, i int) string {
	if i < len(codes) {
		return codes[i]
	}
	return ""
}

const codeConditionFailed = "ConditionalCheckFailed"

// wrap gives every error the store's prefix and the operation.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
