// Package idempotency makes creates safe to retry: a client sends an
// Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header) and a
// retry of the same request with the same key gets the first response back
// instead of creating a second resource.
//
// # Flow
//
//	out, err := idem.Begin(ctx, "programs-create", principal.UserID, key, idempotency.RequestHash(method, path, body))
//	switch out.Kind {
//	case idempotency.Proceed:   // do the work, then Complete (or CompleteItem
//	                            // inside the create's transaction); Abandon on
//	                            // failure so a retry can run
//	case idempotency.Replay:    // answer out.Response as stored, with
//	                            // "Idempotent-Replayed: true"
//	case idempotency.InProgress:// 409 conflict: the first request is still
//	                            // running; Retry-After: 1
//	case idempotency.Mismatch:  // 422: the key was used for a different
//	                            // request (the draft's recommendation; 409 is
//	                            // kept for "in progress" so clients can tell
//	                            // "wait" from "you reused a key")
//	}
//
// The best completion is CompleteItem: appended to the create's
// TransactWriteItems it commits the resource and the stored response
// together, so no crash between the two can leave a created resource behind
// a key that would run again. If that transaction fails on the idempotency
// item's condition, the lease was lost (see below) and nothing was created.
//
// # Leases
//
// A record in progress holds a lease of LeaseDuration (default 2 minutes,
// longer than any API Lambda may run). A request whose Lambda died without
// Abandon leaves its record in progress; once the lease has run out a retry
// with the same request takes it over. Every Begin that proceeds gets its own
// lease token and Complete, CompleteItem and Abandon are conditioned on it,
// so a request whose lease was taken over can no longer complete: exactly one
// of them stores its response.
//
// # Item layout (main table)
//
//	PK           S  "IDEM#<scope>#<hex SHA-256(callerID 0x00 key)>"  the raw
//	                key never reaches the table, and one caller's key cannot
//	                collide with, or reveal, another's
//	SK           S  "IDEM"
//	requestHash  S  hex SHA-256 of method, path and canonical body
//	status       S  "in_progress" | "completed"
//	leaseToken   S  random, while in progress
//	leaseUntil   N  unix milliseconds, while in progress
//	respStatus   N  stored response status code     } once completed
//	respHeaders  M  stored response headers (S)      }
//	respBody     B  stored response body             }
//	createdAt    N  unix milliseconds
//	expiresAt    N  unix seconds, createdAt + TTL (24 h): the table's TTL
//
// DynamoDB deletes expired items lazily and the emulator never does, so an
// expired record is treated as absent: Begin overwrites it.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json/jsontext"
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

// Header names.
const (
	// HeaderName is the request header carrying the key.
	HeaderName = "Idempotency-Key"
	// ReplayedHeader marks a replayed response, so clients and logs can tell.
	ReplayedHeader = "Idempotent-Replayed"
)

// Defaults and limits.
const (
	DefaultTTL              = 24 * time.Hour
	DefaultLeaseDuration    = 2 * time.Minute
	DefaultMaxResponseBytes = 64 << 10
	// MaxKeyLen bounds a key: 255 printable ASCII characters.
	MaxKeyLen = 255
	// beginAttempts bounds Begin's retries when the record it collided with
	// vanished (abandoned or expired) before it could be read.
	beginAttempts = 4
)

// Errors.
var (
	// ErrInvalidKey: the Idempotency-Key is malformed. Answer 400.
	ErrInvalidKey = errors.New("invalid idempotency key")
	// ErrLeaseLost: the record is no longer this request's (its lease was
	// taken over after expiry, or it was completed or abandoned already).
	ErrLeaseLost = errors.New("idempotency lease lost")
	// ErrResponseTooLarge: the response exceeds MaxResponseBytes and was not
	// stored; the caller should fail the request (and Abandon), not create
	// something it cannot replay.
	ErrResponseTooLarge = errors.New("response too large to store for idempotency")
	// ErrInvalidArgument: a scope, caller ID or request hash that callers
	// control in code (not clients) is malformed.
	ErrInvalidArgument = errors.New("invalid idempotency argument")
)

// DynamoDB is the part of the DynamoDB API the Store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Config configures a Store.
type Config struct {
	// Table is the main table's name.
	Table string
	// TTL is how long a key is remembered (DefaultTTL when 0).
	TTL time.Duration
	// LeaseDuration is how long an in-progress record blocks retries before
	// one may take it over (DefaultLeaseDuration when 0).
	LeaseDuration time.Duration
	// MaxResponseBytes bounds a stored response: body plus header names and
	// values (DefaultMaxResponseBytes when 0).
	MaxResponseBytes int
	// Clock is the time source (time.Now when nil).
	Clock func() time.Time
}

// Store keeps idempotency records in the main table. It is safe for
// concurrent use.
type Store struct {
	db      DynamoDB
	table   string
	ttl     time.Duration
	lease   time.Duration
	maxResp int
	now     func() time.Time
}

// New returns a Store over db.
func New(db DynamoDB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("idempotency: nil DynamoDB client")
	}
	if cfg.Table == "" {
		return nil, errors.New("idempotency: empty table name")
	}
	s := &Store{db: db, table: cfg.Table, ttl: cfg.TTL, lease: cfg.LeaseDuration, maxResp: cfg.MaxResponseBytes, now: cfg.Clock}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.lease <= 0 {
		s.lease = DefaultLeaseDuration
	}
	if s.maxResp <= 0 {
		s.maxResp = DefaultMaxResponseBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lease >= s.ttl {
		return nil, errors.New("idempotency: lease must be shorter than the TTL")
	}
	return s, nil
}

// Kind is what Begin decided.
type Kind string

// Begin outcomes.
const (
	// Proceed: the request is new (or takes over an expired lease); run it.
	Proceed Kind = "proceed"
	// Replay: the same request completed before; answer Outcome.Response.
	Replay Kind = "replay"
	// InProgress: the same request is running right now. Answer 409.
	InProgress Kind = "in_progress"
	// Mismatch: the key was used with a different request. Answer 422.
	Mismatch Kind = "mismatch"
)

// Response is a stored response.
type Response struct {
	StatusCode int
	// Headers worth replaying (Content-Type, Location); security headers are
	// added by apigw.Wrap on every response anyway.
	Headers map[string]string
	Body    []byte
}

// Outcome is the result of Begin.
type Outcome struct {
	Kind Kind
	// Response is set for Replay.
	Response Response
	// Lease is set for Proceed: pass it to Complete, CompleteItem or Abandon.
	Lease Lease
}

// Lease is a Proceed outcome's claim on its record.
type Lease struct {
	pk    string
	token string
}

// Valid reports whether the lease came from a Proceed outcome.
func (l Lease) Valid() bool { return l.pk != "" && l.token != "" }

// Item attribute names and values.
const (
	attrPK          = "PK"
	attrSK          = "SK"
	attrRequestHash = "requestHash"
	attrStatus      = "status"
	attrLeaseToken  = "leaseToken"
	attrLeaseUntil  = "leaseUntil"
	attrRespStatus  = "respStatus"
	attrRespHeaders = "respHeaders"
	attrRespBody    = "respBody"
	attrCreatedAt   = "createdAt"
	attrExpires     = "expiresAt"

	sortKey           = "IDEM"
	statusInProgress  = "in_progress"
	statusCompleted   = "completed"
	requestHashLength = sha256.Size
	maxCallerIDLen    = 256
)

var scopePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ValidKey reports whether key is 1..MaxKeyLen printable ASCII characters
// (space included, as a structured-field string allows).
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// ParseHeader returns the key from an Idempotency-Key header value. The
// draft defines it as a structured-field string ("..." with \" and \\
// escapes); the bare form many clients send (Stripe's) is accepted too, as
// visible ASCII without quotes or spaces. Both spell the same key: "abc" and
// abc are one key. Surrounding spaces and tabs are ignored.
func ParseHeader(v string) (string, error) {
	v = strings.Trim(v, " \t")
	if !strings.HasPrefix(v, `"`) {
		for i := 0; i < len(v); i++ {
			if v[i] <= 0x20 || v[i] > 0x7e || v[i] == '"' {
				return "", ErrInvalidKey
			}
		}
		if !ValidKey(v) {
			return "", ErrInvalidKey
		}
		return v, nil
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			i++
			if i >= len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", ErrInvalidKey
			}
			b.WriteByte(v[i])
		case c == '"':
			if i != len(v)-1 || !ValidKey(b.String()) {
				return "", ErrInvalidKey
			}
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", ErrInvalidKey
		default:
			b.WriteByte(c)
		}
	}
	return "", ErrInvalidKey // no closing quote
}

// RequestHash fingerprints a request: SHA-256 over the upper-cased method,
// the path and the body in canonical form (JSON with members sorted and
// insignificant white space removed, so a client re-serializing the same
// object is not taken for a different request; number spellings are kept
// as sent). A body that is not valid JSON is hashed as is.
func RequestHash(method, path string, body []byte) []byte {
	canon := body
	if len(body) > 0 {
		v := jsontext.Value(append([]byte(nil), body...))
		if err := v.Canonicalize(jsontext.CanonicalizeRawInts(false), jsontext.CanonicalizeRawFloats(false)); err == nil {
			canon = v
		}
	}
	h := sha256.New()
	h.Write([]byte("vip-idempotency-v1\x00"))
	h.Write([]byte(strings.ToUpper(method)))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(canon)
	return h.Sum(nil)
}

// recordKey derives the record's PK after validating every part.
func recordKey(scope, callerID, key string) (string, error) {
	switch {
	case !scopePattern.MatchString(scope):
		return "", fmt.Errorf("%w: scope", ErrInvalidArgument)
	case callerID == "" || len(callerID) > maxCallerIDLen || strings.ContainsRune(callerID, 0):
		return "", fmt.Errorf("%w: caller ID", ErrInvalidArgument)
	case !ValidKey(key):
		return "", ErrInvalidKey
	}
	h := sha256.New()
	h.Write([]byte(callerID))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return "IDEM#" + scope + "#" + hex.EncodeToString(h.Sum(nil)), nil
}

// Begin claims key for this request of callerID in scope (a route name such
// as "programs-create"). See the package documentation for the outcomes.
func (s *Store) Begin(ctx context.Context, scope, callerID, key string, requestHash []byte) (Outcome, error) {
	pk, err := recordKey(scope, callerID, key)
	if err != nil {
		return Outcome{}, err
	}
	if len(requestHash) != requestHashLength {
		return Outcome{}, fmt.Errorf("%w: request hash must be %d bytes", ErrInvalidArgument, requestHashLength)
	}
	reqHash := hex.EncodeToString(requestHash)
	for range beginAttempts {
		out, claimed, err := s.tryClaim(ctx, pk, reqHash)
		if err != nil || claimed {
			return out, err
		}
		rec, found, err := s.get(ctx, pk)
		if err != nil {
			return Outcome{}, err
		}
		now := s.now()
		if !found || rec.expired(now) {
			continue // abandoned or expired in between: claim again
		}
		switch {
		case rec.requestHash != reqHash:
			return Outcome{Kind: Mismatch}, nil
		case rec.status == statusCompleted:
			return Outcome{Kind: Replay, Response: rec.response}, nil
		case rec.leaseUntil.After(now):
			return Outcome{Kind: InProgress}, nil
		}
		// An in-progress record whose lease ran out between our put and our
		// read: claim again.
	}
	return Outcome{}, fmt.Errorf("idempotency: begin: record kept changing after %d attempts", beginAttempts)
}

// tryClaim writes a fresh in-progress record unless a live one is in the way.
func (s *Store) tryClaim(ctx context.Context, pk, reqHash string) (Outcome, bool, error) {
	now := s.now()
	token, err := newToken()
	if err != nil {
		return Outcome{}, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK: str(pk), attrSK: str(sortKey), attrRequestHash: str(reqHash), attrStatus: str(statusInProgress),
			attrLeaseToken: str(token), attrLeaseUntil: num(now.Add(s.lease).UnixMilli()),
			attrCreatedAt: num(now.UnixMilli()), attrExpires: num(epochCeil(now.Add(s.ttl))),
		},
		// Absent, expired (TTL not yet applied), or in progress for this very
		// request with a lease that ran out.
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #exp <= :nowS OR " +
			"(#st = :inprog AND #lu <= :nowMs AND #rh = :rh)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#exp": attrExpires, "#st": attrStatus, "#lu": attrLeaseUntil, "#rh": attrRequestHash,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowS": num(now.Unix()), ":nowMs": num(now.UnixMilli()), ":inprog": str(statusInProgress), ":rh": str(reqHash),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return Outcome{Kind: Proceed, Lease: Lease{pk: pk, token: token}}, true, nil
	case errors.As(err, &ccf):
		return Outcome{}, false, nil
	default:
		return Outcome{}, false, fmt.Errorf("idempotency: put record: %w", err)
	}
}

type record struct {
	requestHash string
	status      string
	leaseUntil  time.Time
	expiresAt   int64
	response    Response
}

func (r record) expired(now time.Time) bool { return r.expiresAt <= now.Unix() }

func (s *Store) get(ctx context.Context, pk string) (record, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(pk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return record{}, false, fmt.Errorf("idempotency: get record: %w", err)
	}
	if len(out.Item) == 0 {
		return record{}, false, nil
	}
	it := out.Item
	r := record{requestHash: getS(it, attrRequestHash), status: getS(it, attrStatus)}
	var errs []error
	var n int64
	if n, err = getN(it, attrExpires); err != nil {
		errs = append(errs, err)
	}
	r.expiresAt = n
	if r.status == statusInProgress {
		if n, err = getN(it, attrLeaseUntil); err != nil {
			errs = append(errs, err)
		}
		r.leaseUntil = time.UnixMilli(n)
	}
	if r.status == statusCompleted {
		if n, err = getN(it, attrRespStatus); err != nil {
			errs = append(errs, err)
		}
		r.response.StatusCode = int(n)
		if b, ok := it[attrRespBody].(*types.AttributeValueMemberB); ok {
			r.response.Body = b.Value
		}
		if m, ok := it[attrRespHeaders].(*types.AttributeValueMemberM); ok {
			r.response.Headers = make(map[string]string, len(m.Value))
			for k, v := range m.Value {
				if sv, ok := v.(*types.AttributeValueMemberS); ok {
					r.response.Headers[k] = sv.Value
				}
			}
		}
	}
	if r.requestHash == "" || (r.status != statusInProgress && r.status != statusCompleted) {
		errs = append(errs, errors.New("missing request hash or unknown status"))
	}
	if len(errs) > 0 {
		return record{}, false, fmt.Errorf("idempotency: corrupt record: %w", errors.Join(errs...))
	}
	return r, true, nil
}

// Complete stores resp as the answer to every retry of the leased request.
func (s *Store) Complete(ctx context.Context, lease Lease, resp Response) error {
	u, err := s.completeUpdate(lease, resp)
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues,
	})
	return leaseErr("complete", err)
}

// CompleteItem is Complete as a transaction item, to append to the create's
// TransactWriteItems: the resource and the stored response commit together.
// A cancellation whose reason at this item's index is ConditionalCheckFailed
// means the lease was lost (treat like ErrLeaseLost; nothing was written).
func (s *Store) CompleteItem(lease Lease, resp Response) (types.TransactWriteItem, error) {
	u, err := s.completeUpdate(lease, resp)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: u}, nil
}

func (s *Store) completeUpdate(lease Lease, resp Response) (*types.Update, error) {
	if !lease.Valid() {
		return nil, fmt.Errorf("idempotency: complete: %w", ErrLeaseLost)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return nil, fmt.Errorf("%w: status code %d", ErrInvalidArgument, resp.StatusCode)
	}
	size := len(resp.Body)
	headers := make(map[string]types.AttributeValue, len(resp.Headers))
	for k, v := range resp.Headers {
		size += len(k) + len(v)
		headers[k] = str(v)
	}
	if size > s.maxResp {
		return nil, fmt.Errorf("idempotency: %w (%d > %d bytes)", ErrResponseTooLarge, size, s.maxResp)
	}
	set := "SET #st = :done, #rs = :rs"
	names := map[string]string{"#st": attrStatus, "#rs": attrRespStatus, "#tok": attrLeaseToken, "#lu": attrLeaseUntil}
	values := map[string]types.AttributeValue{
		":done": str(statusCompleted), ":rs": num(int64(resp.StatusCode)), ":inprog": str(statusInProgress), ":tok": str(lease.token),
	}
	// Empty maps and binaries are left out rather than stored empty.
	if len(headers) > 0 {
		set += ", #rh = :rh"
		names["#rh"] = attrRespHeaders
		values[":rh"] = &types.AttributeValueMemberM{Value: headers}
	}
	if len(resp.Body) > 0 {
		set += ", #rb = :rb"
		names["#rb"] = attrRespBody
		values[":rb"] = &types.AttributeValueMemberB{Value: resp.Body}
	}
	return &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(lease.pk),
		UpdateExpression:          aws.String(set + " REMOVE #tok, #lu"),
		ConditionExpression:       aws.String("#st = :inprog AND #tok = :tok"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}, nil
}

// Abandon releases the leased record after a failure that created nothing,
// so a retry runs the request again. ErrLeaseLost means the record is no
// longer this request's; callers log it and move on.
func (s *Store) Abandon(ctx context.Context, lease Lease) error {
	if !lease.Valid() {
		return fmt.Errorf("idempotency: abandon: %w", ErrLeaseLost)
	}
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(lease.pk),
		ConditionExpression:       aws.String("#st = :inprog AND #tok = :tok"),
		ExpressionAttributeNames:  map[string]string{"#st": attrStatus, "#tok": attrLeaseToken},
		ExpressionAttributeValues: map[string]types.AttributeValue{":inprog": str(statusInProgress), ":tok": str(lease.token)},
	})
	return leaseErr("abandon", err)
}

func leaseErr(op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return fmt.Errorf("idempotency: %s: %w", op, ErrLeaseLost)
	default:
		return fmt.Errorf("idempotency: %s: %w", op, err)
	}
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("idempotency: lease token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func itemKey(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sortKey)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s missing", name)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

// epochCeil is the TTL representation: whole seconds, rounded up so a
// lifetime is never shortened.
func epochCeil(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
