package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

// Application is a stored application: the domain entity itself, so the
// rules of shared/domain (Withdraw, Accept, Reject, VisibleTo) run on what
// the store returns.
type Application = domain.Application

// Sentinel errors of the application transactions.
var (
	// ErrAlreadyApplied: the intern already has a live (pending or
	// accepted) application to this program.
	ErrAlreadyApplied = errors.New("already applied to this program")
	// ErrProgramNotAccepting: the program is no longer in a state that
	// allows the write (apply needs open; a decision open or closed); it
	// changed after the caller read it.
	ErrProgramNotAccepting = errors.New("program does not accept this change in its current state")
	// ErrProgramFull: every seat of the program is taken.
	ErrProgramFull = errors.New("program is full")
	// ErrExtraItemFailed: the condition of a caller-supplied transaction
	// item failed (e.g. an idempotency lease that was lost); nothing was
	// written.
	ErrExtraItemFailed = errors.New("condition of an extra transaction item failed")
)

// applicationItem is the stored application (docs/data-model.md).
type applicationItem struct {
	PK           string     `dynamodbav:"PK"`
	SK           string     `dynamodbav:"SK"`
	GSI1PK       string     `dynamodbav:"GSI1PK"`
	GSI1SK       string     `dynamodbav:"GSI1SK"`
	GSI2PK       string     `dynamodbav:"GSI2PK"`
	GSI2SK       string     `dynamodbav:"GSI2SK"`
	Type         string     `dynamodbav:"type"`
	ID           string     `dynamodbav:"id"`
	ProgramID    string     `dynamodbav:"programId"`
	OrgID        string     `dynamodbav:"orgId"`
	InternID     string     `dynamodbav:"internId"`
	Motivation   string     `dynamodbav:"motivation"`
	Status       string     `dynamodbav:"status"`
	Reason       string     `dynamodbav:"reason,omitempty"`
	DecidedBy    string     `dynamodbav:"decidedBy,omitempty"`
	DecidedAt    *time.Time `dynamodbav:"decidedAt,omitempty"`
	MentorID     string     `dynamodbav:"mentorId,omitempty"`
	EnrollmentID string     `dynamodbav:"enrollmentId,omitempty"`
	WithdrawnAt  *time.Time `dynamodbav:"withdrawnAt,omitempty"`
	CreatedAt    time.Time  `dynamodbav:"createdAt"`
	UpdatedAt    time.Time  `dynamodbav:"updatedAt"`
	Version      int64      `dynamodbav:"version"`
}

// appLockItem is the live-application lock: one per intern and program
// while an application is pending or accepted.
type appLockItem struct {
	PK            string    `dynamodbav:"PK"`
	SK            string    `dynamodbav:"SK"`
	Type          string    `dynamodbav:"type"`
	ApplicationID string    `dynamodbav:"applicationId"`
	CreatedAt     time.Time `dynamodbav:"createdAt"`
}

const typeApplication = "application"

func applicationPK(id string) string { return "APP#" + id }

func applicationKey(id string) map[string]types.AttributeValue {
	return key(applicationPK(id), skProfile)
}

// programAppsPK and internAppsPK are the GSI1 and GSI2 partitions listing a
// program's and an intern's applications.
func programAppsPK(programID string) string { return programPK(programID) + "#APPS" }
func internAppsPK(internID string) string   { return userPK(internID) + "#APPS" }

func appLockKey(programID, internID string) map[string]types.AttributeValue {
	return key(programPK(programID), "APPLIVE#"+internID)
}

func toApplicationItem(a Application) applicationItem {
	return applicationItem{
		PK: applicationPK(a.ID), SK: skProfile,
		GSI1PK: programAppsPK(a.ProgramID), GSI1SK: listSortKey(a.CreatedAt, a.ID),
		GSI2PK: internAppsPK(a.InternID), GSI2SK: listSortKey(a.CreatedAt, a.ID),
		Type: typeApplication, ID: a.ID, ProgramID: a.ProgramID, OrgID: a.OrgID, InternID: a.InternID,
		Motivation: a.Motivation, Status: string(a.Status), Reason: a.RejectReason,
		DecidedBy: a.DecidedBy, DecidedAt: optTime(a.DecidedAt), MentorID: a.MentorID,
		EnrollmentID: a.EnrollmentID, WithdrawnAt: optTime(a.WithdrawnAt),
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(), Version: a.Version,
	}
}

func (it applicationItem) application() Application {
	return Application{
		ID: it.ID, ProgramID: it.ProgramID, OrgID: it.OrgID, InternID: it.InternID,
		Motivation: it.Motivation, Status: domain.ApplicationStatus(it.Status),
		DecidedBy: it.DecidedBy, DecidedAt: fromOpt(it.DecidedAt), RejectReason: it.Reason,
		MentorID: it.MentorID, EnrollmentID: it.EnrollmentID, WithdrawnAt: fromOpt(it.WithdrawnAt),
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version,
	}
}

func decodeApplication(av map[string]types.AttributeValue) (Application, error) {
	var it applicationItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Application{}, fmt.Errorf("decode application: %w", err)
	}
	if it.Type != typeApplication {
		return Application{}, fmt.Errorf("decode application: item of type %q", it.Type)
	}
	return it.application(), nil
}

func checkApplicationIDs(a Application) error {
	switch {
	case !ids.Valid(a.ID, ids.Application):
		return errors.New("invalid application id")
	case !ids.Valid(a.ProgramID, ids.Program):
		return errors.New("invalid program id")
	case !ids.Valid(a.OrgID, ids.Org):
		return errors.New("invalid org id")
	case !ids.Valid(a.InternID, ids.User):
		return errors.New("invalid intern id")
	}
	return nil
}

// CreateApplication stores a new pending application (from
// domain.NewApplication) in one transaction with the live-application lock
// (attribute_not_exists) and a check that the program is still open, so
// two concurrent applies of one intern to one program store exactly one
// (ErrAlreadyApplied for the other) and nothing is stored for a program
// that closed after the caller read it (ErrProgramNotAccepting). Version
// starts at 1.
//
// extra items join the same transaction: the idempotency record's
// completion (idempotency.Store.CompleteItem), so the application and the
// response a retry replays commit together. A failed condition on an extra
// item is ErrExtraItemFailed (nothing was written).
func (s *Store) CreateApplication(ctx context.Context, a Application, extra ...types.TransactWriteItem) (Application, error) {
	if err := checkApplicationIDs(a); err != nil {
		return Application{}, wrap("create application", err)
	}
	if a.Status != domain.ApplicationPending || a.CreatedAt.IsZero() {
		return Application{}, wrap("create application", errors.New("a new application must be pending and have createdAt"))
	}
	a.Version = 1
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	appAV, err := attributevalue.MarshalMap(toApplicationItem(a))
	if err != nil {
		return Application{}, wrap("create application", fmt.Errorf("encode application: %w", err))
	}
	lock := appLockItem{Type: "applock", ApplicationID: a.ID, CreatedAt: a.CreatedAt.UTC()}
	lockAV, err := attributevalue.MarshalMap(lock)
	if err != nil {
		return Application{}, wrap("create application", fmt.Errorf("encode lock: %w", err))
	}
	for k, v := range appLockKey(a.ProgramID, a.InternID) {
		lockAV[k] = v
	}
	notExists := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: appAV, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: lockAV, ConditionExpression: notExists}},
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: programKey(a.ProgramID),
			ConditionExpression:       aws.String("#status = :open AND #org = :org"),
			ExpressionAttributeNames:  map[string]string{"#status": attrStatus, "#org": "orgId"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":open": str(string(domain.ProgramOpen)), ":org": str(a.OrgID)},
		}},
	}
	items = append(items, extra...)
	codes, err := s.transactRetry(ctx, items)
	switch {
	case err == nil:
		return a, nil
	case reasonAt(codes, 1) == codeConditionFailed:
		return Application{}, wrap("create application", ErrAlreadyApplied)
	case reasonAt(codes, 2) == codeConditionFailed:
		return Application{}, wrap("create application", ErrProgramNotAccepting)
	case reasonAt(codes, 0) == codeConditionFailed:
		return Application{}, wrap("create application", fmt.Errorf("application id exists: %w", ErrConflict))
	}
	for i := range extra {
		if reasonAt(codes, 3+i) == codeConditionFailed {
			return Application{}, wrap("create application", ErrExtraItemFailed)
		}
	}
	return Application{}, wrap("create application", err)
}

// transactRetry runs one TransactWriteItems, retrying (a few times, with
// jittered back-off) a cancellation caused only by rival transactions
// (TransactionConflict): concurrent accepts of one program all touch the
// program item, and the losers of such a race must be re-evaluated against
// the committed state rather than fail. codes holds the cancellation reasons
// of the last attempt (nil when err is not a cancellation); a
// ConditionalCheckFailed is final and returned at once.
func (s *Store) transactRetry(ctx context.Context, items []types.TransactWriteItem) (codes []string, err error) {
	const attempts = 5
	for attempt := 1; ; attempt++ {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var ok bool
		codes, ok = cancellation(err)
		if !ok || attempt == attempts || !onlyRivalConflicts(codes) {
			if ok {
				err = fmt.Errorf("%w: %w", ErrConflict, err)
			}
			return codes, err
		}
		backoff := time.Duration(attempt*10+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return codes, ctx.Err()
		case <-time.After(backoff):
		}
	}
}

func onlyRivalConflicts(codes []string) bool {
	conflict := false
	for _, c := range codes {
		switch c {
		case "", "None":
		case "TransactionConflict":
			conflict = true
		default:
			return false
		}
	}
	return conflict
}

// GetApplication reads one application (strongly consistent); ErrNotFound
// also for a malformed ID.
func (s *Store) GetApplication(ctx context.Context, id string) (Application, error) {
	if !ids.Valid(id, ids.Application) {
		return Application{}, wrap("get application", ErrNotFound)
	}
	return getDecoded(ctx, s, "get application", applicationKey(id), decodeApplication)
}

// ListProgramApplications returns one page of a program's applications,
// oldest first (GSI1), only those with status when status is not "". limit
// is 1..MaxPageSize; start is the previous page's next key (nil for the
// first page) and must belong to this program's listing
// (ErrInvalidStartKey). With a status filter a page may come back short but
// with a next key: one call reads a bounded part of the partition.
func (s *Store) ListProgramApplications(ctx context.Context, programID string, status domain.ApplicationStatus, limit int32, start StartKey) ([]Application, StartKey, error) {
	if !ids.Valid(programID, ids.Program) {
		return nil, nil, wrap("list program applications", ErrNotFound)
	}
	q := gsi1Query(programAppsPK(programID), applicationPK(""), false)
	if status != "" {
		switch status {
		case domain.ApplicationPending, domain.ApplicationAccepted, domain.ApplicationRejected, domain.ApplicationWithdrawn:
		default:
			return nil, nil, wrap("list program applications", fmt.Errorf("unknown status %q", status))
		}
		q.filter = "#status = :status"
		q.names = map[string]string{"#status": attrStatus}
		q.values = map[string]types.AttributeValue{":status": str(string(status))}
	}
	return s.listApplications(ctx, "list program applications", q, limit, start)
}

// ListInternApplications returns one page of the intern's applications,
// newest first (GSI2); paging as for ListProgramApplications.
func (s *Store) ListInternApplications(ctx context.Context, internID string, limit int32, start StartKey) ([]Application, StartKey, error) {
	if !ids.Valid(internID, ids.User) {
		return nil, nil, wrap("list intern applications", ErrNotFound)
	}
	return s.listApplications(ctx, "list intern applications", gsi2Query(internAppsPK(internID), applicationPK(""), true), limit, start)
}

func (s *Store) listApplications(ctx context.Context, op string, q pagedQuery, limit int32, start StartKey) ([]Application, StartKey, error) {
	return listDecoded(ctx, s, op, q, limit, start, decodeApplication)
}

// decisionUpdate is the application update every decision transaction
// shares: write the decided (or withdrawn) state, conditioned on the
// application still being pending at expectedVersion.
func (s *Store) decisionUpdate(a Application, expectedVersion int64) (types.TransactWriteItem, error) {
	it := toApplicationItem(a)
	set := map[string]any{
		"status": it.Status, "updatedAt": it.UpdatedAt,
	}
	if it.Reason != "" {
		set["reason"] = it.Reason
	}
	if it.DecidedBy != "" {
		set["decidedBy"] = it.DecidedBy
	}
	if it.DecidedAt != nil {
		set["decidedAt"] = *it.DecidedAt
	}
	if it.MentorID != "" {
		set["mentorId"] = it.MentorID
	}
	if it.EnrollmentID != "" {
		set["enrollmentId"] = it.EnrollmentID
	}
	if it.WithdrawnAt != nil {
		set["withdrawnAt"] = *it.WithdrawnAt
	}
	names := map[string]string{"#version": attrVersion, "#status": attrStatus}
	values := map[string]types.AttributeValue{
		":expected": num(expectedVersion), ":next": num(expectedVersion + 1),
		":pending": str(string(domain.ApplicationPending)),
	}
	expr := "SET #version = :next"
	i := 0
	for name, v := range set {
		av, err := attributevalue.Marshal(v)
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("encode %s: %w", name, err)
		}
		n, ph := fmt.Sprintf("#d%d", i), fmt.Sprintf(":d%d", i)
		names[n], values[ph] = name, av
		expr += ", " + n + " = " + ph
		i++
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       applicationKey(a.ID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#status = :pending AND #version = :expected"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, nil
}

// lockDelete releases the live-application lock of a, only if it is a's
// (it always is while a is pending).
func (s *Store) lockDelete(a Application) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 aws.String(s.table),
		Key:                       appLockKey(a.ProgramID, a.InternID),
		ConditionExpression:       aws.String("applicationId = :app"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":app": str(a.ID)},
	}}
}

// decided checks the state a decision writes and returns it with the next
// version.
func decided(a Application, want domain.ApplicationStatus, expectedVersion int64) (Application, error) {
	if err := checkApplicationIDs(a); err != nil {
		return Application{}, err
	}
	if a.Status != want {
		return Application{}, fmt.Errorf("application status %q, want %q", a.Status, want)
	}
	if expectedVersion < 1 {
		return Application{}, errors.New("expected version must be positive")
	}
	a.Version = expectedVersion + 1
	return a, nil
}

// WithdrawApplication writes a (withdrawn by domain.Application.Withdraw)
// if the stored application is still pending at expectedVersion, and
// releases the live-application lock, in one transaction. ErrConflict when
// the application changed or was decided meanwhile (re-read it to tell a
// stale version from a final state). It returns a as stored.
func (s *Store) WithdrawApplication(ctx context.Context, a Application, expectedVersion int64) (Application, error) {
	a, err := decided(a, domain.ApplicationWithdrawn, expectedVersion)
	if err != nil {
		return Application{}, wrap("withdraw application", err)
	}
	upd, err := s.decisionUpdate(a, expectedVersion)
	if err != nil {
		return Application{}, wrap("withdraw application", err)
	}
	if _, err := s.transactRetry(ctx, []types.TransactWriteItem{upd, s.lockDelete(a)}); err != nil {
		return Application{}, wrap("withdraw application", err)
	}
	return a, nil
}

// RejectApplication writes a (rejected by domain.Application.Reject) if
// the stored application is still pending at expectedVersion, releases the
// live-application lock (the intern may apply again while the window is
// open) and puts the intern's notification, in one transaction. ErrConflict
// as for WithdrawApplication. It returns a as stored.
func (s *Store) RejectApplication(ctx context.Context, a Application, expectedVersion int64, notify Notification) (Application, error) {
	a, err := decided(a, domain.ApplicationRejected, expectedVersion)
	if err != nil {
		return Application{}, wrap("reject application", err)
	}
	upd, err := s.decisionUpdate(a, expectedVersion)
	if err != nil {
		return Application{}, wrap("reject application", err)
	}
	ntf, err := s.NotificationPutItem(notify)
	if err != nil {
		return Application{}, wrap("reject application", err)
	}
	if _, err := s.transactRetry(ctx, []types.TransactWriteItem{upd, s.lockDelete(a), ntf}); err != nil {
		return Application{}, wrap("reject application", err)
	}
	return a, nil
}

// AcceptApplication writes, in ONE transaction:
//
//  0. a (accepted by domain.Application.Accept), if the stored application
//     is still pending at expectedVersion;
//  1. the program's `ADD enrolledCount 1`, conditioned on enrolledCount <
//     capacity and the program being open or closed;
//  2. the enrollment e (attribute_not_exists);
//  3. the intern's notification.
//
// So concurrent accepts never overfill a program: the program condition
// fails for every accept past the last seat (ErrProgramFull), whatever the
// interleaving. The program's version is not bumped: seats are not an edit
// of the program by its org admin, and bumping it would make every open
// edit form stale on each accept. ErrConflict when the application changed
// meanwhile; ErrProgramNotAccepting when the program was archived (or
// never existed). It returns a as stored.
func (s *Store) AcceptApplication(ctx context.Context, a Application, expectedVersion int64, e Enrollment, notify Notification) (Application, error) {
	a, err := decided(a, domain.ApplicationAccepted, expectedVersion)
	if err != nil {
		return Application{}, wrap("accept application", err)
	}
	if err := checkNewEnrollment(e); err != nil {
		return Application{}, wrap("accept application", err)
	}
	if e.ApplicationID != a.ID || e.ProgramID != a.ProgramID || e.OrgID != a.OrgID || e.InternID != a.InternID ||
		e.ID != a.EnrollmentID || e.MentorID != a.MentorID {
		return Application{}, wrap("accept application", errors.New("enrollment does not match the application"))
	}
	e.Version = 1
	upd, err := s.decisionUpdate(a, expectedVersion)
	if err != nil {
		return Application{}, wrap("accept application", err)
	}
	enrAV, err := attributevalue.MarshalMap(toEnrollmentItem(e))
	if err != nil {
		return Application{}, wrap("accept application", fmt.Errorf("encode enrollment: %w", err))
	}
	ntf, err := s.NotificationPutItem(notify)
	if err != nil {
		return Application{}, wrap("accept application", err)
	}
	items := []types.TransactWriteItem{
		upd,
		{Update: &types.Update{
			TableName:        aws.String(s.table),
			Key:              programKey(a.ProgramID),
			UpdateExpression: aws.String("ADD #enrolled :one"),
			ConditionExpression: aws.String("attribute_exists(PK) AND #org = :org AND #enrolled < #capacity AND " +
				"(#status = :open OR #status = :closed)"),
			ExpressionAttributeNames: map[string]string{
				"#enrolled": "enrolledCount", "#capacity": "capacity", "#status": attrStatus, "#org": "orgId",
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":org": str(a.OrgID),
				":open": str(string(domain.ProgramOpen)), ":closed": str(string(domain.ProgramClosed)),
			},
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: enrAV, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		ntf,
	}
	codes, err := s.transactRetry(ctx, items)
	switch {
	case err == nil:
		return a, nil
	case reasonAt(codes, 0) == codeConditionFailed:
		return Application{}, wrap("accept application", fmt.Errorf("application changed: %w", ErrConflict))
	case reasonAt(codes, 1) == codeConditionFailed:
		return Application{}, wrap("accept application", s.whyProgramRefused(ctx, a.ProgramID))
	}
	return Application{}, wrap("accept application", err)
}

// whyProgramRefused tells a full program from one in a state that takes
// no decision, after the accept's program condition failed.
func (s *Store) whyProgramRefused(ctx context.Context, programID string) error {
	it, err := s.getProgram(ctx, programID)
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrProgramNotAccepting
	case err != nil:
		return err
	case it.Status != string(domain.ProgramOpen) && it.Status != string(domain.ProgramClosed):
		return ErrProgramNotAccepting
	case it.EnrolledCount >= it.Capacity:
		return ErrProgramFull
	}
	// The condition failed but holds now: a seat was freed meanwhile,
	// which no code path does today. Report a retryable conflict.
	return fmt.Errorf("program changed: %w", ErrConflict)
}
