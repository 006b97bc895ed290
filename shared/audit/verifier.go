package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BreakKind says how a chain is broken.
type BreakKind string

// Ways a chain can be broken.
const (
	// BreakHashMismatch: the entry's content or hash was changed.
	BreakHashMismatch BreakKind = "hash_mismatch"
	// BreakPrevMismatch: the entry does not link to its predecessor (an
	// entry before it was removed or replaced, or it was forged).
	BreakPrevMismatch BreakKind = "prev_mismatch"
	// BreakGap: the expected seq is missing (an entry was deleted).
	BreakGap BreakKind = "gap"
	// BreakMalformed: the item does not have the documented layout.
	BreakMalformed BreakKind = "malformed"
)

// Break is the first broken link found in a shard.
type Break struct {
	// Seq is the sequence number at which the chain stops verifying: the
	// tampered entry, or for a gap the missing seq.
	Seq    uint64
	Kind   BreakKind
	Detail string
}

// ShardReport is the result for one shard.
type ShardReport struct {
	Shard int
	// Verified counts the entries that verified, up to the first break.
	Verified int
	// HeadSeq and HeadHash identify the last verified entry (0 and "" for
	// an empty shard); compare them with an external copy to detect
	// truncation.
	HeadSeq  uint64
	HeadHash string
	// Break is the first broken link, nil when the shard verifies.
	Break *Break
}

// Report is the result of Verify, one ShardReport per shard in order.
type Report struct {
	Shards []ShardReport
}

// OK reports whether every shard verified.
func (r Report) OK() bool {
	for _, s := range r.Shards {
		if s.Break != nil {
			return false
		}
	}
	return true
}

// Verified is the number of verified entries across all shards.
func (r Report) Verified() int {
	n := 0
	for _, s := range r.Shards {
		n += s.Verified
	}
	return n
}

// Verifier recomputes the audit chains.
type Verifier struct {
	db  QueryAPI
	cfg Config
}

// NewVerifier returns a Verifier for the audit table in cfg; cfg.Shards must
// be the largest shard count writers ever used.
func NewVerifier(db QueryAPI, cfg Config) (*Verifier, error) {
	if db == nil {
		return nil, errors.New("audit: nil DynamoDB client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Verifier{db: db, cfg: cfg}, nil
}

// Verify walks every shard in seq order and recomputes its chain. A broken
// chain is reported in the Report, not as an error; the error is for failing
// to read.
func (v *Verifier) Verify(ctx context.Context) (Report, error) {
	rep := Report{Shards: make([]ShardReport, 0, v.cfg.Shards)}
	for shard := range v.cfg.Shards {
		sr, err := v.verifyShard(ctx, shard)
		if err != nil {
			return rep, err
		}
		rep.Shards = append(rep.Shards, sr)
	}
	return rep, nil
}

func (v *Verifier) verifyShard(ctx context.Context, shard int) (ShardReport, error) {
	sr := ShardReport{Shard: shard}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(v.cfg.Table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: shardPK(shard)}},
		ScanIndexForward:          aws.Bool(true),
		ConsistentRead:            aws.Bool(true),
	}
	if v.cfg.PageSize > 0 {
		in.Limit = aws.Int32(v.cfg.PageSize)
	}
	prev := genesis(shard)
	want := uint64(1)
	pages := dynamodb.NewQueryPaginator(v.db, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return sr, fmt.Errorf("verify %s: %w", shardPK(shard), err)
		}
		for _, item := range page.Items {
			if b := checkLink(item, shard, want, prev); b != nil {
				sr.Break = b
				return sr, nil
			}
			h := item[attrHash].(*types.AttributeValueMemberS).Value
			prev, _ = hex.DecodeString(h)
			sr.Verified++
			sr.HeadSeq, sr.HeadHash = want, h
			want++
		}
	}
	return sr, nil
}

// checkLink verifies one item as the successor of prev at seq want.
func checkLink(item map[string]types.AttributeValue, shard int, want uint64, prev []byte) *Break {
	r, err := parseItem(item)
	if err != nil {
		seq := want
		if sk, ok := item[attrSK].(*types.AttributeValueMemberS); ok {
			if n, ok := parseSK(sk.Value); ok {
				seq = n
			}
		}
		return &Break{Seq: seq, Kind: BreakMalformed, Detail: err.Error()}
	}
	if r.shard != shard {
		return &Break{Seq: r.seq, Kind: BreakMalformed, Detail: fmt.Sprintf("item of shard %d in shard %d", r.shard, shard)}
	}
	if r.seq != want {
		return &Break{Seq: want, Kind: BreakGap, Detail: fmt.Sprintf("seq %d missing, next entry is seq %d", want, r.seq)}
	}
	if r.prevHash != hex.EncodeToString(prev) {
		return &Break{Seq: r.seq, Kind: BreakPrevMismatch, Detail: "prevHash does not match the previous entry's hash"}
	}
	got, err := chainHash(prev, r.c, r.seq)
	if err != nil {
		return &Break{Seq: r.seq, Kind: BreakMalformed, Detail: err.Error()}
	}
	if got != r.hash {
		return &Break{Seq: r.seq, Kind: BreakHashMismatch, Detail: "stored hash does not match the recomputed hash"}
	}
	return nil
}
