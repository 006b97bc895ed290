package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/ratelimit"
)

const templatePath = "../../template.yaml"

// windowStart is a multiple of the 60 s test window; tests start 10 s in.
var windowStart = time.Unix(1_800_000_000, 0)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	scopeAccount = "account"
	scopeIP      = "ip"
)

var testPolicies = map[string]ratelimit.Policy{
	scopeAccount: {Limit: 3, Window: time.Minute, BaseBackoff: time.Second, MaxBackoff: 8 * time.Second, Resettable: true},
	scopeIP:      {Limit: 10, Window: time.Minute, MaxBackoff: 30 * time.Second},
}

type env struct {
	db    *dynamodb.Client
	table string
	clock *clock
	lim   *ratelimit.Limiter
}

func newEnv(t *testing.T, start time.Time) *env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, templatePath, "MainTable")
	c := &clock{now: start}
	lim, err := ratelimit.New(db, ratelimit.Config{Table: table, Policies: testPolicies, Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, table: table, clock: c, lim: lim}
}

type step struct {
	advance time.Duration
	op      string // "check", "fail", "reset"
	want    ratelimit.Decision
}

func allowed(n int) ratelimit.Decision { return ratelimit.Decision{Allowed: true, Count: n} }

func throttled(n int, after time.Duration) ratelimit.Decision {
	return ratelimit.Decision{Allowed: false, Count: n, RetryAfter: after}
}

func TestLimiter(t *testing.T) {
	tests := []struct {
		name  string
		start time.Time
		steps []step
	}{
		{
			name:  "under limit allowed",
			start: windowStart.Add(10 * time.Second),
			steps: []step{
				{op: "check", want: allowed(0)},
				{op: "fail", want: allowed(1)},
				{op: "fail", want: allowed(2)},
				{op: "check", want: allowed(2)},
			},
		},
		{
			name:  "at limit throttled until retry-after passes",
			start: windowStart.Add(10 * time.Second),
			steps: []step{
				{op: "fail", want: allowed(1)},
				{op: "fail", want: allowed(2)},
				{op: "fail", want: throttled(3, time.Second)},
				{op: "check", want: throttled(3, time.Second)},
				{advance: 400 * time.Millisecond, op: "check", want: throttled(3, 600*time.Millisecond)},
				{advance: 600 * time.Millisecond, op: "check", want: allowed(3)},
			},
		},
		{
			name:  "back-off doubles and caps",
			start: windowStart.Add(10 * time.Second),
			steps: []step{
				{op: "fail", want: allowed(1)},
				{op: "fail", want: allowed(2)},
				{op: "fail", want: throttled(3, 1*time.Second)},
				{advance: time.Second, op: "fail", want: throttled(4, 2*time.Second)},
				{advance: 2 * time.Second, op: "fail", want: throttled(5, 4*time.Second)},
				{advance: 4 * time.Second, op: "fail", want: throttled(6, 8*time.Second)},
				{advance: 8 * time.Second, op: "fail", want: throttled(7, 8*time.Second)},
				{op: "fail", want: throttled(8, 8*time.Second)},
				{advance: 3 * time.Second, op: "check", want: throttled(8, 5*time.Second)},
				// Never a permanent lockout.
				{advance: 2 * time.Minute, op: "check", want: allowed(0)},
			},
		},
		{
			name:  "window expiry restores access",
			start: windowStart.Add(50 * time.Second),
			steps: []step{
				{op: "fail", want: allowed(1)},
				{op: "fail", want: allowed(2)},
				{op: "fail", want: throttled(3, time.Second)},
				// New window: the old count no longer counts and its short
				// throttle is over.
				{advance: 11 * time.Second, op: "check", want: allowed(0)},
				{op: "fail", want: allowed(1)},
			},
		},
		{
			name:  "throttle survives the window boundary, then expires",
			start: windowStart.Add(58 * time.Second),
			steps: []step{
				{op: "fail", want: allowed(1)},
				{op: "fail", want: allowed(2)},
				{op: "fail", want: throttled(3, 1*time.Second)},
				{op: "fail", want: throttled(4, 2*time.Second)},
				{op: "fail", want: throttled(5, 4*time.Second)},
				// 3 s later the window has rolled over, the throttle has not.
				{advance: 3 * time.Second, op: "check", want: throttled(0, time.Second)},
				{advance: time.Second, op: "check", want: allowed(0)},
			},
		},
		{
			name:  "reset clears a resettable scope",
			start: windowStart.Add(10 * time.Second),
			steps: []step{
				{op: "fail", want: allowed(1)},
				{op: "fail", want: allowed(2)},
				{op: "fail", want: throttled(3, time.Second)},
				{op: "reset"},
				{op: "check", want: allowed(0)},
				{op: "fail", want: allowed(1)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.start)
			ctx := context.Background()
			for i, s := range tt.steps {
				e.clock.Advance(s.advance)
				var got ratelimit.Decision
				var err error
				switch s.op {
				case "check":
					got, err = e.lim.Check(ctx, scopeAccount, "alice@example.com")
				case "fail":
					got, err = e.lim.Fail(ctx, scopeAccount, "alice@example.com")
				case "reset":
					err = e.lim.Reset(ctx, scopeAccount, "alice@example.com")
				default:
					t.Fatalf("bad op %q", s.op)
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, s.op, err)
				}
				if got != s.want {
					t.Fatalf("step %d %s at +%s: got %+v, want %+v", i, s.op, e.clock.Now().Sub(tt.start), got, s.want)
				}
			}
		})
	}
}

func TestDistinctKeysAndScopesAreIndependent(t *testing.T) {
	e := newEnv(t, windowStart.Add(10*time.Second))
	ctx := context.Background()
	for range 3 {
		if _, err := e.lim.Fail(ctx, scopeAccount, "alice@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		scope, key string
		want       ratelimit.Decision
	}{
		{name: "the failing key", scope: scopeAccount, key: "alice@example.com", want: throttled(3, time.Second)},
		{name: "another key", scope: scopeAccount, key: "bob@example.com", want: allowed(0)},
		{name: "same key, other scope", scope: scopeIP, key: "alice@example.com", want: allowed(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.lim.Check(ctx, tt.scope, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConcurrentFailuresCountedExactly(t *testing.T) {
	const n = 100
	e := newEnv(t, windowStart.Add(10*time.Second))
	ctx := context.Background()
	counts := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			d, err := e.lim.Fail(ctx, scopeIP, "198.51.100.7")
			if err != nil {
				t.Error(err)
				return
			}
			counts <- d.Count
		})
	}
	wg.Wait()
	close(counts)
	var got []int
	for c := range counts {
		got = append(got, c)
	}
	slices.Sort(got)
	for i, c := range got {
		if c != i+1 {
			t.Fatalf("returned counts %v are not 1..%d", got, n)
		}
	}
	d, err := e.lim.Check(ctx, scopeIP, "198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	if d.Count != n || d.Allowed {
		t.Fatalf("check %+v, want count %d and throttled", d, n)
	}
}

func TestExpiredItemsAreIgnored(t *testing.T) {
	// minidyn never applies TTL, and real DynamoDB deletes lazily: an item
	// past expiresAt must not count even though it is still there.
	start := windowStart.Add(10 * time.Second)
	e := newEnv(t, start)
	_, err := e.db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(e.table),
		Item: map[string]types.AttributeValue{
			"PK":        &types.AttributeValueMemberS{Value: e.lim.PartitionKey(scopeAccount, "alice@example.com")},
			"SK":        &types.AttributeValueMemberS{Value: fmt.Sprintf("W#%012d", windowStart.Unix())},
			"count":     &types.AttributeValueMemberN{Value: "99"},
			"lastAt":    &types.AttributeValueMemberN{Value: fmt.Sprint(start.UnixMilli())},
			"expiresAt": &types.AttributeValueMemberN{Value: fmt.Sprint(start.Unix() - 1)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.lim.Check(context.Background(), scopeAccount, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if d != allowed(0) {
		t.Fatalf("check %+v, want the expired counter ignored", d)
	}
}

func TestItemLayoutKeepsKeysPrivate(t *testing.T) {
	start := windowStart.Add(10 * time.Second)
	e := newEnv(t, start)
	ctx := context.Background()
	const email = "Alice@Example.com"
	if _, err := e.lim.Fail(ctx, scopeAccount, email); err != nil {
		t.Fatal(err)
	}
	out, err := e.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items, want 1", len(out.Items))
	}
	item := out.Items[0]
	pk := item["PK"].(*types.AttributeValueMemberS).Value
	if !regexp.MustCompile(`^RATE#account#[0-9a-f]{32}$`).MatchString(pk) {
		t.Errorf("PK %q", pk)
	}
	if pk != e.lim.PartitionKey(scopeAccount, email) {
		t.Errorf("PK %q differs from PartitionKey", pk)
	}
	if got, want := item["SK"].(*types.AttributeValueMemberS).Value, fmt.Sprintf("W#%012d", windowStart.Unix()); got != want {
		t.Errorf("SK %q, want %q", got, want)
	}
	wantN := map[string]string{
		"count":     "1",
		"lastAt":    fmt.Sprint(start.UnixMilli()),
		"expiresAt": fmt.Sprint(windowStart.Add(time.Minute + 8*time.Second).Unix()),
	}
	for attr, want := range wantN {
		n, ok := item[attr].(*types.AttributeValueMemberN)
		if !ok || n.Value != want {
			t.Errorf("%s = %v, want %s", attr, item[attr], want)
		}
	}
	if len(item) != 5 {
		t.Errorf("item has %d attributes, want 5: %v", len(item), item)
	}
	for attr, v := range item {
		if s, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(strings.ToLower(s.Value), "alice") {
			t.Errorf("attribute %s holds the key in clear: %q", attr, s.Value)
		}
	}

	keyed, err := ratelimit.New(e.db, ratelimit.Config{Table: e.table, Policies: testPolicies, HashKey: []byte("pepper")})
	if err != nil {
		t.Fatal(err)
	}
	if keyed.PartitionKey(scopeAccount, email) == pk {
		t.Error("HashKey does not change the partition key")
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, windowStart)
	ctx := context.Background()
	if _, err := e.lim.Check(ctx, "nope", "k"); !errors.Is(err, ratelimit.ErrUnknownScope) {
		t.Errorf("check unknown scope: %v", err)
	}
	if _, err := e.lim.Fail(ctx, "nope", "k"); !errors.Is(err, ratelimit.ErrUnknownScope) {
		t.Errorf("fail unknown scope: %v", err)
	}
	if _, err := e.lim.Fail(ctx, scopeIP, ""); !errors.Is(err, ratelimit.ErrEmptyKey) {
		t.Errorf("fail empty key: %v", err)
	}
	if err := e.lim.Reset(ctx, scopeIP, "198.51.100.7"); !errors.Is(err, ratelimit.ErrNotResettable) {
		t.Errorf("reset ip scope: %v", err)
	}
}

func TestNewValidatesPolicies(t *testing.T) {
	db := dyntest.New(t)
	tests := []struct {
		name string
		cfg  ratelimit.Config
	}{
		{name: "no table", cfg: ratelimit.Config{Policies: testPolicies}},
		{name: "no policies", cfg: ratelimit.Config{Table: "t"}},
		{name: "bad scope name", cfg: ratelimit.Config{Table: "t", Policies: map[string]ratelimit.Policy{"Login#IP": {Limit: 1, Window: time.Minute}}}},
		{name: "zero limit", cfg: ratelimit.Config{Table: "t", Policies: map[string]ratelimit.Policy{"a": {Window: time.Minute}}}},
		{name: "sub-second window", cfg: ratelimit.Config{Table: "t", Policies: map[string]ratelimit.Policy{"a": {Limit: 1, Window: 1500 * time.Millisecond}}}},
		{name: "max below base", cfg: ratelimit.Config{Table: "t", Policies: map[string]ratelimit.Policy{"a": {Limit: 1, Window: time.Minute, BaseBackoff: time.Minute, MaxBackoff: time.Second}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ratelimit.New(db, tt.cfg); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
	if _, err := ratelimit.New(db, ratelimit.Config{Table: "t", Policies: ratelimit.DefaultLoginPolicies()}); err != nil {
		t.Fatalf("default policies: %v", err)
	}
}

func TestDefaultLoginPolicies(t *testing.T) {
	p := ratelimit.DefaultLoginPolicies()
	acct, ip := p[ratelimit.ScopeLoginAccount], p[ratelimit.ScopeLoginIP]
	if acct.Limit != 5 || acct.Window != 15*time.Minute || acct.MaxBackoff != 15*time.Minute || !acct.Resettable {
		t.Errorf("account policy %+v", acct)
	}
	if ip.Limit <= acct.Limit || ip.Resettable {
		t.Errorf("ip policy %+v must allow more than the account policy and not be resettable", ip)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{{0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := (ratelimit.Decision{RetryAfter: tt.d}).RetryAfterSeconds(); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}
