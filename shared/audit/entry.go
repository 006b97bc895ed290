package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Auditor records audit entries. Handlers depend on this interface so tests
// can substitute audittest.Recorder; *Writer is the DynamoDB implementation.
type Auditor interface {
	Append(ctx context.Context, e Entry) error
}

// Well-known actors for entries not caused by an authenticated user.
const (
	ActorSystem    = "system"
	ActorAnonymous = "anonymous"
)

// Outcomes an entry may record.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// Entry is one audited event. Free-form fields are truncated to their caps
// when written (an oversized attacker-supplied value must not cost the audit
// entry); structural errors are refused by Validate.
type Entry struct {
	// Actor is the acting user's public ID, or ActorSystem / ActorAnonymous.
	Actor string
	// ActorRole is the actor's role at the time ("intern", "admin", ...).
	ActorRole string
	// Action is a lower-case dotted name, e.g. "auth.login.failed",
	// "admin.user.suspend", "authz.denied".
	Action string
	// Target is what the action was applied to (a public ID, a route, ...).
	Target string
	// Outcome is OutcomeSuccess, OutcomeFailure or OutcomeDenied.
	Outcome string
	// Reason is a human explanation (an admin's stated reason, a denial rule).
	Reason string
	// RequestID ties the entry to logs and to the API response.
	RequestID string
	// SourceIP is the caller's address as API Gateway saw it.
	SourceIP string
	// Time is when the event happened; zero means "now" at Append.
	Time time.Time
	// Details holds a few small extra facts. Keys naming credentials are
	// refused (see Validate): audit entries must never hold passwords,
	// tokens, codes or hashes of them.
	Details map[string]string
}

// Limits on entries. Free-form fields beyond their cap are truncated at a
// rune boundary.
const (
	MaxDetails        = 16
	MaxDetailKeyLen   = 64
	MaxDetailValueLen = 256
	maxActionLen      = 64
	maxActorLen       = 128
	maxRoleLen        = 32
	maxTargetLen      = 256
	maxReasonLen      = 1024
	maxRequestIDLen   = 128
	maxSourceIPLen    = 64
)

// deniedDetailWords may not appear in a Details key (compared
// case-insensitively, ignoring "_", "-" and "."). The match is deliberately
// coarse: "refresh_token", "tokenFamily", "errorCode" and "prevHash" are all
// refused; name such facts differently ("family", "error").
var deniedDetailWords = []string{"password", "passwd", "token", "secret", "code", "otp", "hash", "credential", "apikey", "cookie"}

// ErrInvalidEntry is returned (wrapped) for an entry Validate refuses.
var ErrInvalidEntry = errors.New("invalid audit entry")

var (
	actionPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$`)
	detailKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
)

// Validate reports structural problems: a missing actor, a malformed action,
// an unknown outcome, too many details, or a Details key that names a
// credential — one containing password, passwd, token, secret, code, otp,
// hash, credential, apikey or cookie, compared case-insensitively and ignoring
// "_", "-" and ".". The match is deliberately coarse ("errorCode" and
// "tokenFamily" are refused too; call them "error" and "family").
func (e Entry) Validate() error {
	var errs []error
	if strings.TrimSpace(e.Actor) == "" {
		errs = append(errs, errors.New("actor is required"))
	}
	if len(e.Action) > maxActionLen || !actionPattern.MatchString(e.Action) {
		errs = append(errs, fmt.Errorf("action %q is not a lower-case dotted name", truncate(e.Action, maxActionLen)))
	}
	switch e.Outcome {
	case OutcomeSuccess, OutcomeFailure, OutcomeDenied:
	default:
		errs = append(errs, fmt.Errorf("outcome %q is not success, failure or denied", truncate(e.Outcome, 16)))
	}
	if len(e.Details) > MaxDetails {
		errs = append(errs, fmt.Errorf("%d details, at most %d", len(e.Details), MaxDetails))
	}
	for k := range e.Details {
		if len(k) > MaxDetailKeyLen || !detailKeyPattern.MatchString(k) {
			errs = append(errs, fmt.Errorf("detail key %q is malformed", truncate(k, MaxDetailKeyLen)))
			continue
		}
		if w := deniedWord(k); w != "" {
			errs = append(errs, fmt.Errorf("detail key %q looks like a credential (%q)", k, w))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidEntry, errors.Join(errs...))
	}
	return nil
}

func deniedWord(key string) string {
	norm := strings.NewReplacer("_", "", "-", "", ".", "").Replace(strings.ToLower(key))
	for _, w := range deniedDetailWords {
		if strings.Contains(norm, w) {
			return w
		}
	}
	return ""
}

// normalized returns the entry as it is stored and hashed: valid UTF-8,
// free-form fields truncated, time in UTC (now when unset).
func (e Entry) normalized(now time.Time) Entry {
	n := Entry{
		Actor:     clean(e.Actor, maxActorLen),
		ActorRole: clean(e.ActorRole, maxRoleLen),
		Action:    e.Action,
		Target:    clean(e.Target, maxTargetLen),
		Outcome:   e.Outcome,
		Reason:    clean(e.Reason, maxReasonLen),
		RequestID: clean(e.RequestID, maxRequestIDLen),
		SourceIP:  clean(e.SourceIP, maxSourceIPLen),
		Time:      e.Time.UTC(),
	}
	if e.Time.IsZero() {
		n.Time = now.UTC()
	}
	if len(e.Details) > 0 {
		n.Details = make(map[string]string, len(e.Details))
		for k, v := range e.Details {
			n.Details[k] = clean(v, MaxDetailValueLen)
		}
	}
	return n
}

func clean(s string, limit int) string {
	return truncate(strings.ToValidUTF8(s, "\uFFFD"), limit)
}

// truncate cuts s to at most limit bytes without splitting a rune.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
