package domain

import (
	"time"

	"github.com/vip-platform/backend/shared/ids"
)

// Limits of user-supplied content, in Unicode code points for text. They are
// part of the public contract (api-docs/openapi.yaml repeats them).
const (
	MaxTitleLen          = 120
	MaxOrgNameLen        = 120
	MaxDescriptionLen    = 5000
	MaxInstructionsLen   = 5000
	MinMotivationLen     = 50
	MaxMotivationLen     = 3000
	MaxFeedbackLen       = 5000
	MaxReasonLen         = 2000
	MaxSubmissionTextLen = 20000

	MaxLinks   = 10
	MaxLinkLen = 2048

	MinCapacity = 1
	MaxCapacity = 1000

	MinSkills   = 1
	MaxSkills   = 10
	MaxSkillLen = 32

	MinMaxScore      = 1
	MaxMaxScore      = 1000
	MinDueOffsetDays = 1
	MaxDueOffsetDays = 730

	MaxTasksPerProgram      = 100
	MaxUploadsPerSubmission = 10
	// MaxSubmissionVersions bounds resubmissions of one task, so one
	// enrollment cannot grow a partition without limit.
	MaxSubmissionVersions = 20
)

// Lifetimes.
const (
	// InviteTTL is how long an invite code can be redeemed.
	InviteTTL = 7 * 24 * time.Hour
	// NotificationRetention is how long a notification stays in the inbox
	// (its expiresAt, the table's TTL attribute).
	NotificationRetention = 90 * 24 * time.Hour
)

// ID prefixes this package adds to those of package ids.
const (
	InvitePrefix       ids.Prefix = "inv"
	NotificationPrefix ids.Prefix = "ntf"
)

// stamp is the one time normalization of the package: UTC, milliseconds, so
// values survive a round trip through the store unchanged.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
