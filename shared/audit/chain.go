package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// formatVersion is the canonical-form version recorded in every item, so the
// form can evolve without invalidating older entries.
const formatVersion = 1

const (
	pkPrefix  = "CHAIN#"
	skPrefix  = "SEQ#"
	seqDigits = 20
)

// Attribute names of an audit item.
const (
	attrPK        = "PK"
	attrSK        = "SK"
	attrVersion   = "v"
	attrSeq       = "seq"
	attrPrevHash  = "prevHash"
	attrHash      = "hash"
	attrTime      = "time"
	attrActor     = "actor"
	attrActorRole = "actorRole"
	attrAction    = "action"
	attrTarget    = "target"
	attrOutcome   = "outcome"
	attrReason    = "reason"
	attrRequestID = "requestId"
	attrSourceIP  = "sourceIp"
	attrDetails   = "details"
)

// record is an entry as stored and hashed: every value a string, exactly as
// it appears in the item.
type record struct {
	shard    int
	seq      uint64
	prevHash string
	hash     string
	c        canonicalEntry
}

// canonicalEntry fixes the member order of the canonical JSON (see the package
// documentation); encoding/json emits struct fields in declaration order and
// map keys sorted.
type canonicalEntry struct {
	V         int               `json:"v"`
	Time      string            `json:"time"`
	Actor     string            `json:"actor"`
	ActorRole string            `json:"actorRole"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	Outcome   string            `json:"outcome"`
	Reason    string            `json:"reason"`
	RequestID string            `json:"requestId"`
	SourceIP  string            `json:"sourceIp"`
	Details   map[string]string `json:"details"`
}

func shardPK(shard int) string { return pkPrefix + strconv.Itoa(shard) }

func seqSK(seq uint64) string { return fmt.Sprintf("%s%0*d", skPrefix, seqDigits, seq) }

func parseSK(sk string) (uint64, bool) {
	digits, ok := strings.CutPrefix(sk, skPrefix)
	if !ok || len(digits) != seqDigits {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil && n > 0
}

// genesis is the "previous hash" of a shard's first entry.
func genesis(shard int) []byte {
	h := sha256.Sum256([]byte("vip-audit-genesis/" + strconv.Itoa(shard)))
	return h[:]
}

func canonical(c canonicalEntry) ([]byte, error) {
	if c.Details == nil {
		c.Details = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("canonical entry: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// chainHash computes SHA-256(prev || canonical || seq big-endian).
func chainHash(prev []byte, c canonicalEntry, seq uint64) (string, error) {
	body, err := canonical(c)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	h.Write(s[:])
	return hex.EncodeToString(h.Sum(nil)), nil
}

func canonicalOf(e Entry) canonicalEntry {
	return canonicalEntry{
		V:         formatVersion,
		Time:      e.Time.UTC().Format(time.RFC3339Nano),
		Actor:     e.Actor,
		ActorRole: e.ActorRole,
		Action:    e.Action,
		Target:    e.Target,
		Outcome:   e.Outcome,
		Reason:    e.Reason,
		RequestID: e.RequestID,
		SourceIP:  e.SourceIP,
		Details:   maps.Clone(e.Details),
	}
}

func (r record) item() map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrPK:       &types.AttributeValueMemberS{Value: shardPK(r.shard)},
		attrSK:       &types.AttributeValueMemberS{Value: seqSK(r.seq)},
		attrVersion:  &types.AttributeValueMemberN{Value: strconv.Itoa(r.c.V)},
		attrSeq:      &types.AttributeValueMemberN{Value: strconv.FormatUint(r.seq, 10)},
		attrPrevHash: &types.AttributeValueMemberS{Value: r.prevHash},
		attrHash:     &types.AttributeValueMemberS{Value: r.hash},
		attrTime:     &types.AttributeValueMemberS{Value: r.c.Time},
		attrActor:    &types.AttributeValueMemberS{Value: r.c.Actor},
		attrAction:   &types.AttributeValueMemberS{Value: r.c.Action},
		attrOutcome:  &types.AttributeValueMemberS{Value: r.c.Outcome},
	}
	for name, v := range map[string]string{
		attrActorRole: r.c.ActorRole,
		attrTarget:    r.c.Target,
		attrReason:    r.c.Reason,
		attrRequestID: r.c.RequestID,
		attrSourceIP:  r.c.SourceIP,
	} {
		if v != "" {
			item[name] = &types.AttributeValueMemberS{Value: v}
		}
	}
	if len(r.c.Details) > 0 {
		d := make(map[string]types.AttributeValue, len(r.c.Details))
		for k, v := range r.c.Details {
			d[k] = &types.AttributeValueMemberS{Value: v}
		}
		item[attrDetails] = &types.AttributeValueMemberM{Value: d}
	}
	return item
}

// parseItem turns a stored item back into a record, refusing anything outside
// the documented layout: an unexpected attribute is tampering too.
func parseItem(item map[string]types.AttributeValue) (record, error) {
	var r record
	strs := map[string]*string{
		attrPK: new(string), attrSK: new(string),
		attrPrevHash: &r.prevHash, attrHash: &r.hash,
		attrTime: &r.c.Time, attrActor: &r.c.Actor, attrActorRole: &r.c.ActorRole,
		attrAction: &r.c.Action, attrTarget: &r.c.Target, attrOutcome: &r.c.Outcome,
		attrReason: &r.c.Reason, attrRequestID: &r.c.RequestID, attrSourceIP: &r.c.SourceIP,
	}
	required := []string{attrPK, attrSK, attrVersion, attrSeq, attrPrevHash, attrHash, attrTime, attrActor, attrAction, attrOutcome}
	for _, name := range required {
		if _, ok := item[name]; !ok {
			return r, fmt.Errorf("missing attribute %q", name)
		}
	}
	var seqAttr uint64
	for name, av := range item {
		switch name {
		case attrVersion, attrSeq:
			n, ok := av.(*types.AttributeValueMemberN)
			if !ok {
				return r, fmt.Errorf("attribute %q is not a number", name)
			}
			v, err := strconv.ParseUint(n.Value, 10, 64)
			if err != nil {
				return r, fmt.Errorf("attribute %q: %w", name, err)
			}
			if name == attrVersion {
				if v != formatVersion {
					return r, fmt.Errorf("unknown format version %d", v)
				}
				r.c.V = int(v)
			} else {
				seqAttr = v
			}
		case attrDetails:
			m, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				return r, fmt.Errorf("attribute %q is not a map", name)
			}
			r.c.Details = make(map[string]string, len(m.Value))
			for k, dv := range m.Value {
				s, ok := dv.(*types.AttributeValueMemberS)
				if !ok {
					return r, fmt.Errorf("detail %q is not a string", k)
				}
				r.c.Details[k] = s.Value
			}
		default:
			dst, known := strs[name]
			if !known {
				return r, fmt.Errorf("unexpected attribute %q", name)
			}
			s, ok := av.(*types.AttributeValueMemberS)
			if !ok {
				return r, fmt.Errorf("attribute %q is not a string", name)
			}
			*dst = s.Value
		}
	}
	pk := *strs[attrPK]
	shard, err := strconv.Atoi(strings.TrimPrefix(pk, pkPrefix))
	if !strings.HasPrefix(pk, pkPrefix) || err != nil || shard < 0 {
		return r, fmt.Errorf("bad partition key %q", pk)
	}
	r.shard = shard
	seq, ok := parseSK(*strs[attrSK])
	if !ok {
		return r, fmt.Errorf("bad sort key %q", *strs[attrSK])
	}
	r.seq = seq
	if seqAttr != seq {
		return r, fmt.Errorf("seq attribute %d does not match sort key %d", seqAttr, seq)
	}
	return r, nil
}
