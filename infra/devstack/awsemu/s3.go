package awsemu

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 event names, as S3 puts them in an event record's eventName.
const (
	EventObjectCreatedPut        = "ObjectCreated:Put"
	EventObjectCreatedPost       = "ObjectCreated:Post"
	EventObjectCreatedCopy       = "ObjectCreated:Copy"
	EventObjectCreatedMultipart  = "ObjectCreated:CompleteMultipartUpload"
	EventObjectRemovedDelete     = "ObjectRemoved:Delete"
	EventObjectRemovedDeleteMark = "ObjectRemoved:DeleteMarkerCreated"
)

// ObjectEvent is one S3 object event, emitted after the change is stored.
type ObjectEvent struct {
	// Name is one of the Event* constants, e.g. "ObjectCreated:Put".
	Name   string
	Bucket string
	// Key is the object key as stored (not URL-encoded; S3 event records
	// carry it URL-encoded).
	Key string
	// ETag is the object's MD5 in hex, without quotes ("" for removals).
	ETag string
	// Size is the object's size in bytes (0 for removals).
	Size int64
	// VersionID is set when the bucket has versioning enabled.
	VersionID string
	Time      time.Time
}

// unsupportedSubresources are S3 sub-resources gofakes3 does not implement
// but would misroute: PUT /b/k?tagging (or ?acl) replaces the object's body
// with the request's XML, PUT /b?policy looks like CreateBucket. They are
// answered 501 NotImplemented instead.
var unsupportedSubresources = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "encryption",
	"intelligent-tiering", "inventory", "legal-hold", "lifecycle", "logging",
	"metrics", "notification", "object-lock", "ownershipControls", "policy",
	"policyStatus", "publicAccessBlock", "replication", "requestPayment",
	"restore", "retention", "select", "tagging", "torrent", "website",
}

// opHeader carries, from the front handler to the backend wrapper, which
// request a PutObject call belongs to: gofakes3 copies X-Amz-* request
// headers into the metadata map it hands the backend. The value includes a
// per-process nonce so a client (or a POST form field) cannot forge it.
const opHeader = "X-Amz-Awsemu-Op"

// newS3 builds gofakes3 over an event-emitting s3mem backend and the front
// handler before it.
func newS3(events *dispatcher) (*eventBackend, http.Handler) {
	b := &eventBackend{Backend: s3mem.New(), nonce: randomHex(16), events: events}
	fake := gofakes3.New(b)
	return b, &s3Front{next: fake.Server(), nonce: b.nonce}
}

// s3Front refuses unsupported sub-resources and marks object writes for
// the backend wrapper.
type s3Front struct {
	next  http.Handler
	nonce string
}

var _ http.Handler = (*s3Front)(nil)

func (f *s3Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Header.Del(opHeader)
	q := r.URL.Query()
	for _, sub := range unsupportedSubresources {
		if q.Has(sub) {
			writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented",
				"the ?"+sub+" sub-resource is not implemented by the local S3 (gofakes3)")
			return
		}
	}
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case key == "":
	case r.Method == http.MethodPut && !q.Has("uploadId"):
		// PutObject, or CopyObject (which the backend recognizes itself).
		r.Header.Set(opHeader, EventObjectCreatedPut+" "+f.nonce)
	case r.Method == http.MethodPost && q.Has("uploads"):
		// gofakes3 keeps the initiating request's metadata and hands it to
		// PutObject when the upload completes.
		r.Header.Set(opHeader, EventObjectCreatedMultipart+" "+f.nonce)
	}
	f.next.ServeHTTP(w, r)
}

// s3Error is S3's XML error body.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg, Resource: r.URL.Path, RequestID: randomHex(8)})
}

// eventBackend is s3mem with object events: the methods below run the
// write, then publish what was stored. The rest of s3mem (including its
// VersionedBackend methods) is promoted unchanged.
type eventBackend struct {
	*s3mem.Backend
	nonce  string
	events *dispatcher
}

var (
	_ gofakes3.Backend          = (*eventBackend)(nil)
	_ gofakes3.VersionedBackend = (*eventBackend)(nil)
)

// takeOp removes the front's marker from meta and returns the event name it
// stands for. Without a (valid) marker the write came from a browser POST
// form, the one remaining path to PutObject in gofakes3.
func (b *eventBackend) takeOp(meta map[string]string) string {
	v, ok := meta[opHeader]
	delete(meta, opHeader)
	if name, nonce, _ := strings.Cut(v, " "); ok && nonce == b.nonce {
		return name
	}
	return EventObjectCreatedPost
}

// PutObject stores the object and emits ObjectCreated:Put, :Post or
// :CompleteMultipartUpload.
func (b *eventBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if meta == nil {
		meta = map[string]string{}
	}
	name := b.takeOp(meta)
	d := &digestReader{r: input, h: md5.New()}
	res, err := b.Backend.PutObject(bucket, key, meta, d, size, cond)
	if err != nil {
		return res, err
	}
	b.publish(ObjectEvent{Name: name, Bucket: bucket, Key: key, ETag: hex.EncodeToString(d.h.Sum(nil)), Size: d.n, VersionID: string(res.VersionID)})
	return res, nil
}

// CopyObject copies the object and emits ObjectCreated:Copy.
func (b *eventBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	if meta == nil {
		meta = map[string]string{}
	}
	b.takeOp(meta)
	res, err := b.Backend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, meta)
	if err != nil {
		return res, err
	}
	ev := ObjectEvent{Name: EventObjectCreatedCopy, Bucket: dstBucket, Key: dstKey, ETag: strings.Trim(res.ETag, `"`)}
	if obj, err := b.Backend.HeadObject(dstBucket, dstKey); err == nil {
		ev.Size, ev.VersionID = obj.Size, string(obj.VersionID)
		_ = obj.Contents.Close()
	}
	b.publish(ev)
	return res, nil
}

// DeleteObject deletes the object and emits ObjectRemoved:Delete (or
// :DeleteMarkerCreated in a versioned bucket) if it existed.
func (b *eventBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	existed := b.exists(bucket, key)
	res, err := b.Backend.DeleteObject(bucket, key)
	if err != nil {
		return res, err
	}
	if existed {
		name := EventObjectRemovedDelete
		if res.IsDeleteMarker {
			name = EventObjectRemovedDeleteMark
		}
		b.publish(ObjectEvent{Name: name, Bucket: bucket, Key: key, VersionID: string(res.VersionID)})
	}
	return res, nil
}

// DeleteObjectVersion deletes one version and emits ObjectRemoved:Delete.
func (b *eventBackend) DeleteObjectVersion(bucket, key string, version gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	res, err := b.Backend.DeleteObjectVersion(bucket, key, version)
	if err != nil {
		return res, err
	}
	b.publish(ObjectEvent{Name: EventObjectRemovedDelete, Bucket: bucket, Key: key, VersionID: string(version)})
	return res, nil
}

// DeleteMulti deletes objects and emits ObjectRemoved:Delete for each one
// that existed. gofakes3 calls it only for backends without versioning.
func (b *eventBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	existed := make(map[string]bool, len(keys))
	for _, k := range keys {
		existed[k] = b.exists(bucket, k)
	}
	res, err := b.Backend.DeleteMulti(bucket, keys...)
	if err != nil {
		return res, err
	}
	for _, d := range res.Deleted {
		if existed[d.Key] {
			b.publish(ObjectEvent{Name: EventObjectRemovedDelete, Bucket: bucket, Key: d.Key})
		}
	}
	return res, nil
}

// DeleteMultiVersions is the DeleteObjects path gofakes3 takes with s3mem
// (a versioned backend); it emits like DeleteMulti.
func (b *eventBackend) DeleteMultiVersions(bucket string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	existed := make(map[string]bool, len(objects))
	for _, o := range objects {
		if o.VersionID == "" {
			existed[o.Key] = b.exists(bucket, o.Key)
		}
	}
	res, err := b.Backend.DeleteMultiVersions(bucket, objects...)
	if err != nil {
		return res, err
	}
	for _, d := range res.Deleted {
		if d.VersionID != "" || existed[d.Key] {
			b.publish(ObjectEvent{Name: EventObjectRemovedDelete, Bucket: bucket, Key: d.Key, VersionID: d.VersionID})
		}
	}
	return res, nil
}

func (b *eventBackend) exists(bucket, key string) bool {
	obj, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		return false
	}
	_ = obj.Contents.Close()
	return true
}

func (b *eventBackend) publish(ev ObjectEvent) {
	if b.events == nil {
		return
	}
	ev.Time = time.Now().UTC()
	b.events.publish(ev)
}

// digestReader hashes and counts what the backend reads.
type digestReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// dispatcher delivers events to the hook on one goroutine, in order, from
// an unbounded queue: publishing never blocks, so a hook that calls S3 (or
// takes its time) cannot stall or deadlock an S3 request.
type dispatcher struct {
	fn   func(ObjectEvent)
	log  *slog.Logger
	mu   sync.Mutex
	cond *sync.Cond
	q    []ObjectEvent
	stop bool
	done chan struct{}
}

func newDispatcher(fn func(ObjectEvent), log *slog.Logger) *dispatcher {
	d := &dispatcher{fn: fn, log: log, done: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	go d.run()
	return d
}

func (d *dispatcher) publish(ev ObjectEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop {
		return
	}
	d.q = append(d.q, ev)
	d.cond.Signal()
}

func (d *dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		for len(d.q) == 0 && !d.stop {
			d.cond.Wait()
		}
		if d.stop {
			if n := len(d.q); n > 0 {
				d.log.Debug("dropping undelivered S3 events at shutdown", "count", n)
			}
			d.mu.Unlock()
			return
		}
		ev := d.q[0]
		d.q[0] = ObjectEvent{}
		d.q = d.q[1:]
		d.mu.Unlock()
		d.deliver(ev)
	}
}

func (d *dispatcher) deliver(ev ObjectEvent) {
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("S3 event hook panicked", "event", ev.Name, "bucket", ev.Bucket, "panic", p)
		}
	}()
	d.fn(ev)
}

// close stops delivery after the event in progress and waits for it.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.stop = true
	d.cond.Broadcast()
	d.mu.Unlock()
	<-d.done
}
