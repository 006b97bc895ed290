package awsemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/truora/minidyn/server"
)

// minidynOps are the operations minidyn's server implements; it answers any
// other with a plain-text 400 the SDK cannot parse.
var minidynOps = map[string]bool{
	"CreateTable": true, "UpdateTable": true, "DeleteTable": true, "DescribeTable": true,
	"PutItem": true, "DeleteItem": true, "UpdateItem": true, "GetItem": true,
	"Query": true, "Scan": true, "BatchWriteItem": true, "BatchGetItem": true,
	"TransactWriteItems": true, "TransactGetItems": true,
}

// maxDynamoDBBody caps request bodies at BatchWriteItem's 16 MB limit.
const maxDynamoDBBody = 16 << 20

// dynamoFront sits in front of minidyn's HTTP server. It turns unsupported
// operations into a DynamoDB-shaped UnknownOperationException and fills the
// TableStatus minidyn leaves empty, so SDK waiters (TableExists) finish.
type dynamoFront struct {
	next  http.Handler
	calls *opCounter
}

var _ http.Handler = (*dynamoFront)(nil)

func newDynamoDB(calls *opCounter) http.Handler {
	return &dynamoFront{next: server.NewServer(), calls: calls}
}

// opCounter counts operations by name; safe for concurrent use.
type opCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

func newOpCounter() *opCounter { return &opCounter{counts: map[string]int64{}} }

func (c *opCounter) add(op string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.counts[op]++
	c.mu.Unlock()
}

func (c *opCounter) snapshot() map[string]int64 {
	out := map[string]int64{}
	if c == nil {
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// DynamoDBCalls returns how many DynamoDB operations of each kind the
// emulator has served so far (benchmarks diff two snapshots).
func (e *Emulators) DynamoDBCalls() map[string]int64 { return e.dynamoCalls.snapshot() }

func (f *dynamoFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	f.calls.add(op)
	if r.Method == http.MethodPost && !minidynOps[op] {
		writeDynamoError(w, "UnknownOperationException", fmt.Sprintf("operation %q is not supported by the local DynamoDB (minidyn)", op))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDynamoDBBody)
	if op != "DescribeTable" {
		f.next.ServeHTTP(w, r)
		return
	}
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	f.next.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	if rec.status == http.StatusOK {
		if patched, err := withTableStatus(body); err == nil {
			body = patched
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.status)
	_, _ = w.Write(body)
}

// withTableStatus sets Table.TableStatus to ACTIVE when minidyn left it
// empty: its tables are usable as soon as CreateTable returns.
func withTableStatus(body []byte) ([]byte, error) {
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	raw, ok := out["Table"]
	if !ok {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var table map[string]any
	if err := dec.Decode(&table); err != nil {
		return nil, err
	}
	if s, _ := table["TableStatus"].(string); s != "" {
		return body, nil
	}
	table["TableStatus"] = "ACTIVE"
	t, err := json.Marshal(table)
	if err != nil {
		return nil, err
	}
	out["Table"] = t
	return json.Marshal(out)
}

func writeDynamoError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"__type":  "com.amazonaws.dynamodb.v20120810#" + typ,
		"message": msg,
	})
}

// bufferedResponse collects a response so it can be rewritten.
type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

var _ http.ResponseWriter = (*bufferedResponse)(nil)

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
