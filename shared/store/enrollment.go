package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
)

// Enrollment statuses (docs/data-model.md).
const (
	EnrollmentActive    = "active"
	EnrollmentCompleted = "completed"
	EnrollmentEnded     = "ended"
)

// Per-task progress statuses of an enrollment.
const (
	TaskNotStarted       = "not_started"
	TaskSubmitted        = "submitted"
	TaskChangesRequested = "changes_requested"
	TaskAccepted         = "accepted"
)

// TaskProgress is an enrollment's state of one task: the status of its
// latest submission version (TaskNotStarted before the first) and that
// version's number (0 before the first).
type TaskProgress struct {
	Status        string
	LatestVersion int
}

// Enrollment pairs an accepted intern with a mentor in a program. It is
// created by the accept transaction (Store.AcceptApplication) and updated
// only by the submit and review transactions, each conditioned on Version.
type Enrollment struct {
	ID            string
	ProgramID     string
	OrgID         string
	InternID      string
	MentorID      string
	ApplicationID string
	Status        string
	// Tasks maps a task ID to its progress. The accept transaction
	// initialises one entry per task of the program (TaskNotStarted); a task
	// added to the program later has no entry until its first submission,
	// so readers treat a missing entry as TaskNotStarted.
	Tasks       map[string]TaskProgress
	CreatedAt   time.Time
	CompletedAt time.Time
	// Version increases with every update of the item.
	Version int64
}

// Active reports whether the enrollment still accepts submissions and
// reviews.
func (e Enrollment) Active() bool { return e.Status == EnrollmentActive }

// Stored attribute names of an enrollment that the submit and review
// transactions update (docs/data-model.md).
const (
	// attrEnrTasks is the map taskId → {status, latestVersion}.
	attrEnrTasks = "tasks"
	// attrEnrTaskStatus and attrEnrTaskLatest are the members of one entry.
	attrEnrTaskStatus   = "status"
	attrEnrTaskLatest   = "latestVersion"
	attrEnrCompletedAt  = "completedAt"
	skEnrollmentProfile = skProfile
)

type taskProgressItem struct {
	Status        string `dynamodbav:"status"`
	LatestVersion int    `dynamodbav:"latestVersion"`
}

// enrollmentItem is the stored enrollment. CompletedAt is a pointer so an
// active enrollment has no completedAt attribute at all (a zero time would
// be stored as "0001-01-01…").
type enrollmentItem struct {
	PK            string                      `dynamodbav:"PK"`
	SK            string                      `dynamodbav:"SK"`
	GSI1PK        string                      `dynamodbav:"GSI1PK"`
	GSI1SK        string                      `dynamodbav:"GSI1SK"`
	GSI2PK        string                      `dynamodbav:"GSI2PK"`
	GSI2SK        string                      `dynamodbav:"GSI2SK"`
	Type          string                      `dynamodbav:"type"`
	ID            string                      `dynamodbav:"id"`
	ProgramID     string                      `dynamodbav:"programId"`
	OrgID         string                      `dynamodbav:"orgId"`
	InternID      string                      `dynamodbav:"internId"`
	MentorID      string                      `dynamodbav:"mentorId"`
	ApplicationID string                      `dynamodbav:"applicationId"`
	Status        string                      `dynamodbav:"status"`
	Tasks         map[string]taskProgressItem `dynamodbav:"tasks"`
	CreatedAt     time.Time                   `dynamodbav:"createdAt"`
	CompletedAt   *time.Time                  `dynamodbav:"completedAt,omitempty"`
	Version       int64                       `dynamodbav:"version"`
}

const typeEnrollment = "enrollment"

func enrollmentPK(id string) string { return "ENR#" + id }

func enrollmentKey(id string) map[string]types.AttributeValue {
	return key(enrollmentPK(id), skEnrollmentProfile)
}

// internEnrollmentsPK and mentorMenteesPK are the GSI1 and GSI2 partitions
// listing an intern's and a mentor's enrollments.
func internEnrollmentsPK(internID string) string { return "USER#" + internID + "#ENRS" }
func mentorMenteesPK(mentorID string) string     { return "USER#" + mentorID + "#MENTEES" }

// listSortKey is the `<createdAt>#<id>` sort key of GSI listings: creation
// order (indexTime is fixed width, so lexical order is time order), ties
// broken by the random ID, so the order is total and stable.
func listSortKey(t time.Time, id string) string { return indexTime(t) + "#" + id }

func toEnrollmentItem(e Enrollment) enrollmentItem {
	it := enrollmentItem{
		PK: enrollmentPK(e.ID), SK: skEnrollmentProfile,
		GSI1PK: internEnrollmentsPK(e.InternID), GSI1SK: listSortKey(e.CreatedAt, e.ID),
		GSI2PK: mentorMenteesPK(e.MentorID), GSI2SK: listSortKey(e.CreatedAt, e.ID),
		Type: typeEnrollment, ID: e.ID, ProgramID: e.ProgramID, OrgID: e.OrgID,
		InternID: e.InternID, MentorID: e.MentorID, ApplicationID: e.ApplicationID,
		Status: e.Status, Tasks: make(map[string]taskProgressItem, len(e.Tasks)),
		CreatedAt: e.CreatedAt.UTC(), Version: e.Version,
	}
	for id, tp := range e.Tasks {
		it.Tasks[id] = taskProgressItem(tp)
	}
	if !e.CompletedAt.IsZero() {
		c := e.CompletedAt.UTC()
		it.CompletedAt = &c
	}
	return it
}

func (it enrollmentItem) enrollment() Enrollment {
	e := Enrollment{
		ID: it.ID, ProgramID: it.ProgramID, OrgID: it.OrgID, InternID: it.InternID,
		MentorID: it.MentorID, ApplicationID: it.ApplicationID, Status: it.Status,
		Tasks:     make(map[string]TaskProgress, len(it.Tasks)),
		CreatedAt: it.CreatedAt, Version: it.Version,
	}
	for id, tp := range it.Tasks {
		e.Tasks[id] = TaskProgress(tp)
	}
	if it.CompletedAt != nil {
		e.CompletedAt = *it.CompletedAt
	}
	return e
}

func decodeEnrollment(av map[string]types.AttributeValue) (Enrollment, error) {
	var it enrollmentItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Enrollment{}, fmt.Errorf("decode enrollment: %w", err)
	}
	if it.Type != typeEnrollment {
		return Enrollment{}, fmt.Errorf("decode enrollment: item of type %q", it.Type)
	}
	return it.enrollment(), nil
}

// validTaskStatus reports a known per-task status (the submit and review
// transactions check what they write).
func validTaskStatus(s string) bool {
	return s == TaskNotStarted || s == TaskSubmitted || s == TaskChangesRequested || s == TaskAccepted
}

// checkNewEnrollment validates an enrollment about to be put by the accept
// transaction: every ID well formed (they become keys) and every task entry
// not started.
func checkNewEnrollment(e Enrollment) error {
	switch {
	case !ids.Valid(e.ID, ids.Enrollment):
		return errors.New("invalid enrollment id")
	case !ids.Valid(e.ProgramID, ids.Program):
		return errors.New("invalid program id")
	case !ids.Valid(e.OrgID, ids.Org):
		return errors.New("invalid org id")
	case !ids.Valid(e.InternID, ids.User):
		return errors.New("invalid intern id")
	case !ids.Valid(e.MentorID, ids.User):
		return errors.New("invalid mentor id")
	case !ids.Valid(e.ApplicationID, ids.Application):
		return errors.New("invalid application id")
	case e.Status != EnrollmentActive:
		return fmt.Errorf("new enrollment with status %q", e.Status)
	case e.CreatedAt.IsZero():
		return errors.New("enrollment without createdAt")
	}
	for id, tp := range e.Tasks {
		if !ids.Valid(id, ids.Task) {
			return errors.New("invalid task id in enrollment")
		}
		if tp.Status != TaskNotStarted || tp.LatestVersion != 0 {
			return errors.New("new enrollment with a started task")
		}
	}
	return nil
}

// GetEnrollment reads one enrollment (strongly consistent). A malformed ID
// is ErrNotFound: it cannot name an enrollment.
func (s *Store) GetEnrollment(ctx context.Context, id string) (Enrollment, error) {
	if !ids.Valid(id, ids.Enrollment) {
		return Enrollment{}, wrap("get enrollment", ErrNotFound)
	}
	return getDecoded(ctx, s, "get enrollment", enrollmentKey(id), decodeEnrollment)
}

// ListInternEnrollments returns one page of the intern's enrollments, newest
// first (GSI1), at most limit (1..MaxPageSize) items, continuing after start
// (the previous page's next key, nil for the first page). next is nil on the
// last page; otherwise it is the key to pass as start, which the caller must
// seal (shared/cursor) before handing it out. A start key that does not
// belong to this listing is ErrInvalidStartKey.
func (s *Store) ListInternEnrollments(ctx context.Context, internID string, limit int32, start map[string]types.AttributeValue) ([]Enrollment, map[string]types.AttributeValue, error) {
	if !ids.Valid(internID, ids.User) {
		return nil, nil, wrap("list intern enrollments", errors.New("invalid intern id"))
	}
	return s.listEnrollments(ctx, "list intern enrollments",
		gsi1Query(internEnrollmentsPK(internID), enrollmentPK(""), true), limit, start)
}

// ListMentorEnrollments is ListInternEnrollments for the enrollments a
// mentor is assigned to (GSI2), newest first.
func (s *Store) ListMentorEnrollments(ctx context.Context, mentorID string, limit int32, start map[string]types.AttributeValue) ([]Enrollment, map[string]types.AttributeValue, error) {
	if !ids.Valid(mentorID, ids.User) {
		return nil, nil, wrap("list mentor enrollments", errors.New("invalid mentor id"))
	}
	return s.listEnrollments(ctx, "list mentor enrollments",
		gsi2Query(mentorMenteesPK(mentorID), enrollmentPK(""), true), limit, start)
}

func (s *Store) listEnrollments(ctx context.Context, op string, q pagedQuery, limit int32, start StartKey) ([]Enrollment, StartKey, error) {
	return listDecoded(ctx, s, op, q, limit, start, decodeEnrollment)
}

// pagedQuery names one GSI partition of one item type, listed in sort-key
// order.
type pagedQuery struct {
	index, pkAttr, skAttr, pk string
	// itemPKPrefix is the table PK prefix of the listed items ("ENR#"):
	// a start key must point at an item of the listed type.
	itemPKPrefix string
	newestFirst  bool
	// filter, when set, is a FilterExpression with its names and values.
	filter string
	names  map[string]string
	values map[string]types.AttributeValue
}

func gsi1Query(pk, itemPKPrefix string, newestFirst bool) pagedQuery {
	return pagedQuery{index: indexGSI1, pkAttr: attrGSI1PK, skAttr: attrGSI1SK, pk: pk, itemPKPrefix: itemPKPrefix, newestFirst: newestFirst}
}

func gsi2Query(pk, itemPKPrefix string, newestFirst bool) pagedQuery {
	return pagedQuery{index: indexGSI2, pkAttr: attrGSI2PK, skAttr: attrGSI2SK, pk: pk, itemPKPrefix: itemPKPrefix, newestFirst: newestFirst}
}

// listDecoded reads one page of q and decodes every item, wrapping errors
// with op.
func listDecoded[T any](ctx context.Context, s *Store, op string, q pagedQuery, limit int32, start StartKey, decode func(map[string]types.AttributeValue) (T, error)) ([]T, StartKey, error) {
	var out []T
	next, err := s.pagedRead(ctx, q, limit, start, func(av map[string]types.AttributeValue) (bool, error) {
		v, err := decode(av)
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	return out, next, nil
}

// pagedMaxRounds bounds the Query calls behind one page when a filter drops
// items: the page may then come back short (with a next key), but one
// request never reads a partition without limit.
const pagedMaxRounds = 8

// pagedRead fills one page of at most limit (1..MaxPageSize) items from a
// GSI partition, calling keep for each item in order (keep returns false
// to skip an item). The next key is the position of the last item returned
// when the page is full and another item exists, so the next page starts
// exactly after it even when the Query read further; DynamoDB's
// LastEvaluatedKey when the round budget ran out; nil when the partition is
// exhausted (no cursor to an empty page).
func (s *Store) pagedRead(ctx context.Context, q pagedQuery, limit int32, start StartKey,
	keep func(map[string]types.AttributeValue) (bool, error)) (StartKey, error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, fmt.Errorf("page limit %d out of range 1..%d", limit, MaxPageSize)
	}
	if start != nil {
		if err := checkPagedStart(start, q); err != nil {
			return nil, err
		}
	}
	names := map[string]string{"#pk": q.pkAttr}
	for k, v := range q.names {
		names[k] = v
	}
	values := map[string]types.AttributeValue{":pk": str(q.pk)}
	for k, v := range q.values {
		values[k] = v
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(q.index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(!q.newestFirst),
		ExclusiveStartKey:         start,
	}
	if q.filter != "" {
		in.FilterExpression = aws.String(q.filter)
	}
	got := int32(0)
	var lastKept map[string]types.AttributeValue
	for round := 0; round < pagedMaxRounds; round++ {
		// Without a filter every item read is returned, so asking for one
		// more than is still needed tells whether another page exists.
		want := limit - got + 1
		if q.filter != "" {
			want = max(want, s.pageSize)
		}
		in.Limit = aws.Int32(want)
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, av := range out.Items {
			if got == limit {
				return pagedItemKey(lastKept, q), nil
			}
			ok, err := keep(av)
			if err != nil {
				return nil, err
			}
			if ok {
				got++
				lastKept = av
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return in.ExclusiveStartKey, nil
}

// pagedItemKey is the ExclusiveStartKey that resumes a GSI query right
// after item: the table key plus the index key.
func pagedItemKey(item map[string]types.AttributeValue, q pagedQuery) StartKey {
	k := make(StartKey, 4)
	for _, a := range []string{attrPK, attrSK, q.pkAttr, q.skAttr} {
		if v, ok := item[a]; ok {
			k[a] = v
		}
	}
	return k
}

// checkPagedStart accepts exactly the four string key attributes of a GSI
// page start, in the listed partition and naming a PROFILE item of the
// listed type: a sealed cursor is authentic, but one listing's cursor must
// never page through another (ErrInvalidStartKey).
func checkPagedStart(start StartKey, q pagedQuery) error {
	if len(start) != 4 {
		return ErrInvalidStartKey
	}
	vals := make(map[string]string, 4)
	for _, a := range []string{attrPK, attrSK, q.pkAttr, q.skAttr} {
		v, ok := start[a].(*types.AttributeValueMemberS)
		if !ok || v.Value == "" {
			return ErrInvalidStartKey
		}
		vals[a] = v.Value
	}
	if vals[q.pkAttr] != q.pk || !strings.HasPrefix(vals[attrPK], q.itemPKPrefix) || vals[attrSK] != skProfile {
		return ErrInvalidStartKey
	}
	return nil
}
