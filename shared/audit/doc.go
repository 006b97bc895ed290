// Package audit writes and verifies the append-only, hash-chained audit log
// kept in the audit table (template.yaml: AuditTable).
//
// # Chains and shards
//
// Entries go to one of N chains ("shards", default 4) so that one hot
// partition does not serialise every writer. Each shard is an independent
// hash chain. Append picks a shard at random, reads its head with a
// consistent Query, and writes seq = head+1 with a PutItem conditioned on
// attribute_not_exists(PK); a concurrent writer that took the same seq makes
// the put fail, and Append re-reads and retries (bounded, jittered, possibly on
// another shard). Chains therefore never fork. The package needs only PutItem
// and Query: nothing here can update or delete an audit item, which is what
// the template's IAM grants allow.
//
// The shard count may grow over time but must never shrink; the Verifier must
// be configured with the largest count ever used.
//
// # Item layout (audit table)
//
//	PK        S  "CHAIN#<shard>"                 shard in decimal, e.g. CHAIN#0
//	SK        S  "SEQ#<seq, 20 digits>"          seq starts at 1, e.g. SEQ#00000000000000000001
//	v         N  canonical format version (1)
//	seq       N  seq again, so a renamed SK is detected
//	prevHash  S  hex SHA-256 of the previous entry (genesis for seq 1)
//	hash      S  hex SHA-256 of this entry (below)
//	time      S  RFC 3339, nanoseconds, UTC
//	actor, action, outcome                         S, always present
//	actorRole, target, reason, requestId, sourceIp S, omitted when empty
//	details   M  of S, omitted when empty
//
// # Hash
//
//	hash(seq) = SHA-256( prev(32 bytes) || canonical || seq as 8-byte big-endian )
//
// where prev is the raw previous hash, or for seq 1 the shard's genesis value
// SHA-256("vip-audit-genesis/<shard>") (so chains cannot be swapped between
// shards), and canonical is the UTF-8 JSON object, without whitespace, with
// exactly these members in this order:
//
//	{"v":1,"time":…,"actor":…,"actorRole":…,"action":…,"target":…,
//	 "outcome":…,"reason":…,"requestId":…,"sourceIp":…,"details":{…}}
//
// All values are strings ("" when absent); details members are sorted by key
// ({} when empty). Strings are escaped as Go's encoding/json does with HTML
// escaping off: ", \ and control characters, plus U+2028 and U+2029.
// Values are stored exactly as hashed, so the Verifier recomputes from the
// item alone.
//
// # What verification proves
//
// Verify detects a changed entry (hash mismatch), a deleted entry (sequence
// gap, or prev-hash mismatch if later entries were renumbered), an inserted
// or appended forgery that does not carry the right previous hash, and any
// attribute outside the layout above. A hash chain without a key cannot
// detect removal of the newest entries or a wholesale recomputed rewrite by
// someone with write access; Report carries each shard's head (seq, hash) so
// it can be compared with the copy streamed to the Object Lock bucket.
package audit
