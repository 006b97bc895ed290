package programs

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/store"
)

// UserReader re-reads callers and actors.
type UserReader interface {
	GetUser(ctx context.Context, id string) (store.User, error)
}

// OrgStore is what organizations, invites and members need.
type OrgStore interface {
	CreateOrgWithInvite(ctx context.Context, o store.Org, inv store.Invite) error
	CreateInvite(ctx context.Context, inv store.Invite, extra ...types.TransactWriteItem) error
	ListOrgMembers(ctx context.Context, orgID string) ([]store.User, error)
	GetOrg(ctx context.Context, id string) (store.Org, error)
	GetOrgs(ctx context.Context, ids []string) (map[string]store.Org, error)
}

// ProgramStore is what programs need.
type ProgramStore interface {
	CreateProgram(ctx context.Context, p store.Program, extra ...types.TransactWriteItem) (store.Program, error)
	GetProgram(ctx context.Context, id string) (store.Program, error)
	UpdateProgram(ctx context.Context, p store.Program, expectedVersion int64) (store.Program, error)
	ListOrgPrograms(ctx context.Context, orgID string, limit int, start store.StartKey) (store.ProgramPage, error)
	ListOpenPrograms(ctx context.Context, skill string, limit int, start store.StartKey) (store.ProgramPage, error)
}

// TaskStore is what tasks need.
type TaskStore interface {
	ListTasks(ctx context.Context, programID string) ([]store.Task, error)
	GetTask(ctx context.Context, programID, taskID string) (store.Task, error)
	CreateTask(ctx context.Context, t store.Task, programStatus domain.ProgramStatus, extra ...types.TransactWriteItem) (store.Task, error)
	UpdateTask(ctx context.Context, t store.Task, programStatus domain.ProgramStatus, expectedVersion int64) (store.Task, error)
}

// EnrollmentReader finds an intern's enrollments (GET tasks by an enrolled
// intern).
type EnrollmentReader interface {
	ListInternEnrollments(ctx context.Context, internID string, limit int32, start map[string]types.AttributeValue) ([]store.Enrollment, map[string]types.AttributeValue, error)
}

// Store is everything the service reads and writes; *store.Store is the
// implementation. Each function is handed the one Store, so the interface
// is the union; its parts above say which operation needs what.
type Store interface {
	UserReader
	OrgStore
	ProgramStore
	TaskStore
	EnrollmentReader
}

var _ Store = (*store.Store)(nil)

// Idempotency remembers creates by Idempotency-Key.
type Idempotency interface {
	Begin(ctx context.Context, scope, callerID, key string, requestHash []byte) (idempotency.Outcome, error)
	CompleteItem(lease idempotency.Lease, resp idempotency.Response) (types.TransactWriteItem, error)
	Abandon(ctx context.Context, lease idempotency.Lease) error
}

var _ Idempotency = (*idempotency.Store)(nil)

// Sealer seals pagination cursors (shared/cursor).
type Sealer interface {
	SealKey(purpose string, key map[string]types.AttributeValue) (string, error)
	OpenKey(purpose, token string) (map[string]types.AttributeValue, error)
}

var _ Sealer = (*cursor.Sealer)(nil)

// Config holds the service's dependencies. Store, Audit and Now are
// required; Sealer only for the listings and Idempotency only for the
// creates, so each function wires what its routes use.
type Config struct {
	Store       Store
	Audit       audit.Auditor
	Sealer      Sealer
	Idempotency Idempotency
	Now         func() time.Time
}

// Service implements the organization, invite, program and task
// operations of the API and of admin-create-org.
type Service struct {
	store  Store
	audit  audit.Auditor
	sealer Sealer
	idem   Idempotency
	now    func() time.Time
}

// New returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Audit == nil || cfg.Now == nil {
		return nil, errors.New("programs: store, auditor and clock are required")
	}
	return &Service{store: cfg.Store, audit: cfg.Audit, sealer: cfg.Sealer, idem: cfg.Idempotency, now: cfg.Now}, nil
}

// errNoSealer and errNoIdempotency are wiring mistakes, answered 500.
var (
	errNoSealer      = errors.New("programs: listing without a cursor sealer")
	errNoIdempotency = errors.New("programs: Idempotency-Key given but no idempotency store wired")
)
