package audit_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/internal/dyntest"
)

const templatePath = "../../template.yaml"

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type env struct {
	db    *dynamodb.Client
	table string
	cfg   audit.Config
	w     *audit.Writer
	v     *audit.Verifier
}

func newEnv(t *testing.T, shards int, pageSize int32) *env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, templatePath, "AuditTable")
	cfg := audit.Config{Table: table, Shards: shards, PageSize: pageSize, Clock: func() time.Time { return fixedNow }}
	w, err := audit.NewWriter(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewVerifier(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, table: table, cfg: cfg, w: w, v: v}
}

func (e *env) appendN(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		en := validEntry()
		en.RequestID = fmt.Sprintf("req-%d", i)
		if err := e.w.Append(context.Background(), en); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func sk(seq int) string { return fmt.Sprintf("SEQ#%020d", seq) }

func key(shard, seq int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("CHAIN#%d", shard)},
		"SK": &types.AttributeValueMemberS{Value: sk(seq)},
	}
}

func (e *env) items(t *testing.T, shard int) []map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(e.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("CHAIN#%d", shard)}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	return out.Items
}

func (e *env) get(t *testing.T, shard, seq int) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key(shard, seq), ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("get shard %d seq %d: %v (found %d attributes)", shard, seq, err, len(out.Item))
	}
	return out.Item
}

func (e *env) put(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item}); err != nil {
		t.Fatalf("put: %v", err)
	}
}

func (e *env) set(t *testing.T, shard, seq int, attr string, v types.AttributeValue) {
	t.Helper()
	_, err := e.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.table),
		Key:                       key(shard, seq),
		UpdateExpression:          aws.String("SET #a = :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": v},
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
}

func (e *env) del(t *testing.T, shard, seq int) {
	t.Helper()
	if _, err := e.db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: key(shard, seq)}); err != nil {
		t.Fatalf("delete: %v", err)
	}
}

func (e *env) verify(t *testing.T) audit.Report {
	t.Helper()
	rep, err := e.v.Verify(context.Background())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func str(item map[string]types.AttributeValue, attr string) string {
	s, _ := item[attr].(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}

func TestAppendWritesDocumentedLayout(t *testing.T) {
	e := newEnv(t, 1, 0)
	e.appendN(t, 3)
	items := e.items(t, 0)
	if len(items) != 3 {
		t.Fatalf("%d items, want 3", len(items))
	}

	canon, err := audit.CanonicalForTest(func() audit.Entry { en := validEntry(); en.RequestID = "req-0"; return en }(), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	first := items[0]
	if got, want := str(first, "SK"), "SEQ#00000000000000000001"; got != want {
		t.Errorf("SK %q, want %q", got, want)
	}
	if got := first["seq"].(*types.AttributeValueMemberN).Value; got != "1" {
		t.Errorf("seq %s, want 1", got)
	}
	if got, want := str(first, "prevHash"), fmt.Sprintf("%x", genesisHash("0")); got != want {
		t.Errorf("prevHash %s, want genesis %s", got, want)
	}
	if got, want := str(first, "hash"), linkHash(genesisHash("0"), canon, 1); got != want {
		t.Errorf("hash %s, want %s (documented formula)", got, want)
	}
	if got := str(first, "time"); got != "2026-03-04T05:06:07Z" {
		t.Errorf("time %q", got)
	}
	for i := 1; i < len(items); i++ {
		if str(items[i], "prevHash") != str(items[i-1], "hash") {
			t.Errorf("item %d does not link to item %d", i+1, i)
		}
	}
	d, ok := first["details"].(*types.AttributeValueMemberM)
	if !ok || str(d.Value, "previousStatus") != "active" {
		t.Errorf("details %v", first["details"])
	}

	rep := e.verify(t)
	if !rep.OK() || rep.Verified() != 3 {
		t.Fatalf("report %+v", rep)
	}
	if s := rep.Shards[0]; s.HeadSeq != 3 || s.HeadHash != str(items[2], "hash") {
		t.Fatalf("head %d %s, want 3 %s", s.HeadSeq, s.HeadHash, str(items[2], "hash"))
	}
}

func TestAppendRefusesInvalidEntry(t *testing.T) {
	e := newEnv(t, 1, 0)
	en := validEntry()
	en.Details = map[string]string{"newPassword": "correct horse"}
	if err := e.w.Append(context.Background(), en); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("append: got %v, want ErrInvalidEntry", err)
	}
	if n := len(e.items(t, 0)); n != 0 {
		t.Fatalf("%d items written for a refused entry", n)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n = 5
	tests := []struct {
		name     string
		tamper   func(t *testing.T, e *env)
		wantSeq  uint64
		wantKind audit.BreakKind
		wantHead uint64 // last verified seq
	}{
		{
			name:     "untouched",
			tamper:   func(*testing.T, *env) {},
			wantHead: 5,
		},
		{
			name: "changed reason",
			tamper: func(t *testing.T, e *env) {
				e.set(t, 0, 3, "reason", &types.AttributeValueMemberS{Value: "nothing to see"})
			},
			wantSeq: 3, wantKind: audit.BreakHashMismatch, wantHead: 2,
		},
		{
			name: "changed detail",
			tamper: func(t *testing.T, e *env) {
				e.set(t, 0, 1, "details", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"previousStatus": &types.AttributeValueMemberS{Value: "suspended"}}})
			},
			wantSeq: 1, wantKind: audit.BreakHashMismatch, wantHead: 0,
		},
		{
			name:    "removed optional attribute",
			tamper:  func(t *testing.T, e *env) { it := e.get(t, 0, 4); delete(it, "target"); e.put(t, it) },
			wantSeq: 4, wantKind: audit.BreakHashMismatch, wantHead: 3,
		},
		{
			name: "replaced hash",
			tamper: func(t *testing.T, e *env) {
				e.set(t, 0, 2, "hash", &types.AttributeValueMemberS{Value: strings.Repeat("ab", 32)})
			},
			wantSeq: 2, wantKind: audit.BreakHashMismatch, wantHead: 1,
		},
		{
			name: "changed entry with its own hash recomputed",
			tamper: func(t *testing.T, e *env) {
				it := e.get(t, 0, 3)
				it["actor"] = &types.AttributeValueMemberS{Value: "usr_innocent"}
				h, err := audit.RehashForTest(it)
				if err != nil {
					t.Fatal(err)
				}
				it["hash"] = &types.AttributeValueMemberS{Value: h}
				e.put(t, it)
			},
			wantSeq: 4, wantKind: audit.BreakPrevMismatch, wantHead: 3,
		},
		{
			name:    "deleted middle entry",
			tamper:  func(t *testing.T, e *env) { e.del(t, 0, 3) },
			wantSeq: 3, wantKind: audit.BreakGap, wantHead: 2,
		},
		{
			name:    "deleted first entry",
			tamper:  func(t *testing.T, e *env) { e.del(t, 0, 1) },
			wantSeq: 1, wantKind: audit.BreakGap, wantHead: 0,
		},
		{
			name: "deleted entry and renumbered the rest",
			tamper: func(t *testing.T, e *env) {
				for seq := 3; seq < n; seq++ {
					it := e.get(t, 0, seq+1)
					it["SK"] = &types.AttributeValueMemberS{Value: sk(seq)}
					it["seq"] = &types.AttributeValueMemberN{Value: fmt.Sprint(seq)}
					e.put(t, it)
				}
				e.del(t, 0, n)
			},
			wantSeq: 3, wantKind: audit.BreakPrevMismatch, wantHead: 2,
		},
		{
			name: "appended forgery with a wrong prevHash",
			tamper: func(t *testing.T, e *env) {
				it := maps.Clone(e.get(t, 0, 2))
				it["SK"] = &types.AttributeValueMemberS{Value: sk(n + 1)}
				it["seq"] = &types.AttributeValueMemberN{Value: fmt.Sprint(n + 1)}
				e.put(t, it)
			},
			wantSeq: n + 1, wantKind: audit.BreakPrevMismatch, wantHead: n,
		},
		{
			name: "appended forgery with the right prevHash but no valid hash",
			tamper: func(t *testing.T, e *env) {
				it := maps.Clone(e.get(t, 0, 2))
				it["SK"] = &types.AttributeValueMemberS{Value: sk(n + 1)}
				it["seq"] = &types.AttributeValueMemberN{Value: fmt.Sprint(n + 1)}
				it["prevHash"] = e.get(t, 0, n)["hash"]
				e.put(t, it)
			},
			wantSeq: n + 1, wantKind: audit.BreakHashMismatch, wantHead: n,
		},
		{
			name:    "seq attribute disagrees with the key",
			tamper:  func(t *testing.T, e *env) { e.set(t, 0, 2, "seq", &types.AttributeValueMemberN{Value: "7"}) },
			wantSeq: 2, wantKind: audit.BreakMalformed, wantHead: 1,
		},
		{
			name: "unexpected attribute added",
			tamper: func(t *testing.T, e *env) {
				e.set(t, 0, 5, "note", &types.AttributeValueMemberS{Value: "ignore entry 4"})
			},
			wantSeq: 5, wantKind: audit.BreakMalformed, wantHead: 4,
		},
		{
			name:    "required attribute removed",
			tamper:  func(t *testing.T, e *env) { it := e.get(t, 0, 2); delete(it, "outcome"); e.put(t, it) },
			wantSeq: 2, wantKind: audit.BreakMalformed, wantHead: 1,
		},
		{
			// A keyless chain cannot see its newest entry removed; the head
			// in the report is what must be compared with the Object Lock copy.
			name:     "deleted newest entry is visible only in the head",
			tamper:   func(t *testing.T, e *env) { e.del(t, 0, n) },
			wantHead: n - 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Page size 2 makes the Verifier cross page boundaries.
			e := newEnv(t, 1, 2)
			e.appendN(t, n)
			tt.tamper(t, e)
			rep := e.verify(t)
			if len(rep.Shards) != 1 {
				t.Fatalf("%d shard reports, want 1", len(rep.Shards))
			}
			s := rep.Shards[0]
			if s.HeadSeq != tt.wantHead || s.Verified != int(tt.wantHead) {
				t.Errorf("head seq %d, verified %d; want %d", s.HeadSeq, s.Verified, tt.wantHead)
			}
			if tt.wantKind == "" {
				if s.Break != nil || !rep.OK() {
					t.Fatalf("unexpected break %+v", s.Break)
				}
				return
			}
			if s.Break == nil || rep.OK() {
				t.Fatalf("tampering not detected")
			}
			if s.Break.Seq != tt.wantSeq || s.Break.Kind != tt.wantKind {
				t.Fatalf("break %+v, want seq %d kind %s", *s.Break, tt.wantSeq, tt.wantKind)
			}
		})
	}
}

func TestVerifyLocatesBreakPerShard(t *testing.T) {
	const shards, n = 3, 30
	e := newEnv(t, shards, 4)
	e.appendN(t, n)
	counts := make([]int, shards)
	total := 0
	for s := range shards {
		counts[s] = len(e.items(t, s))
		total += counts[s]
	}
	if total != n {
		t.Fatalf("%d items, want %d", total, n)
	}
	// Some shard holds at least n/shards >= 2 entries.
	a := 0
	for s := range shards {
		if counts[s] > counts[a] {
			a = s
		}
	}
	b, c := (a+1)%shards, (a+2)%shards

	e.set(t, a, 2, "outcome", &types.AttributeValueMemberS{Value: audit.OutcomeFailure})
	// Moving a valid entry into another shard's chain fails there: each
	// shard's genesis differs.
	moved := e.get(t, a, 1)
	moved["PK"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("CHAIN#%d", b)}
	e.put(t, moved)

	rep := e.verify(t)
	if rep.OK() || len(rep.Shards) != shards {
		t.Fatalf("report %+v", rep)
	}
	if br := rep.Shards[a].Break; br == nil || br.Seq != 2 || br.Kind != audit.BreakHashMismatch {
		t.Errorf("shard %d break %+v, want seq 2 hash_mismatch", a, br)
	}
	if br := rep.Shards[b].Break; br == nil || br.Seq != 1 || br.Kind != audit.BreakPrevMismatch {
		t.Errorf("shard %d break %+v, want seq 1 prev_mismatch", b, br)
	}
	if sr := rep.Shards[c]; sr.Break != nil || sr.Verified != counts[c] {
		t.Errorf("shard %d: %+v, want intact with %d entries", c, sr, counts[c])
	}
}

func TestConcurrentAppendsNeverFork(t *testing.T) {
	const n = 50
	e := newEnv(t, 2, 0)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			en := validEntry()
			en.RequestID = fmt.Sprintf("req-%d", i)
			if err := e.w.Append(context.Background(), en); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("append: %v", err)
	}
	rep := e.verify(t)
	if !rep.OK() {
		t.Fatalf("chain broken: %+v", rep)
	}
	if rep.Verified() != n {
		t.Fatalf("%d entries verified, want %d", rep.Verified(), n)
	}
	seen := map[string]bool{}
	for s := range 2 {
		for _, it := range e.items(t, s) {
			seen[str(it, "requestId")] = true
		}
	}
	for i := range n {
		if !seen[fmt.Sprintf("req-%d", i)] {
			t.Errorf("entry req-%d lost", i)
		}
	}
}

func TestAppendSkipsCorruptShardHead(t *testing.T) {
	e := newEnv(t, 2, 0)
	e.put(t, map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "CHAIN#0"},
		"SK": &types.AttributeValueMemberS{Value: sk(1)},
		// not a hash: the writer cannot chain from it
		"hash": &types.AttributeValueMemberS{Value: "zz"},
	})
	e.appendN(t, 10)
	rep := e.verify(t)
	if br := rep.Shards[0].Break; br == nil || br.Seq != 1 || br.Kind != audit.BreakMalformed {
		t.Errorf("shard 0 break %+v, want seq 1 malformed", br)
	}
	if sr := rep.Shards[1]; sr.Break != nil || sr.Verified != 10 {
		t.Errorf("shard 1: %+v, want 10 intact entries", sr)
	}
}

// racingDB loses every put, as if another writer always took the seq first.
type racingDB struct {
	puts int
}

func (r *racingDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (r *racingDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.puts++
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("taken")}
}

func TestAppendGivesUpAfterMaxAttempts(t *testing.T) {
	db := &racingDB{}
	w, err := audit.NewWriter(db, audit.Config{Table: "t", MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Append(context.Background(), validEntry())
	if !errors.Is(err, audit.ErrContention) {
		t.Fatalf("append: got %v, want ErrContention", err)
	}
	if db.puts != 3 {
		t.Fatalf("%d puts, want 3", db.puts)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w, err = audit.NewWriter(&racingDB{}, audit.Config{Table: "t", MaxAttempts: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(ctx, validEntry()); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with cancelled context: got %v, want context.Canceled", err)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  audit.Config
	}{
		{name: "no table", cfg: audit.Config{}},
		{name: "negative shards", cfg: audit.Config{Table: "t", Shards: -1}},
		{name: "negative attempts", cfg: audit.Config{Table: "t", MaxAttempts: -1}},
		{name: "negative page size", cfg: audit.Config{Table: "t", PageSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := audit.NewWriter(&racingDB{}, tt.cfg); err == nil {
				t.Error("NewWriter accepted the config")
			}
			if _, err := audit.NewVerifier(&racingDB{}, tt.cfg); err == nil {
				t.Error("NewVerifier accepted the config")
			}
		})
	}
}

// TestPackageNeverUpdatesOrDeletes backs the IAM promise: the audit package's
// code contains no DynamoDB call that could change or remove an entry.
func TestPackageNeverUpdatesOrDeletes(t *testing.T) {
	forbidden := []string{"UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction", "DeleteTable", "UpdateTable"}
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("walk: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		ast.Inspect(parsed, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			for _, name := range forbidden {
				if strings.HasPrefix(id.Name, name) {
					t.Errorf("%s uses %s", f, id.Name)
				}
			}
			return true
		})
	}
}

// countingDB counts the writer's Query calls.
type countingDB struct {
	audit.WriterAPI
	queries atomic.Int64
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opt ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.WriterAPI.Query(ctx, in, opt...)
}

// TestWarmWriterSkipsHeadReadAndRecoversFromStaleHead proves the head cache
// saves the Query on a warm writer's appends, and that a stale cached head
// (another writer moved the shard on) costs a retry, never a fork.
func TestWarmWriterSkipsHeadReadAndRecoversFromStaleHead(t *testing.T) {
	e := newEnv(t, 1, 0)
	counted := &countingDB{WriterAPI: e.db}
	a, err := audit.NewWriter(counted, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := a.Append(context.Background(), validEntry()); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if q := counted.queries.Load(); q != 1 {
		t.Errorf("5 appends by one warm writer read the head %d times, want 1", q)
	}
	// Another writer appends on the same (only) shard: a's cache is stale.
	e.appendN(t, 3)
	if err := a.Append(context.Background(), validEntry()); err != nil {
		t.Fatalf("append with a stale head: %v", err)
	}
	report := e.verify(t)
	if !report.OK() || report.Verified() != 9 {
		t.Fatalf("chain after a stale-head append: %+v", report)
	}
}
