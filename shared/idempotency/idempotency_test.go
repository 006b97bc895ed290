package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/internal/dyntest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	store  *idempotency.Store
	db     *dynamodb.Client
	table  string
	clock  *clock
	caller string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, "../../template.yaml", "MainTable")
	c := &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 500_000_000, time.UTC)}
	s, err := idempotency.New(db, idempotency.Config{Table: table, Clock: c.Now, MaxResponseBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: s, db: db, table: table, clock: c, caller: "usr_caller"}
}

const scope = "programs-create"

var (
	hashA = idempotency.RequestHash("POST", "/programs", []byte(`{"title":"A"}`))
	hashB = idempotency.RequestHash("POST", "/programs", []byte(`{"title":"B"}`))
	resp  = idempotency.Response{
		StatusCode: 201,
		Headers:    map[string]string{"Content-Type": "application/json", "Location": "/programs/prg_1"},
		Body:       []byte(`{"id":"prg_1"}`),
	}
)

func (f *fixture) begin(t *testing.T, key string, hash []byte) idempotency.Outcome {
	t.Helper()
	out, err := f.store.Begin(context.Background(), scope, f.caller, key, hash)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return out
}

func wantKind(t *testing.T, out idempotency.Outcome, k idempotency.Kind) {
	t.Helper()
	if out.Kind != k {
		t.Fatalf("outcome = %s, want %s", out.Kind, k)
	}
	if out.Lease.Valid() != (k == idempotency.Proceed) {
		t.Fatalf("lease valid = %v for %s", out.Lease.Valid(), k)
	}
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.begin(t, "key-1", hashA)
	wantKind(t, first, idempotency.Proceed)

	wantKind(t, f.begin(t, "key-1", hashA), idempotency.InProgress)
	wantKind(t, f.begin(t, "key-1", hashB), idempotency.Mismatch)

	if err := f.store.Complete(ctx, first.Lease, resp); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	replay := f.begin(t, "key-1", hashA)
	wantKind(t, replay, idempotency.Replay)
	if replay.Response.StatusCode != 201 || !bytes.Equal(replay.Response.Body, resp.Body) || !maps.Equal(replay.Response.Headers, resp.Headers) {
		t.Fatalf("replayed %+v", replay.Response)
	}
	wantKind(t, f.begin(t, "key-1", hashB), idempotency.Mismatch)

	if err := f.store.Complete(ctx, first.Lease, resp); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("second Complete = %v", err)
	}
	if err := f.store.Abandon(ctx, first.Lease); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("Abandon after Complete = %v", err)
	}
	wantKind(t, f.begin(t, "key-1", hashA), idempotency.Replay)
}

func TestKeysAreScopedPerCallerAndScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	wantKind(t, f.begin(t, "shared", hashA), idempotency.Proceed)
	tests := []struct {
		name, scope, caller string
	}{
		{"other caller", scope, "usr_other"},
		{"other scope", "tasks-create", f.caller},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.store.Begin(ctx, tc.scope, tc.caller, "shared", hashA)
			if err != nil {
				t.Fatal(err)
			}
			wantKind(t, out, idempotency.Proceed)
		})
	}
	// The raw key never reaches the table.
	items, err := f.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(f.table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(items.Items) != 3 {
		t.Fatalf("%d records, want 3", len(items.Items))
	}
	for _, it := range items.Items {
		pk := it["PK"].(*types.AttributeValueMemberS).Value
		if strings.Contains(pk, "shared") || strings.Contains(pk, "usr_") || !strings.HasPrefix(pk, "IDEM#") {
			t.Fatalf("PK %q", pk)
		}
		if _, ok := it["expiresAt"].(*types.AttributeValueMemberN); !ok {
			t.Fatal("record without expiresAt")
		}
	}
}

func TestAbandonLetsRetryProceed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.begin(t, "k", hashA)
	if err := f.store.Abandon(ctx, first.Lease); err != nil {
		t.Fatalf("Abandon: %v", err)
	}
	// Even a different request may use the key after an abandon: nothing was
	// created under it.
	retry := f.begin(t, "k", hashB)
	wantKind(t, retry, idempotency.Proceed)
	if err := f.store.Complete(ctx, first.Lease, resp); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("abandoned lease completed: %v", err)
	}
	if err := f.store.Complete(ctx, retry.Lease, resp); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredRecordIsAbsent(t *testing.T) {
	tests := []struct {
		name     string
		complete bool
		advance  time.Duration
		hash     []byte
		want     idempotency.Kind
	}{
		{"completed, just before expiry", true, idempotency.DefaultTTL - time.Second, hashA, idempotency.Replay},
		{"completed, expired", true, idempotency.DefaultTTL + time.Second, hashA, idempotency.Proceed},
		{"completed, expired, other request", true, idempotency.DefaultTTL + time.Second, hashB, idempotency.Proceed},
		{"in progress, expired, other request", false, idempotency.DefaultTTL + time.Second, hashB, idempotency.Proceed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			first := f.begin(t, "k", hashA)
			if tc.complete {
				if err := f.store.Complete(context.Background(), first.Lease, resp); err != nil {
					t.Fatal(err)
				}
			}
			f.clock.Advance(tc.advance)
			wantKind(t, f.begin(t, "k", tc.hash), tc.want)
		})
	}
}

func TestLeaseTakeover(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.begin(t, "k", hashA)
	f.clock.Advance(idempotency.DefaultLeaseDuration - time.Millisecond)
	wantKind(t, f.begin(t, "k", hashA), idempotency.InProgress)
	f.clock.Advance(time.Millisecond)
	wantKind(t, f.begin(t, "k", hashB), idempotency.Mismatch)
	second := f.begin(t, "k", hashA)
	wantKind(t, second, idempotency.Proceed)

	if err := f.store.Complete(ctx, first.Lease, resp); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("stale lease completed: %v", err)
	}
	if err := f.store.Abandon(ctx, first.Lease); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("stale lease abandoned the new one: %v", err)
	}
	if err := f.store.Complete(ctx, second.Lease, resp); err != nil {
		t.Fatal(err)
	}
	wantKind(t, f.begin(t, "k", hashA), idempotency.Replay)
}

func TestConcurrentBegins(t *testing.T) {
	f := newFixture(t)
	const n = 20
	var wg sync.WaitGroup
	outs := make([]idempotency.Outcome, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			outs[i], errs[i] = f.store.Begin(context.Background(), scope, f.caller, "same-key", hashA)
		})
	}
	close(start)
	wg.Wait()
	counts := map[idempotency.Kind]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Begin %d: %v", i, errs[i])
		}
		counts[outs[i].Kind]++
	}
	if counts[idempotency.Proceed] != 1 || counts[idempotency.InProgress] != n-1 {
		t.Fatalf("outcomes = %v, want exactly one proceed", counts)
	}
}

func TestCompleteItemInTransaction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resource := func(id string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(f.table),
			Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "PROGRAM#" + id}, "SK": &types.AttributeValueMemberS{Value: "PROGRAM"},
			},
		}}
	}
	exists := func(id string) bool {
		out, err := f.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "PROGRAM#" + id}, "SK": &types.AttributeValueMemberS{Value: "PROGRAM"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Item) > 0
	}

	stale := f.begin(t, "k", hashA)
	f.clock.Advance(idempotency.DefaultLeaseDuration)
	current := f.begin(t, "k", hashA)
	wantKind(t, current, idempotency.Proceed)

	// The request whose lease was taken over cannot commit its resource.
	item, err := f.store.CompleteItem(stale.Lease, resp)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{resource("stale"), item}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || exists("stale") {
		t.Fatalf("stale transaction: %v (resource written: %v)", err, exists("stale"))
	}

	item, err = f.store.CompleteItem(current.Lease, resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{resource("current"), item}}); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	if !exists("current") {
		t.Fatal("resource not written")
	}
	replay := f.begin(t, "k", hashA)
	wantKind(t, replay, idempotency.Replay)
	if !bytes.Equal(replay.Response.Body, resp.Body) {
		t.Fatalf("replay body %q", replay.Response.Body)
	}
}

func TestCompleteValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	out := f.begin(t, "k", hashA)
	tests := []struct {
		name  string
		lease idempotency.Lease
		resp  idempotency.Response
		want  error
	}{
		{"too large body", out.Lease, idempotency.Response{StatusCode: 201, Body: bytes.Repeat([]byte("x"), 1025)}, idempotency.ErrResponseTooLarge},
		{"too large with headers", out.Lease, idempotency.Response{StatusCode: 201, Body: bytes.Repeat([]byte("x"), 1000), Headers: map[string]string{"Location": strings.Repeat("l", 30)}}, idempotency.ErrResponseTooLarge},
		{"bad status", out.Lease, idempotency.Response{StatusCode: 99}, idempotency.ErrInvalidArgument},
		{"zero lease", idempotency.Lease{}, resp, idempotency.ErrLeaseLost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.store.Complete(ctx, tc.lease, tc.resp); !errors.Is(err, tc.want) {
				t.Fatalf("Complete = %v, want %v", err, tc.want)
			}
		})
	}
	// Nothing was stored: still in progress, and the lease still completes,
	// with an empty body and no headers.
	wantKind(t, f.begin(t, "k", hashA), idempotency.InProgress)
	if err := f.store.Complete(ctx, out.Lease, idempotency.Response{StatusCode: 204}); err != nil {
		t.Fatal(err)
	}
	replay := f.begin(t, "k", hashA)
	if replay.Kind != idempotency.Replay || replay.Response.StatusCode != 204 || len(replay.Response.Body) != 0 || len(replay.Response.Headers) != 0 {
		t.Fatalf("replay = %+v", replay)
	}
}

func TestBeginValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, scope, caller, key string
		hash                     []byte
		want                     error
	}{
		{"empty key", scope, "usr_1", "", hashA, idempotency.ErrInvalidKey},
		{"key too long", scope, "usr_1", strings.Repeat("k", 256), hashA, idempotency.ErrInvalidKey},
		{"key control char", scope, "usr_1", "a\nb", hashA, idempotency.ErrInvalidKey},
		{"key non-ASCII", scope, "usr_1", "clé", hashA, idempotency.ErrInvalidKey},
		{"bad scope", "Programs#create", "usr_1", "k", hashA, idempotency.ErrInvalidArgument},
		{"empty caller", scope, "", "k", hashA, idempotency.ErrInvalidArgument},
		{"short hash", scope, "usr_1", "k", hashA[:16], idempotency.ErrInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.store.Begin(context.Background(), tc.scope, tc.caller, tc.key, tc.hash); !errors.Is(err, tc.want) {
				t.Fatalf("Begin = %v, want %v", err, tc.want)
			}
		})
	}
	out, err := f.store.Begin(context.Background(), scope, "usr_1", strings.Repeat("k", 255), hashA)
	if err != nil || out.Kind != idempotency.Proceed {
		t.Fatalf("255-character key: %+v, %v", out, err)
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{`8e03978e-40d5-43e8-bc93-6894a57f9324`, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{`  "abc"  `, "abc", true},
		{`"with space"`, "with space", true},
		{`"esc \" and \\"`, `esc " and \`, true},
		{`""`, "", false},
		{``, "", false},
		{`"unterminated`, "", false},
		{`"trailing" x`, "", false},
		{`"bad \n escape"`, "", false},
		{"\"tab\tinside\"", "", false},
		{`bare space`, "", false},
		{`bare"quote`, "", false},
		{"clé", "", false},
		{`"` + strings.Repeat("k", 255) + `"`, strings.Repeat("k", 255), true},
		{`"` + strings.Repeat("k", 256) + `"`, "", false},
		{strings.Repeat("k", 256), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := idempotency.ParseHeader(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseHeader(%q) = %q, %v", tc.in, got, err)
			}
			if err != nil && !errors.Is(err, idempotency.ErrInvalidKey) {
				t.Fatalf("error %v is not ErrInvalidKey", err)
			}
		})
	}
}

func TestRequestHash(t *testing.T) {
	base := idempotency.RequestHash("POST", "/programs", []byte(`{"title":"A","capacity":5}`))
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		same   bool
	}{
		{"reordered and spaced", "post", "/programs", "{ \"capacity\": 5,\n \"title\": \"A\" }", true},
		{"escaped spelling", "POST", "/programs", `{"title":"\u0041","capacity":5}`, true},
		{"other value", "POST", "/programs", `{"title":"B","capacity":5}`, false},
		{"other number spelling", "POST", "/programs", `{"title":"A","capacity":5.0}`, false},
		{"other path", "POST", "/programs/x", `{"title":"A","capacity":5}`, false},
		{"other method", "PUT", "/programs", `{"title":"A","capacity":5}`, false},
		{"invalid JSON hashed raw", "POST", "/programs", `{"title":"A","capacity":5`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := idempotency.RequestHash(tc.method, tc.path, []byte(tc.body))
			if bytes.Equal(got, base) != tc.same {
				t.Fatalf("same = %v, want %v", !tc.same, tc.same)
			}
		})
	}
	if len(base) != 32 {
		t.Fatalf("hash length %d", len(base))
	}
	// Path and body boundaries do not blur.
	if bytes.Equal(idempotency.RequestHash("POST", "/a", []byte("b")), idempotency.RequestHash("POST", "/ab", nil)) {
		t.Fatal("path/body boundary is ambiguous")
	}
}

func TestNewValidates(t *testing.T) {
	db := dyntest.New(t)
	tests := []struct {
		name string
		db   idempotency.DynamoDB
		cfg  idempotency.Config
		ok   bool
	}{
		{"ok", db, idempotency.Config{Table: "t"}, true},
		{"nil db", nil, idempotency.Config{Table: "t"}, false},
		{"no table", db, idempotency.Config{}, false},
		{"lease not shorter than TTL", db, idempotency.Config{Table: "t", TTL: time.Minute, LeaseDuration: time.Minute}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idempotency.New(tc.db, tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New = %v", err)
			}
		})
	}
}
