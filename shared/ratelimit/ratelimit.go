// Package ratelimit counts failures (login attempts, abusive calls) per scope
// and key in the main table, with fixed windows, atomic counters, a growing
// back-off once a limit is reached, and no permanent lockout: every counter
// expires with its window.
//
// # Semantics
//
// A Policy allows Limit failures per Window. The Limit-th failure throttles
// the key for BaseBackoff; each further failure in the window doubles that
// (1s, 2s, 4s, ...) up to MaxBackoff, measured from the latest failure. A
// throttle imposed near the end of a window is honoured into the next one, so
// the window boundary is not a free reset; after the window plus MaxBackoff
// everything is forgotten. Callers Check before an attempt (read only), Fail
// after a failed one (atomic increment), and may Reset after a success where
// the policy allows it.
//
// Reset is meant for the per-account scope: a user who mistyped and then
// signed in should not be slowed next time, and succeeding requires the
// password anyway. The per-IP scope must not be resettable, or an attacker
// holding one valid account could launder an IP's counter with successful
// logins in between guesses (DefaultLoginPolicies encodes this).
//
// # Item layout (main table)
//
//	PK         S  "RATE#<scope>#<32 hex>"   hex of the first 16 bytes of
//	                                         SHA-256(scope 0x00 key), or of
//	                                         HMAC-SHA-256 when Config.HashKey is
//	                                         set; emails and IPs are never stored
//	SK         S  "W#<window start, unix seconds, 12 digits>"
//	count      N  failures in the window (ADD, atomic)
//	lastAt     N  unix milliseconds of the latest failure
//	expiresAt  N  unix seconds: window end + MaxBackoff (the table's TTL
//	              attribute)
//
// TTL deletion is lazy (and absent in minidyn), so every read ignores items
// whose expiresAt has passed.
//
// Without HashKey the key hash is pseudonymisation only: IPv4 addresses and
// guessable emails can be recovered by brute force. Supply a secret HashKey
// where that matters.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Scopes of the login flow.
const (
	ScopeLoginAccount = "login-account"
	ScopeLoginIP      = "login-ip"
)

// DefaultLoginPolicies are the login limits: 5 failures per account and 50
// per source IP in 15 minutes, then 1s, 2s, 4s, ... capped at 15 minutes.
// Only the account scope is resettable (see the package documentation).
func DefaultLoginPolicies() map[string]Policy {
	return map[string]Policy{
		ScopeLoginAccount: {Limit: 5, Window: 15 * time.Minute, BaseBackoff: time.Second, MaxBackoff: 15 * time.Minute, Resettable: true},
		ScopeLoginIP:      {Limit: 50, Window: 15 * time.Minute, BaseBackoff: time.Second, MaxBackoff: 15 * time.Minute},
	}
}

// API is the DynamoDB subset the Limiter uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Policy is the limit of one scope.
type Policy struct {
	// Limit is the number of failures per window that triggers throttling.
	Limit int
	// Window is the counting window, a whole number of seconds.
	Window time.Duration
	// BaseBackoff is the throttle after the Limit-th failure (1s when 0).
	BaseBackoff time.Duration
	// MaxBackoff caps the doubling back-off (Window when 0).
	MaxBackoff time.Duration
	// Resettable allows Reset for this scope.
	Resettable bool
}

// Decision is the outcome of Check or Fail.
type Decision struct {
	// Allowed is false while the key is throttled.
	Allowed bool
	// RetryAfter is how long the caller must wait; 0 when allowed.
	RetryAfter time.Duration
	// Count is the number of failures in the current window.
	Count int
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, for a
// Retry-After header.
func (d Decision) RetryAfterSeconds() int {
	return int((d.RetryAfter + time.Second - 1) / time.Second)
}

// Config configures a Limiter.
type Config struct {
	// Table is the main table's name.
	Table string
	// Policies maps scope names (lower-case letters, digits, "-") to their
	// policy; other scopes are refused with ErrUnknownScope.
	Policies map[string]Policy
	// Clock is the time source (time.Now when nil); tests move it.
	Clock func() time.Time
	// HashKey, when set, keys the hash of rate-limited keys (HMAC-SHA-256).
	HashKey []byte
}

// Errors returned (wrapped) by the Limiter.
var (
	ErrUnknownScope  = errors.New("unknown rate-limit scope")
	ErrNotResettable = errors.New("rate-limit scope is not resettable")
	ErrEmptyKey      = errors.New("empty rate-limit key")
)

// Item attribute names.
const (
	attrPK      = "PK"
	attrSK      = "SK"
	attrCount   = "count"
	attrLastAt  = "lastAt"
	attrExpires = "expiresAt"
)

var scopePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Limiter enforces per-scope policies. It is safe for concurrent use; the
// counters live in DynamoDB so all function instances share them.
type Limiter struct {
	db       API
	table    string
	policies map[string]Policy
	clock    func() time.Time
	hashKey  []byte
}

// New returns a Limiter, validating every policy.
func New(db API, cfg Config) (*Limiter, error) {
	if db == nil {
		return nil, errors.New("ratelimit: nil DynamoDB client")
	}
	if cfg.Table == "" {
		return nil, errors.New("ratelimit: table name is required")
	}
	if len(cfg.Policies) == 0 {
		return nil, errors.New("ratelimit: no policies")
	}
	l := &Limiter{db: db, table: cfg.Table, policies: make(map[string]Policy, len(cfg.Policies)), clock: cfg.Clock, hashKey: append([]byte(nil), cfg.HashKey...)}
	if l.clock == nil {
		l.clock = time.Now
	}
	for scope, p := range cfg.Policies {
		if !scopePattern.MatchString(scope) {
			return nil, fmt.Errorf("ratelimit: scope %q must match %s", scope, scopePattern)
		}
		if p.Limit < 1 {
			return nil, fmt.Errorf("ratelimit: scope %s: limit %d, want >= 1", scope, p.Limit)
		}
		if p.Window < time.Second || p.Window%time.Second != 0 {
			return nil, fmt.Errorf("ratelimit: scope %s: window %s, want a whole number of seconds", scope, p.Window)
		}
		if p.BaseBackoff == 0 {
			p.BaseBackoff = time.Second
		}
		if p.MaxBackoff == 0 {
			p.MaxBackoff = p.Window
		}
		if p.BaseBackoff < 0 || p.MaxBackoff < p.BaseBackoff {
			return nil, fmt.Errorf("ratelimit: scope %s: back-off %s..%s is not a positive range", scope, p.BaseBackoff, p.MaxBackoff)
		}
		l.policies[scope] = p
	}
	return l, nil
}

// Check reports whether key may attempt now, without counting anything.
func (l *Limiter) Check(ctx context.Context, scope, key string) (Decision, error) {
	p, pk, err := l.prepare(scope, key)
	if err != nil {
		return Decision{}, err
	}
	now := l.clock()
	cur := windowStart(now, p.Window)
	prev := cur - int64(p.Window/time.Second)
	out, err := l.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(l.table),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#sk": attrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: windowSK(prev)},
			":to":   &types.AttributeValueMemberS{Value: windowSK(cur)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Decision{}, fmt.Errorf("check rate limit %s: %w", scope, err)
	}
	d := Decision{Allowed: true}
	for _, item := range out.Items {
		c, ok := parseCounter(item)
		if !ok || c.expiresAt <= now.Unix() {
			continue
		}
		if c.sk == windowSK(cur) {
			d.Count = c.count
		}
		// A throttle from the previous window still counts until it ends.
		if until := c.throttledUntil(p); until.After(now) {
			d.Allowed = false
			d.RetryAfter = max(d.RetryAfter, until.Sub(now))
		}
	}
	return d, nil
}

// Fail counts one failure for key and returns the resulting decision: whether
// the key is now throttled and for how long. It looks at the current window
// only; Check, called before each attempt, also honours a throttle carried
// over from the previous window.
func (l *Limiter) Fail(ctx context.Context, scope, key string) (Decision, error) {
	p, pk, err := l.prepare(scope, key)
	if err != nil {
		return Decision{}, err
	}
	now := l.clock()
	cur := windowStart(now, p.Window)
	expires := time.Unix(cur, 0).Add(p.Window + p.MaxBackoff + time.Second - 1).Unix()
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk},
			attrSK: &types.AttributeValueMemberS{Value: windowSK(cur)},
		},
		UpdateExpression: aws.String("ADD #c :one SET #exp = if_not_exists(#exp, :exp), #last = :now"),
		ExpressionAttributeNames: map[string]string{
			"#c": attrCount, "#exp": attrExpires, "#last": attrLastAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires, 10)},
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return Decision{}, fmt.Errorf("count rate-limit failure %s: %w", scope, err)
	}
	n, ok := out.Attributes[attrCount].(*types.AttributeValueMemberN)
	if !ok {
		return Decision{}, fmt.Errorf("count rate-limit failure %s: no count returned", scope)
	}
	count, err := strconv.Atoi(n.Value)
	if err != nil {
		return Decision{}, fmt.Errorf("count rate-limit failure %s: count %q: %w", scope, n.Value, err)
	}
	d := Decision{Allowed: true, Count: count}
	if count >= p.Limit {
		d.Allowed, d.RetryAfter = false, backoff(p, count)
	}
	return d, nil
}

// Reset forgets key's failures in the current and previous windows. It
// returns ErrNotResettable for a scope whose policy does not allow it.
func (l *Limiter) Reset(ctx context.Context, scope, key string) error {
	p, pk, err := l.prepare(scope, key)
	if err != nil {
		return err
	}
	if !p.Resettable {
		return fmt.Errorf("reset %s: %w", scope, ErrNotResettable)
	}
	cur := windowStart(l.clock(), p.Window)
	for _, ws := range []int64{cur, cur - int64(p.Window/time.Second)} {
		_, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(l.table),
			Key: map[string]types.AttributeValue{
				attrPK: &types.AttributeValueMemberS{Value: pk},
				attrSK: &types.AttributeValueMemberS{Value: windowSK(ws)},
			},
		})
		if err != nil {
			return fmt.Errorf("reset rate limit %s: %w", scope, err)
		}
	}
	return nil
}

func (l *Limiter) prepare(scope, key string) (Policy, string, error) {
	p, ok := l.policies[scope]
	if !ok {
		return p, "", fmt.Errorf("%w: %q", ErrUnknownScope, scope)
	}
	if key == "" {
		return p, "", fmt.Errorf("scope %s: %w", scope, ErrEmptyKey)
	}
	return p, l.PartitionKey(scope, key), nil
}

// PartitionKey returns the PK under which a scope's key is counted, so tests
// and operators can find or clear a counter without storing the key itself.
func (l *Limiter) PartitionKey(scope, key string) string {
	msg := scope + "\x00" + key
	var sum []byte
	if len(l.hashKey) > 0 {
		mac := hmac.New(sha256.New, l.hashKey)
		mac.Write([]byte(msg))
		sum = mac.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(msg))
		sum = s[:]
	}
	return "RATE#" + scope + "#" + hex.EncodeToString(sum[:16])
}

func windowStart(now time.Time, window time.Duration) int64 {
	w := int64(window / time.Second)
	s := now.Unix()
	return s - ((s%w)+w)%w
}

func windowSK(start int64) string { return fmt.Sprintf("W#%012d", start) }

// backoff is BaseBackoff doubled for every failure past the Limit-th,
// capped at MaxBackoff.
func backoff(p Policy, count int) time.Duration {
	over := count - p.Limit
	if over < 0 {
		return 0
	}
	if over >= 62 {
		return p.MaxBackoff
	}
	d := p.BaseBackoff
	for range over {
		d *= 2
		if d >= p.MaxBackoff {
			return p.MaxBackoff
		}
	}
	return min(d, p.MaxBackoff)
}

type counter struct {
	sk        string
	count     int
	lastAt    time.Time
	expiresAt int64
}

func parseCounter(item map[string]types.AttributeValue) (counter, bool) {
	var c counter
	sk, ok := item[attrSK].(*types.AttributeValueMemberS)
	if !ok || !strings.HasPrefix(sk.Value, "W#") {
		return c, false
	}
	c.sk = sk.Value
	n, err := intAttr(item, attrCount)
	if err != nil || n < 0 || n > 1<<31 {
		return c, false
	}
	c.count = int(n)
	ms, err := intAttr(item, attrLastAt)
	if err != nil {
		return c, false
	}
	c.lastAt = time.UnixMilli(ms)
	if c.expiresAt, err = intAttr(item, attrExpires); err != nil {
		return c, false
	}
	return c, true
}

func intAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s missing", name)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// throttledUntil is when the back-off earned by this window's count ends.
func (c counter) throttledUntil(p Policy) time.Time {
	if c.count < p.Limit {
		return time.Time{}
	}
	return c.lastAt.Add(backoff(p, c.count))
}

func (l *Limiter) tableName() *string { return aws.String(l.table) }
