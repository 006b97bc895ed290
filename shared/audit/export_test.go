package audit

import (
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CanonicalForTest exposes the canonical form of an entry as it would be
// stored (normalised, with now as the time of an entry without one).
func CanonicalForTest(e Entry, now time.Time) (string, error) {
	b, err := canonical(canonicalOf(e.normalized(now)))
	return string(b), err
}

// RehashForTest recomputes an item's hash from its own content and stored
// prevHash, as a forger with write access would.
func RehashForTest(item map[string]types.AttributeValue) (string, error) {
	r, err := parseItem(item)
	if err != nil {
		return "", err
	}
	prev, err := hex.DecodeString(r.prevHash)
	if err != nil {
		return "", err
	}
	return chainHash(prev, r.c, r.seq)
}
