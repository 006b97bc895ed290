package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// QueryAPI is the one DynamoDB call the Verifier needs.
type QueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// WriterAPI is every DynamoDB call the Writer makes: a read of the shard head
// and a conditional put. It has no update or delete by design.
type WriterAPI interface {
	QueryAPI
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Defaults for Config.
const (
	DefaultShards      = 4
	DefaultMaxAttempts = 16
)

// Backoff between attempts that lost a race for the same seq: full jitter
// over an exponentially growing window.
const (
	retryBase = 2 * time.Millisecond
	retryCap  = 100 * time.Millisecond
)

// ErrContention is returned (wrapped) when Append lost the race for a seq on
// every attempt.
var ErrContention = errors.New("audit chain contention")

// Config configures a Writer or a Verifier.
type Config struct {
	// Table is the audit table's name.
	Table string
	// Shards is the number of chains (DefaultShards when 0). It may grow
	// over time, never shrink.
	Shards int
	// MaxAttempts bounds Append's head-read/put rounds (DefaultMaxAttempts
	// when 0).
	MaxAttempts int
	// PageSize is the Verifier's Query page size (0: DynamoDB's 1 MB pages).
	PageSize int32
	// Clock supplies the time of entries without one (time.Now when nil).
	Clock func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Table == "" {
		return c, errors.New("audit: table name is required")
	}
	if c.Shards == 0 {
		c.Shards = DefaultShards
	}
	if c.Shards < 1 || c.Shards > 1000 {
		return c, fmt.Errorf("audit: %d shards, want 1..1000", c.Shards)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxAttempts < 1 {
		return c, fmt.Errorf("audit: max attempts %d, want >= 1", c.MaxAttempts)
	}
	if c.PageSize < 0 {
		return c, fmt.Errorf("audit: page size %d, want >= 0", c.PageSize)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c, nil
}

// Writer appends entries to the audit chains. It is safe for concurrent use,
// also across processes: the conditional put arbitrates.
type Writer struct {
	db  WriterAPI
	cfg Config

	// A warm writer remembers the head it last wrote on its home shard, so
	// the next append is one PutItem instead of a Query and a PutItem. The
	// conditional put keeps this safe: if another writer moved the shard on,
	// the put fails and the writer falls back to reading the head.
	mu     sync.Mutex
	home   int
	cached *shardHead
}

// shardHead is a shard's newest entry as this writer last saw it.
type shardHead struct {
	shard int
	seq   uint64
	hash  []byte
}

var _ Auditor = (*Writer)(nil)

// NewWriter returns a Writer for the audit table in cfg.
func NewWriter(db WriterAPI, cfg Config) (*Writer, error) {
	if db == nil {
		return nil, errors.New("audit: nil DynamoDB client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Writer{db: db, cfg: cfg, home: rand.IntN(cfg.Shards)}, nil
}

// Append validates e and adds it to one shard's chain. It returns
// ErrInvalidEntry for an entry Validate refuses and ErrContention when every
// attempt lost the race for the next seq.
func (w *Writer) Append(ctx context.Context, e Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	c := canonicalOf(e.normalized(w.cfg.Clock()))
	w.mu.Lock()
	shard, cached := w.home, w.cached
	w.mu.Unlock()
	var lastErr error
	for attempt := range w.cfg.MaxAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("append audit entry: %w", err)
			}
		}
		var seq uint64
		var prev []byte
		var err error
		if cached != nil && cached.shard == shard {
			seq, prev = cached.seq, cached.hash
		} else {
			seq, prev, err = w.head(ctx, shard)
		}
		cached = nil
		if errors.Is(err, errCorruptHead) {
			// Keep auditing on the other shards; the Verifier reports the
			// damaged one.
			lastErr = err
			shard = (shard + 1) % w.cfg.Shards
			continue
		}
		if err != nil {
			return fmt.Errorf("append audit entry: %w", err)
		}
		r := record{shard: shard, seq: seq + 1, prevHash: hex.EncodeToString(prev), c: c}
		if r.hash, err = chainHash(prev, c, r.seq); err != nil {
			return fmt.Errorf("append audit entry: %w", err)
		}
		_, err = w.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(w.cfg.Table),
			Item:                r.item(),
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		})
		if err == nil {
			if h, decErr := hex.DecodeString(r.hash); decErr == nil {
				w.mu.Lock()
				w.home, w.cached = shard, &shardHead{shard: shard, seq: r.seq, hash: h}
				w.mu.Unlock()
			}
			return nil
		}
		w.mu.Lock()
		w.cached = nil
		w.mu.Unlock()
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return fmt.Errorf("append audit entry: put %s seq %d: %w", shardPK(shard), r.seq, err)
		}
		// Another writer took this seq. Moving to a random shard spreads a
		// burst of writers instead of having them all queue on one chain.
		lastErr = ErrContention
		shard = rand.IntN(w.cfg.Shards)
	}
	if errors.Is(lastErr, errCorruptHead) {
		return fmt.Errorf("append audit entry: %w", lastErr)
	}
	return fmt.Errorf("append audit entry: %w after %d attempts", ErrContention, w.cfg.MaxAttempts)
}

var errCorruptHead = errors.New("audit shard head is corrupt")

// head returns the newest seq of a shard and its hash (0 and the genesis
// value for an empty shard), read consistently so a just-written head is seen.
func (w *Writer) head(ctx context.Context, shard int) (uint64, []byte, error) {
	out, err := w.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(w.cfg.Table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK, "#h": attrHash},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: shardPK(shard)}},
		ProjectionExpression:      aws.String("#sk, #h"),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read head of %s: %w", shardPK(shard), err)
	}
	if len(out.Items) == 0 {
		return 0, genesis(shard), nil
	}
	item := out.Items[0]
	sk, _ := item[attrSK].(*types.AttributeValueMemberS)
	h, _ := item[attrHash].(*types.AttributeValueMemberS)
	if sk == nil || h == nil {
		return 0, nil, fmt.Errorf("%w: %s", errCorruptHead, shardPK(shard))
	}
	seq, ok := parseSK(sk.Value)
	prev, err := hex.DecodeString(h.Value)
	if !ok || err != nil || len(prev) != 32 || strings.ToLower(h.Value) != h.Value {
		return 0, nil, fmt.Errorf("%w: %s", errCorruptHead, shardPK(shard))
	}
	return seq, prev, nil
}

func backoff(attempt int) time.Duration {
	window := retryCap
	if attempt < 16 {
		window = min(retryBase<<attempt, retryCap)
	}
	return rand.N(window) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
