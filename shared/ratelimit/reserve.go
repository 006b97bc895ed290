package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reservation is one attempt's place in a counter, taken by Reserve before
// the expensive work (argon2id, a TOTP check) and settled after it: Failed
// keeps it as a failure, Succeeded gives it back.
//
// Why: Check reads and Fail counts, so every attempt that starts before the
// first failure is counted passes Check — a concurrent burst of guesses
// would all be verified. Reserve counts atomically first, so concurrent
// attempts each see a distinct count and at most Limit are let through.
type Reservation struct {
	l      *Limiter
	scope  string
	pk, sk string
	window time.Duration
	done   bool
	mu     sync.Mutex
}

// Reserve takes a place for one attempt and says whether the attempt may
// proceed. The decision is the one Check would give counting every attempt
// already in flight: under the limit, or past it only once the back-off
// since the last confirmed failure has elapsed. A refused attempt's place
// is given back at once (throttled attempts are not counted) and the
// returned Reservation is nil.
func (l *Limiter) Reserve(ctx context.Context, scope, key string) (Decision, *Reservation, error) {
	p, pk, err := l.prepare(scope, key)
	if err != nil {
		return Decision{}, nil, err
	}
	now := l.clock()
	cur := windowStart(now, p.Window)
	expires := time.Unix(cur, 0).Add(p.Window + p.MaxBackoff + time.Second - 1).Unix()
	r := &Reservation{l: l, scope: scope, pk: pk, sk: windowSK(cur), window: p.Window}

	// The previous window's throttle (read) and this window's reservation
	// (atomic add) are independent: one round trip for both.
	var prev Decision
	var prevErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		prev, prevErr = l.previousWindow(ctx, p, pk, cur, now)
	}()
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                l.tableName(),
		Key:                      r.key(),
		UpdateExpression:         aws.String("ADD #c :one SET #exp = if_not_exists(#exp, :exp)"),
		ExpressionAttributeNames: map[string]string{"#c": attrCount, "#exp": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires, 10)},
		},
		ReturnValues: types.ReturnValueAllOld,
	})
	wg.Wait()
	if err != nil {
		return Decision{}, nil, fmt.Errorf("reserve rate-limit attempt %s: %w", scope, err)
	}
	if prevErr != nil {
		r.release(ctx)
		return Decision{}, nil, prevErr
	}
	old := counter{}
	if len(out.Attributes) > 0 {
		n, _ := intAttr(out.Attributes, attrCount)
		old.count = int(n)
		if ms, err := intAttr(out.Attributes, attrLastAt); err == nil {
			old.lastAt = time.UnixMilli(ms)
		}
		old.expiresAt, _ = intAttr(out.Attributes, attrExpires)
		if old.expiresAt != 0 && old.expiresAt <= now.Unix() {
			old = counter{} // an expired item the TTL has not removed yet
		}
	}
	d := Decision{Allowed: true, Count: old.count + 1}
	if old.count >= p.Limit {
		// Past the limit an attempt needs a confirmed failure whose back-off
		// has run out; places held by attempts still in flight do not count
		// as "run out".
		until := old.lastAt.Add(backoff(p, old.count))
		if old.lastAt.IsZero() || until.After(now) {
			d.Allowed = false
			d.RetryAfter = max(until.Sub(now), p.BaseBackoff)
		}
	}
	if !prev.Allowed {
		d.Allowed = false
		d.RetryAfter = max(d.RetryAfter, prev.RetryAfter)
	}
	if !d.Allowed {
		r.release(ctx)
		return d, nil, nil
	}
	return d, r, nil
}

// Failed keeps the reservation as a failure and records its time, from
// which the back-off runs.
func (r *Reservation) Failed(ctx context.Context) error {
	if !r.settle() {
		return nil
	}
	now := r.l.clock()
	_, err := r.l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                r.l.tableName(),
		Key:                      r.key(),
		UpdateExpression:         aws.String("SET #last = :now"),
		ConditionExpression:      aws.String("attribute_exists(#c)"),
		ExpressionAttributeNames: map[string]string{"#last": attrLastAt, "#c": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("record rate-limit failure %s: %w", r.scope, err)
	}
	return nil
}

// Succeeded gives the reservation back: a successful attempt is not a
// failure.
func (r *Reservation) Succeeded(ctx context.Context) error {
	if !r.settle() {
		return nil
	}
	return r.release(ctx)
}

func (r *Reservation) settle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return false
	}
	r.done = true
	return true
}

// release takes the place back (ADD -1).
func (r *Reservation) release(ctx context.Context) error {
	_, err := r.l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                r.l.tableName(),
		Key:                      r.key(),
		UpdateExpression:         aws.String("ADD #c :minus"),
		ConditionExpression:      aws.String("#c > :zero"),
		ExpressionAttributeNames: map[string]string{"#c": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":minus": &types.AttributeValueMemberN{Value: "-1"},
			":zero":  &types.AttributeValueMemberN{Value: "0"},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("release rate-limit reservation %s: %w", r.scope, err)
	}
	return nil
}

func (r *Reservation) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: r.pk},
		attrSK: &types.AttributeValueMemberS{Value: r.sk},
	}
}

// previousWindow reports a throttle carried over from the previous window.
func (l *Limiter) previousWindow(ctx context.Context, p Policy, pk string, cur int64, now time.Time) (Decision, error) {
	prev := cur - int64(p.Window/time.Second)
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: l.tableName(),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk},
			attrSK: &types.AttributeValueMemberS{Value: windowSK(prev)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Decision{}, fmt.Errorf("check previous rate-limit window: %w", err)
	}
	d := Decision{Allowed: true}
	if len(out.Item) == 0 {
		return d, nil
	}
	if c, ok := parseCounter(out.Item); ok && c.expiresAt > now.Unix() {
		if until := c.throttledUntil(p); until.After(now) {
			d.Allowed, d.RetryAfter = false, until.Sub(now)
		}
	}
	return d, nil
}
