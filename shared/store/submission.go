package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
)

// Submission statuses, as stored and as the API shows them
// (api-docs/openapi.yaml Submission.status). A submission is "submitted"
// until its single review turns it into the review's decision.
const (
	SubmissionSubmitted        = "submitted"
	SubmissionAccepted         = "accepted"
	SubmissionChangesRequested = "changes_requested"
)

// MaxSubmissionVersion is the highest version the 4-digit version keys
// can hold; the domain's own limit (domain.MaxSubmissionVersions) is far
// below it.
const MaxSubmissionVersion = 9999

// Review is the one review of a submission version, stored inside the
// submission item and written once (attribute_not_exists(review)).
type Review struct {
	ID        string
	MentorID  string
	Score     int
	Feedback  string
	Decision  string
	CreatedAt time.Time
}

// Submission is one version of an intern's work on one task of one
// enrollment. Every version is its own item; none is ever overwritten, only
// its review and status are written, once.
type Submission struct {
	ID           string
	EnrollmentID string
	TaskID       string
	Version      int
	Text         string
	Links        []string
	UploadIDs    []string
	Status       string
	InternID     string
	MentorID     string
	OrgID        string
	ProgramID    string
	CreatedAt    time.Time
	// Review is nil until the submission is reviewed.
	Review *Review
}

// EnrollmentChange is what a submit or a review does to the enrollment, in
// the same transaction: one task's progress is set, and when CompletedAt is
// set the enrollment becomes completed. The update is conditioned on the
// enrollment being active at ExpectedVersion, so a change computed from a
// stale read (a concurrent submit or review, an enrollment that ended) is
// refused and must be recomputed.
type EnrollmentChange struct {
	EnrollmentID    string
	ExpectedVersion int64
	TaskID          string
	Task            TaskProgress
	// CompletedAt, when set, completes the enrollment (every required task
	// is accepted after this change).
	CompletedAt time.Time
}

type reviewItem struct {
	ID        string    `dynamodbav:"id"`
	MentorID  string    `dynamodbav:"mentorId"`
	Score     int       `dynamodbav:"score"`
	Feedback  string    `dynamodbav:"feedback"`
	Decision  string    `dynamodbav:"decision"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

// submissionItem is the stored submission (docs/data-model.md). Empty Links
// and UploadIDs are omitted rather than stored as empty lists (the local
// emulator mangles empty lists); they decode back as empty slices.
type submissionItem struct {
	PK           string      `dynamodbav:"PK"`
	SK           string      `dynamodbav:"SK"`
	GSI1PK       string      `dynamodbav:"GSI1PK"`
	GSI1SK       string      `dynamodbav:"GSI1SK"`
	Type         string      `dynamodbav:"type"`
	ID           string      `dynamodbav:"id"`
	EnrollmentID string      `dynamodbav:"enrollmentId"`
	TaskID       string      `dynamodbav:"taskId"`
	Version      int         `dynamodbav:"version"`
	Text         string      `dynamodbav:"text"`
	Links        []string    `dynamodbav:"links,omitempty"`
	UploadIDs    []string    `dynamodbav:"uploadIds,omitempty"`
	Status       string      `dynamodbav:"status"`
	InternID     string      `dynamodbav:"internId"`
	MentorID     string      `dynamodbav:"mentorId"`
	OrgID        string      `dynamodbav:"orgId"`
	ProgramID    string      `dynamodbav:"programId"`
	CreatedAt    time.Time   `dynamodbav:"createdAt"`
	Review       *reviewItem `dynamodbav:"review,omitempty"`
}

// subVersionLockItem makes a version number of a task single-use per
// enrollment.
type subVersionLockItem struct {
	PK           string    `dynamodbav:"PK"`
	SK           string    `dynamodbav:"SK"`
	Type         string    `dynamodbav:"type"`
	SubmissionID string    `dynamodbav:"submissionId"`
	CreatedAt    time.Time `dynamodbav:"createdAt"`
}

const (
	typeSubmission     = "submission"
	attrSubReview      = "review"
	skSubVersionPrefix = "SUBV#"
)

func submissionPK(id string) string { return "SUB#" + id }

func submissionKey(id string) map[string]types.AttributeValue {
	return key(submissionPK(id), skProfile)
}

func enrollmentSubsPK(enrollmentID string) string { return enrollmentPK(enrollmentID) + "#SUBS" }

// versionSK is "<taskId>#<4-digit version>": versions of a task sort in
// order under their task.
func versionSK(taskID string, version int) string { return fmt.Sprintf("%s#%04d", taskID, version) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nilIfEmpty makes an empty list absent (omitempty omits nil slices only).
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (it submissionItem) submission() Submission {
	sub := Submission{
		ID: it.ID, EnrollmentID: it.EnrollmentID, TaskID: it.TaskID, Version: it.Version,
		Text: it.Text, Links: nonNil(it.Links), UploadIDs: nonNil(it.UploadIDs), Status: it.Status,
		InternID: it.InternID, MentorID: it.MentorID, OrgID: it.OrgID, ProgramID: it.ProgramID,
		CreatedAt: it.CreatedAt,
	}
	if r := it.Review; r != nil {
		sub.Review = &Review{
			ID: r.ID, MentorID: r.MentorID, Score: r.Score, Feedback: r.Feedback,
			Decision: r.Decision, CreatedAt: r.CreatedAt,
		}
	}
	return sub
}

func decodeSubmission(av map[string]types.AttributeValue) (Submission, error) {
	var it submissionItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Submission{}, fmt.Errorf("decode submission: %w", err)
	}
	if it.Type != typeSubmission {
		return Submission{}, fmt.Errorf("decode submission: item of type %q", it.Type)
	}
	return it.submission(), nil
}

// checkNewSubmission validates a submission about to be created: IDs that
// become keys, the version range of the keys, and the initial state.
func checkNewSubmission(sub Submission) error {
	switch {
	case !ids.Valid(sub.ID, ids.Submission):
		return errors.New("invalid submission id")
	case !ids.Valid(sub.EnrollmentID, ids.Enrollment):
		return errors.New("invalid enrollment id")
	case !ids.Valid(sub.TaskID, ids.Task):
		return errors.New("invalid task id")
	case !ids.Valid(sub.InternID, ids.User) || !ids.Valid(sub.MentorID, ids.User):
		return errors.New("invalid intern or mentor id")
	case !ids.Valid(sub.OrgID, ids.Org) || !ids.Valid(sub.ProgramID, ids.Program):
		return errors.New("invalid org or program id")
	case sub.Version < 1 || sub.Version > MaxSubmissionVersion:
		return fmt.Errorf("version %d out of range 1..%d", sub.Version, MaxSubmissionVersion)
	case sub.Status != SubmissionSubmitted:
		return fmt.Errorf("new submission with status %q", sub.Status)
	case sub.Review != nil:
		return errors.New("new submission with a review")
	case sub.CreatedAt.IsZero():
		return errors.New("submission without createdAt")
	}
	for _, id := range sub.UploadIDs {
		if !ids.Valid(id, ids.Upload) {
			return errors.New("invalid upload id")
		}
	}
	return nil
}

func checkChange(c EnrollmentChange) error {
	switch {
	case !ids.Valid(c.EnrollmentID, ids.Enrollment):
		return errors.New("invalid enrollment id")
	case !ids.Valid(c.TaskID, ids.Task):
		return errors.New("invalid task id")
	case c.ExpectedVersion < 1:
		return errors.New("enrollment change without the version read")
	case !validTaskStatus(c.Task.Status) || c.Task.Status == TaskNotStarted:
		return fmt.Errorf("task status %q", c.Task.Status)
	case c.Task.LatestVersion < 1 || c.Task.LatestVersion > MaxSubmissionVersion:
		return fmt.Errorf("task latest version %d out of range", c.Task.LatestVersion)
	}
	return nil
}

// enrollmentChangeItem is the conditional enrollment update of a submit or
// review transaction.
func (s *Store) enrollmentChangeItem(c EnrollmentChange) (types.TransactWriteItem, error) {
	tp, err := attributevalue.MarshalMap(taskProgressItem{Status: c.Task.Status, LatestVersion: c.Task.LatestVersion})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode task progress: %w", err)
	}
	names := map[string]string{
		"#status": attrStatus, "#version": attrVersion, "#tasks": attrEnrTasks, "#task": c.TaskID,
	}
	values := map[string]types.AttributeValue{
		":active":   str(EnrollmentActive),
		":expected": num(c.ExpectedVersion),
		":next":     num(c.ExpectedVersion + 1),
		":tp":       &types.AttributeValueMemberM{Value: tp},
	}
	update := "SET #tasks.#task = :tp, #version = :next"
	if !c.CompletedAt.IsZero() {
		names["#completedAt"] = attrEnrCompletedAt
		values[":completed"] = str(EnrollmentCompleted)
		values[":completedAt"] = str(c.CompletedAt.UTC().Format(time.RFC3339Nano))
		update += ", #status = :completed, #completedAt = :completedAt"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       enrollmentKey(c.EnrollmentID),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#status = :active AND #version = :expected"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, nil
}

// CreateSubmission writes, in ONE transaction (docs/data-model.md, submit):
// the version lock of (enrollment, task, version) with attribute_not_exists,
// so two concurrent submissions can never both become version n; the
// submission; the enrollment change (task submitted, conditioned on the
// enrollment being active at the version read); and the notification to
// the mentor. extra items (the idempotency record's completion) commit with
// them. Nothing is written unless all are. ErrConflict when the version is
// taken or the enrollment changed (re-read and decide again);
// ErrExtraItemFailed when an extra item's condition failed.
func (s *Store) CreateSubmission(ctx context.Context, sub Submission, change EnrollmentChange, notify Notification,
	extra ...types.TransactWriteItem) error {
	if err := checkNewSubmission(sub); err != nil {
		return wrap("create submission", err)
	}
	if err := checkChange(change); err != nil {
		return wrap("create submission", err)
	}
	if change.EnrollmentID != sub.EnrollmentID || change.TaskID != sub.TaskID ||
		change.Task.Status != TaskSubmitted || change.Task.LatestVersion != sub.Version || !change.CompletedAt.IsZero() {
		return wrap("create submission", errors.New("enrollment change does not match the submission"))
	}
	sub.CreatedAt = sub.CreatedAt.UTC()
	lock, err := attributevalue.MarshalMap(subVersionLockItem{
		PK: enrollmentPK(sub.EnrollmentID), SK: skSubVersionPrefix + versionSK(sub.TaskID, sub.Version),
		Type: "submissionVersionLock", SubmissionID: sub.ID, CreatedAt: sub.CreatedAt,
	})
	if err != nil {
		return wrap("create submission", fmt.Errorf("encode version lock: %w", err))
	}
	item, err := attributevalue.MarshalMap(submissionItem{
		PK: submissionPK(sub.ID), SK: skProfile,
		GSI1PK: enrollmentSubsPK(sub.EnrollmentID), GSI1SK: versionSK(sub.TaskID, sub.Version),
		Type: typeSubmission, ID: sub.ID, EnrollmentID: sub.EnrollmentID, TaskID: sub.TaskID,
		Version: sub.Version, Text: sub.Text, Links: nilIfEmpty(sub.Links), UploadIDs: nilIfEmpty(sub.UploadIDs),
		Status: SubmissionSubmitted, InternID: sub.InternID, MentorID: sub.MentorID, OrgID: sub.OrgID,
		ProgramID: sub.ProgramID, CreatedAt: sub.CreatedAt,
	})
	if err != nil {
		return wrap("create submission", fmt.Errorf("encode submission: %w", err))
	}
	enr, err := s.enrollmentChangeItem(change)
	if err != nil {
		return wrap("create submission", err)
	}
	ntf, err := s.NotificationPutItem(notify)
	if err != nil {
		return wrap("create submission", err)
	}
	notExists := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: lock, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: notExists}},
		enr,
		ntf,
	}
	codes, err := s.transactRetry(ctx, append(items, extra...))
	switch {
	case err == nil:
		return nil
	case extraFailed(codes, len(items)):
		return wrap("create submission", ErrExtraItemFailed)
	case reasonAt(codes, 0) == codeConditionFailed:
		return wrap("create submission", fmt.Errorf("version %d of the task already exists: %w", sub.Version, ErrConflict))
	case reasonAt(codes, 2) == codeConditionFailed:
		return wrap("create submission", fmt.Errorf("enrollment not active at version %d: %w", change.ExpectedVersion, ErrConflict))
	}
	return wrap("create submission", err)
}

// ReviewSubmission writes, in ONE transaction (docs/data-model.md, review):
// the review into the submission with the submission's new status,
// conditioned on attribute_not_exists(review) AND status = submitted, so a
// version is decided exactly once however many reviews race; the
// enrollment change (the task's status, and completion when CompletedAt is
// set), conditioned on the version read; and the notifications. ErrConflict
// with ErrAlreadyReviewed when another review won, plain ErrConflict when
// the enrollment changed (re-read and decide again).
func (s *Store) ReviewSubmission(ctx context.Context, sub Submission, rev Review, change EnrollmentChange, notify ...Notification) error {
	switch {
	case !ids.Valid(sub.ID, ids.Submission):
		return wrap("review submission", ErrNotFound)
	case !ids.Valid(rev.ID, ids.Review) || !ids.Valid(rev.MentorID, ids.User):
		return wrap("review submission", errors.New("invalid review or mentor id"))
	case rev.Decision != SubmissionAccepted && rev.Decision != SubmissionChangesRequested:
		return wrap("review submission", fmt.Errorf("decision %q", rev.Decision))
	case rev.CreatedAt.IsZero():
		return wrap("review submission", errors.New("review without createdAt"))
	}
	if err := checkChange(change); err != nil {
		return wrap("review submission", err)
	}
	if change.EnrollmentID != sub.EnrollmentID || change.TaskID != sub.TaskID ||
		change.Task.Status != rev.Decision || change.Task.LatestVersion != sub.Version {
		return wrap("review submission", errors.New("enrollment change does not match the review"))
	}
	rv, err := attributevalue.MarshalMap(reviewItem{
		ID: rev.ID, MentorID: rev.MentorID, Score: rev.Score, Feedback: rev.Feedback,
		Decision: rev.Decision, CreatedAt: rev.CreatedAt.UTC(),
	})
	if err != nil {
		return wrap("review submission", fmt.Errorf("encode review: %w", err))
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:           aws.String(s.table),
		Key:                 submissionKey(sub.ID),
		UpdateExpression:    aws.String("SET #review = :review, #status = :decision"),
		ConditionExpression: aws.String("attribute_exists(PK) AND attribute_not_exists(#review) AND #status = :submitted AND enrollmentId = :enr"),
		ExpressionAttributeNames: map[string]string{
			"#review": attrSubReview, "#status": attrStatus,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":review":    &types.AttributeValueMemberM{Value: rv},
			":decision":  str(rev.Decision),
			":submitted": str(SubmissionSubmitted),
			":enr":       str(sub.EnrollmentID),
		},
	}}}
	enr, err := s.enrollmentChangeItem(change)
	if err != nil {
		return wrap("review submission", err)
	}
	items = append(items, enr)
	for _, n := range notify {
		ntf, err := s.NotificationPutItem(n)
		if err != nil {
			return wrap("review submission", err)
		}
		items = append(items, ntf)
	}
	codes, err := s.transactRetry(ctx, items)
	switch {
	case err == nil:
		return nil
	case reasonAt(codes, 0) == codeConditionFailed:
		return wrap("review submission", fmt.Errorf("%w: %w", ErrAlreadyReviewed, ErrConflict))
	case reasonAt(codes, 1) == codeConditionFailed:
		return wrap("review submission", fmt.Errorf("enrollment not active at version %d: %w", change.ExpectedVersion, ErrConflict))
	}
	return wrap("review submission", err)
}

// extraFailed reports a failed condition on an item at index from or later.
func extraFailed(codes []string, from int) bool {
	for i := from; i < len(codes); i++ {
		if codes[i] == codeConditionFailed {
			return true
		}
	}
	return false
}

// ErrAlreadyReviewed: the submission version already has its review (it
// comes wrapped together with ErrConflict).
var ErrAlreadyReviewed = errors.New("submission already reviewed")

// GetSubmission reads one submission version with its review (strongly
// consistent). A malformed ID is ErrNotFound.
func (s *Store) GetSubmission(ctx context.Context, id string) (Submission, error) {
	if !ids.Valid(id, ids.Submission) {
		return Submission{}, wrap("get submission", ErrNotFound)
	}
	av, found, err := s.getItem(ctx, submissionKey(id))
	if err != nil {
		return Submission{}, wrap("get submission", err)
	}
	if !found {
		return Submission{}, wrap("get submission", ErrNotFound)
	}
	sub, err := decodeSubmission(av)
	return sub, wrap("get submission", err)
}

// ListSubmissions returns every submission version of an enrollment, with
// reviews, ordered by task ID and version (GSI1). An enrollment has at most
// domain.MaxTasksPerProgram × domain.MaxSubmissionVersions versions, so it is
// read whole. The index is eventually consistent: a version written a
// moment ago may be missing from an immediate listing; the enrollment item
// (strongly consistent) has each task's latest version.
func (s *Store) ListSubmissions(ctx context.Context, enrollmentID string) ([]Submission, error) {
	if !ids.Valid(enrollmentID, ids.Enrollment) {
		return nil, wrap("list submissions", ErrNotFound)
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(enrollmentSubsPK(enrollmentID))},
		Limit:                     aws.Int32(s.pageSize),
	})
	out := []Submission{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list submissions", err)
		}
		for _, av := range page.Items {
			sub, err := decodeSubmission(av)
			if err != nil {
				return nil, wrap("list submissions", err)
			}
			out = append(out, sub)
		}
	}
	return out, nil
}
