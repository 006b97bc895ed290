package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

// Program is a stored internship program. It is the domain entity itself, so
// the rules of shared/domain (AcceptingApplications, HasSeat, Publish...) run
// directly on what the store returns; Enrolled is the item's enrolledCount.
type Program = domain.Program

// ErrInvalidStartKey: a page's start key does not belong to the listing it
// was passed to. Sealed cursors bind a key to its listing already; this is
// the store's own guard against a key of another index or partition.
var ErrInvalidStartKey = errors.New("start key does not belong to this listing")

// StartKey is where a listing page starts or the next one would: a
// DynamoDB LastEvaluatedKey, sealed by shared/cursor before it reaches a
// client. nil means the first page (as a start) or the last one (as Next).
type StartKey = map[string]types.AttributeValue

// ProgramPage is one page of a program listing.
type ProgramPage struct {
	Programs []Program
	// Next is the start of the following page, nil on the last one.
	Next StartKey
}

// MaxPageSize bounds every listing page, whatever the caller asks for.
const MaxPageSize = 50

const (
	skTaskPrefix = "TASK#"
	attrGSI1PK   = "GSI1PK"
	attrGSI1SK   = "GSI1SK"
	attrGSI2PK   = "GSI2PK"
	attrGSI2SK   = "GSI2SK"
	indexGSI1    = "GSI1"
	indexGSI2    = "GSI2"
)

func programPK(id string) string              { return "PROGRAM#" + id }
func programKey(id string) StartKey           { return key(programPK(id), skProfile) }
func orgProgramsGSI1PK(org string) string     { return "ORG#" + org + "#PROGRAMS" }
func programsByStatusPK(status string) string { return "PROGRAMS#" + status }

// indexTime formats a time for a sort key: fixed width, UTC, milliseconds,
// so lexical order is time order (RFC3339Nano trims trailing zeros and is
// not). Every listing of docs/data-model.md sorts on "<indexTime>#<id>".
func indexTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// programItem is the stored program (docs/data-model.md). Optional instants
// are *time.Time so an unset one is absent, not year 1.
type programItem struct {
	PK                  string     `dynamodbav:"PK"`
	SK                  string     `dynamodbav:"SK"`
	GSI1PK              string     `dynamodbav:"GSI1PK"`
	GSI1SK              string     `dynamodbav:"GSI1SK"`
	GSI2PK              string     `dynamodbav:"GSI2PK"`
	GSI2SK              string     `dynamodbav:"GSI2SK"`
	Type                string     `dynamodbav:"type"`
	ID                  string     `dynamodbav:"id"`
	OrgID               string     `dynamodbav:"orgId"`
	Title               string     `dynamodbav:"title"`
	Description         string     `dynamodbav:"description"`
	Skills              []string   `dynamodbav:"skills"`
	Capacity            int        `dynamodbav:"capacity"`
	EnrolledCount       int        `dynamodbav:"enrolledCount"`
	TaskCount           int        `dynamodbav:"taskCount"`
	Status              string     `dynamodbav:"status"`
	ApplicationOpensAt  time.Time  `dynamodbav:"applicationOpensAt"`
	ApplicationClosesAt time.Time  `dynamodbav:"applicationClosesAt"`
	StartsAt            time.Time  `dynamodbav:"startsAt"`
	EndsAt              time.Time  `dynamodbav:"endsAt"`
	CreatedBy           string     `dynamodbav:"createdBy"`
	CreatedAt           time.Time  `dynamodbav:"createdAt"`
	UpdatedAt           time.Time  `dynamodbav:"updatedAt"`
	PublishedAt         *time.Time `dynamodbav:"publishedAt,omitempty"`
	ClosedAt            *time.Time `dynamodbav:"closedAt,omitempty"`
	ArchivedAt          *time.Time `dynamodbav:"archivedAt,omitempty"`
	Version             int64      `dynamodbav:"version"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func fromOpt(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func toProgramItem(p Program) programItem {
	return programItem{
		PK: programPK(p.ID), SK: skProfile,
		GSI1PK: orgProgramsGSI1PK(p.OrgID), GSI1SK: indexTime(p.CreatedAt) + "#" + p.ID,
		GSI2PK: programsByStatusPK(string(p.Status)), GSI2SK: indexTime(p.OpensAt) + "#" + p.ID,
		Type: "program", ID: p.ID, OrgID: p.OrgID, Title: p.Title, Description: p.Description,
		Skills: slices.Clone(p.Skills), Capacity: p.Capacity, EnrolledCount: p.Enrolled,
		Status:             string(p.Status),
		ApplicationOpensAt: p.OpensAt.UTC(), ApplicationClosesAt: p.ClosesAt.UTC(),
		StartsAt: p.StartsAt.UTC(), EndsAt: p.EndsAt.UTC(),
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		PublishedAt: optTime(p.PublishedAt), ClosedAt: optTime(p.ClosedAt), ArchivedAt: optTime(p.ArchivedAt),
		Version: p.Version,
	}
}

func (it programItem) program() Program {
	skills := it.Skills
	if skills == nil {
		skills = []string{}
	}
	return Program{
		ID: it.ID, OrgID: it.OrgID, Title: it.Title, Description: it.Description, Skills: skills,
		Capacity: it.Capacity, Enrolled: it.EnrolledCount, Status: domain.ProgramStatus(it.Status),
		OpensAt: it.ApplicationOpensAt, ClosesAt: it.ApplicationClosesAt, StartsAt: it.StartsAt, EndsAt: it.EndsAt,
		CreatedBy: it.CreatedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
		PublishedAt: fromOpt(it.PublishedAt), ClosedAt: fromOpt(it.ClosedAt), ArchivedAt: fromOpt(it.ArchivedAt),
		Version: it.Version,
	}
}

func decodeProgram(av map[string]types.AttributeValue) (programItem, error) {
	var it programItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return programItem{}, fmt.Errorf("decode program: %w", err)
	}
	return it, nil
}

func validProgramStatus(s domain.ProgramStatus) bool {
	switch s {
	case domain.ProgramDraft, domain.ProgramOpen, domain.ProgramClosed, domain.ProgramArchived:
		return true
	}
	return false
}

func checkProgram(p Program) error {
	switch {
	case !ids.Valid(p.ID, ids.Program):
		return errors.New("invalid program id")
	case !ids.Valid(p.OrgID, ids.Org):
		return errors.New("invalid org id")
	case !validProgramStatus(p.Status):
		return fmt.Errorf("invalid program status %q", p.Status)
	case p.Capacity < 0 || p.Enrolled < 0:
		return errors.New("negative capacity or enrolled count")
	case p.OpensAt.IsZero() || p.CreatedAt.IsZero():
		return errors.New("program without opensAt or createdAt")
	}
	return nil
}

// CreateProgram stores a new program (normally a draft from
// domain.NewProgram). Version starts at 1 and Enrolled at 0 whatever the
// caller set; an existing ID is ErrConflict rather than an overwrite.
// extra items (the idempotency record's completion,
// idempotency.Store.CompleteItem) commit in the same transaction; a failed
// condition on one is ErrExtraItemFailed and nothing is written.
func (s *Store) CreateProgram(ctx context.Context, p Program, extra ...types.TransactWriteItem) (Program, error) {
	if err := checkProgram(p); err != nil {
		return Program{}, wrap("create program", err)
	}
	p.Version, p.Enrolled = 1, 0
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	av, err := attributevalue.MarshalMap(toProgramItem(p))
	if err != nil {
		return Program{}, wrap("create program", fmt.Errorf("encode program: %w", err))
	}
	items := append([]types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}}, extra...)
	if err := s.transactCreate(ctx, items, "program id exists"); err != nil {
		return Program{}, wrap("create program", err)
	}
	return p, nil
}

// transactCreate writes items, whose first is the create conditioned on
// attribute_not_exists and the rest the caller's extra items, mapping a
// cancellation to ErrConflict (the first failed: exists) or
// ErrExtraItemFailed (an extra one failed).
func (s *Store) transactCreate(ctx context.Context, items []types.TransactWriteItem, exists string) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	codes, ok := cancellation(err)
	if !ok {
		return err
	}
	if reasonAt(codes, 0) == codeConditionFailed {
		return fmt.Errorf("%s: %w", exists, ErrConflict)
	}
	for i := 1; i < len(items); i++ {
		if reasonAt(codes, i) == codeConditionFailed {
			return ErrExtraItemFailed
		}
	}
	return fmt.Errorf("%w: %w", ErrConflict, err)
}

// GetProgram returns the program with the given ID, or ErrNotFound (also
// for a malformed ID). Visibility (drafts only to their org) is the
// caller's rule: the store returns every state.
func (s *Store) GetProgram(ctx context.Context, id string) (Program, error) {
	it, err := s.getProgram(ctx, id)
	if err != nil {
		return Program{}, wrap("get program", err)
	}
	return it.program(), nil
}

func (s *Store) getProgram(ctx context.Context, id string) (programItem, error) {
	if !ids.Valid(id, ids.Program) {
		return programItem{}, ErrNotFound
	}
	av, found, err := s.getItem(ctx, programKey(id))
	if err != nil {
		return programItem{}, err
	}
	if !found {
		return programItem{}, ErrNotFound
	}
	return decodeProgram(av)
}

// UpdateProgram writes p's content, status and transition times if the
// stored version is still expectedVersion, bumps the version and returns the
// stored result. It keeps GSI2PK = PROGRAMS#<status> (and GSI2SK) in step
// with the status and window, so the public listing follows every change.
//
// It never writes enrolledCount (the accept transaction owns it) and refuses
// a capacity below the seats already taken, even if an accept slipped in
// after the caller's read: ErrConflict for a stale version or that, and
// ErrNotFound for a missing program. The org, ID and creation fields are
// immutable and ignored.
func (s *Store) UpdateProgram(ctx context.Context, p Program, expectedVersion int64) (Program, error) {
	if err := checkProgram(p); err != nil {
		return Program{}, wrap("update program", err)
	}
	it := toProgramItem(p)
	set := map[string]any{
		"title": it.Title, "description": it.Description, "skills": it.Skills, "capacity": it.Capacity,
		"status": it.Status, "applicationOpensAt": it.ApplicationOpensAt, "applicationClosesAt": it.ApplicationClosesAt,
		"startsAt": it.StartsAt, "endsAt": it.EndsAt,
		attrGSI2PK: it.GSI2PK, attrGSI2SK: it.GSI2SK,
		"updatedAt": it.UpdatedAt,
	}
	if p.UpdatedAt.IsZero() {
		set["updatedAt"] = s.now().UTC()
	}
	// Transition times are only ever set, never cleared (minidyn ignores
	// REMOVE, and a program does not move backwards).
	for name, t := range map[string]*time.Time{"publishedAt": it.PublishedAt, "closedAt": it.ClosedAt, "archivedAt": it.ArchivedAt} {
		if t != nil {
			set[name] = *t
		}
	}
	names := map[string]string{"#version": attrVersion, "#enrolled": "enrolledCount"}
	values := map[string]types.AttributeValue{
		":expected": num(expectedVersion),
		":next":     num(expectedVersion + 1),
	}
	expr := "SET #version = :next"
	i := 0
	for name, v := range set {
		av, err := attributevalue.Marshal(v)
		if err != nil {
			return Program{}, wrap("update program", fmt.Errorf("encode %s: %w", name, err))
		}
		n, ph := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
		names[n], values[ph] = name, av
		expr += ", " + n + " = " + ph
		if name == "capacity" {
			values[":capacity"] = av
		}
		i++
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       programKey(p.ID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #version = :expected AND #enrolled <= :capacity"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		if _, gerr := s.getProgram(ctx, p.ID); errors.Is(gerr, ErrNotFound) {
			return Program{}, wrap("update program", ErrNotFound)
		}
		return Program{}, wrap("update program", fmt.Errorf("version %d is stale: %w", expectedVersion, ErrConflict))
	}
	if err != nil {
		return Program{}, wrap("update program", err)
	}
	got, err := decodeProgram(out.Attributes)
	if err != nil {
		return Program{}, wrap("update program", err)
	}
	return got.program(), nil
}

// pageLimit clamps a requested page size to 1..MaxPageSize (0 or less means
// the default of 20, as the API's limit parameter does).
func pageLimit(n int) int32 {
	switch {
	case n <= 0:
		return 20
	case n > MaxPageSize:
		return MaxPageSize
	}
	return int32(n)
}

// ListOrgPrograms returns one page of an organization's programs, every
// state included, newest first. start is the Next of the previous page (nil
// for the first); limit is clamped to 1..MaxPageSize.
func (s *Store) ListOrgPrograms(ctx context.Context, orgID string, limit int, start StartKey) (ProgramPage, error) {
	if !ids.Valid(orgID, ids.Org) {
		return ProgramPage{}, wrap("list org programs", ErrNotFound)
	}
	pk := orgProgramsGSI1PK(orgID)
	page, err := s.queryPrograms(ctx, programQuery{
		index: indexGSI1, pkAttr: attrGSI1PK, skAttr: attrGSI1SK, pk: pk,
		newestFirst: true, limit: pageLimit(limit), start: start,
	})
	return page, wrap("list org programs", err)
}

// ListOpenPrograms returns one page of the public listing: open programs,
// ordered by application opening time (then ID), optionally only those
// tagged with skill (a normalized tag, domain.NormalizeSkill; "" for all).
// start and limit work as for ListOrgPrograms.
func (s *Store) ListOpenPrograms(ctx context.Context, skill string, limit int, start StartKey) (ProgramPage, error) {
	if skill != "" {
		if tag, ok := domain.NormalizeSkill(skill); !ok || tag != skill {
			return ProgramPage{}, wrap("list open programs", errors.New("skill is not a normalized tag"))
		}
	}
	page, err := s.queryPrograms(ctx, programQuery{
		index: indexGSI2, pkAttr: attrGSI2PK, skAttr: attrGSI2SK, pk: programsByStatusPK(string(domain.ProgramOpen)),
		skill: skill, limit: pageLimit(limit), start: start,
	})
	return page, wrap("list open programs", err)
}

type programQuery struct {
	index, pkAttr, skAttr, pk string
	skill                     string
	newestFirst               bool
	limit                     int32
	start                     StartKey
}

// queryPrograms reads up to q.limit programs of one index partition. With a
// skill filter DynamoDB applies Limit before the filter, so it keeps reading
// until the page is full or the partition ends; when it stops inside a
// DynamoDB page, the next page starts after the last program returned,
// which it builds from that item's own keys.
func (s *Store) queryPrograms(ctx context.Context, q programQuery) (ProgramPage, error) {
	if err := checkStartKey(q.start, q.pkAttr, q.skAttr, q.pk); err != nil {
		return ProgramPage{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(q.index),
		KeyConditionExpression: aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{
			"#pk": q.pkAttr,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(q.pk)},
		ScanIndexForward:          aws.Bool(!q.newestFirst),
		ExclusiveStartKey:         q.start,
	}
	if q.skill != "" {
		// Every program has at least one skill, so contains never meets a
		// missing attribute (which minidyn would reject).
		in.FilterExpression = aws.String("contains(#skills, :skill)")
		in.ExpressionAttributeNames["#skills"] = "skills"
		in.ExpressionAttributeValues[":skill"] = str(q.skill)
	}
	var page ProgramPage
	for round := 1; ; round++ {
		in.Limit = aws.Int32(max(q.limit, min(s.pageSize, 100)))
		if q.skill == "" {
			in.Limit = aws.Int32(q.limit - int32(len(page.Programs)))
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return ProgramPage{}, err
		}
		for i, av := range out.Items {
			it, err := decodeProgram(av)
			if err != nil {
				return ProgramPage{}, err
			}
			page.Programs = append(page.Programs, it.program())
			if int32(len(page.Programs)) == q.limit {
				if i == len(out.Items)-1 {
					page.Next = nonEmpty(out.LastEvaluatedKey)
				} else {
					page.Next = programIndexKey(it, q.pkAttr, q.skAttr)
				}
				if page.Next != nil && q.skill == "" {
					// Without a filter, a full page that ends the partition
					// still reports a LastEvaluatedKey; one probe avoids
					// handing out a cursor to an empty page.
					more, err := s.db.Query(ctx, withStart(in, page.Next, 1))
					if err != nil {
						return ProgramPage{}, err
					}
					if len(more.Items) == 0 {
						page.Next = nil
					}
				}
				return page, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return page, nil
		}
		if round >= pagedMaxRounds {
			// A filter that rarely matches must not turn one (public,
			// anonymous) request into a read of the whole index: answer a
			// short page with a cursor to go on from.
			page.Next = out.LastEvaluatedKey
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func withStart(in *dynamodb.QueryInput, start StartKey, limit int32) *dynamodb.QueryInput {
	c := *in
	c.ExclusiveStartKey = start
	c.Limit = aws.Int32(limit)
	return &c
}

func nonEmpty(k StartKey) StartKey {
	if len(k) == 0 {
		return nil
	}
	return k
}

// programIndexKey is the exclusive start key of a GSI query positioned at
// it: the table key plus the index key.
func programIndexKey(it programItem, pkAttr, skAttr string) StartKey {
	k := key(it.PK, it.SK)
	switch pkAttr {
	case attrGSI1PK:
		k[pkAttr], k[skAttr] = str(it.GSI1PK), str(it.GSI1SK)
	default:
		k[pkAttr], k[skAttr] = str(it.GSI2PK), str(it.GSI2SK)
	}
	return k
}

// checkStartKey accepts nil or a key of exactly the listing's shape: PK,
// SK, and the index's partition (equal to pk) and sort attributes, all
// strings.
func checkStartKey(k StartKey, pkAttr, skAttr, pk string) error {
	if k == nil {
		return nil
	}
	if len(k) != 4 {
		return ErrInvalidStartKey
	}
	for _, name := range []string{attrPK, attrSK, pkAttr, skAttr} {
		if _, ok := k[name].(*types.AttributeValueMemberS); !ok {
			return ErrInvalidStartKey
		}
	}
	if k[pkAttr].(*types.AttributeValueMemberS).Value != pk {
		return ErrInvalidStartKey
	}
	return nil
}
