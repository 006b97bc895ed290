package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

// Task is a stored task of a program: the domain entity itself.
type Task = domain.Task

func taskSK(id string) string { return skTaskPrefix + id }

func taskKey(programID, taskID string) StartKey { return key(programPK(programID), taskSK(taskID)) }

// taskItem is the stored task (docs/data-model.md). DueDate is a pointer so
// an offset-only task stores NULL rather than year 1; a task switching from
// a date to an offset overwrites it with NULL (minidyn ignores REMOVE).
type taskItem struct {
	PK            string     `dynamodbav:"PK"`
	SK            string     `dynamodbav:"SK"`
	Type          string     `dynamodbav:"type"`
	ID            string     `dynamodbav:"id"`
	ProgramID     string     `dynamodbav:"programId"`
	OrgID         string     `dynamodbav:"orgId"`
	Title         string     `dynamodbav:"title"`
	Instructions  string     `dynamodbav:"instructions"`
	DueOffsetDays int        `dynamodbav:"dueOffsetDays"`
	DueDate       *time.Time `dynamodbav:"dueDate,nullempty"`
	Required      bool       `dynamodbav:"required"`
	MaxScore      int        `dynamodbav:"maxScore"`
	PassMark      int        `dynamodbav:"passMark"`
	Position      int        `dynamodbav:"position"`
	CreatedAt     time.Time  `dynamodbav:"createdAt"`
	UpdatedAt     time.Time  `dynamodbav:"updatedAt"`
	Version       int64      `dynamodbav:"version"`
}

func toTaskItem(t Task) taskItem {
	return taskItem{
		PK: programPK(t.ProgramID), SK: taskSK(t.ID), Type: "task",
		ID: t.ID, ProgramID: t.ProgramID, OrgID: t.OrgID, Title: t.Title, Instructions: t.Instructions,
		DueOffsetDays: t.DueOffsetDays, DueDate: optTime(t.DueDate), Required: t.Required,
		MaxScore: t.MaxScore, PassMark: t.PassMark, Position: t.Position,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(), Version: t.Version,
	}
}

func (it taskItem) task() Task {
	return Task{
		ID: it.ID, ProgramID: it.ProgramID, OrgID: it.OrgID, Title: it.Title, Instructions: it.Instructions,
		DueOffsetDays: it.DueOffsetDays, DueDate: fromOpt(it.DueDate), Required: it.Required,
		MaxScore: it.MaxScore, PassMark: it.PassMark, Position: it.Position,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version,
	}
}

func decodeTask(av map[string]types.AttributeValue) (Task, error) {
	var it taskItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Task{}, fmt.Errorf("decode task: %w", err)
	}
	return it.task(), nil
}

func checkTask(t Task) error {
	switch {
	case !ids.Valid(t.ID, ids.Task):
		return errors.New("invalid task id")
	case !ids.Valid(t.ProgramID, ids.Program):
		return errors.New("invalid program id")
	case !ids.Valid(t.OrgID, ids.Org):
		return errors.New("invalid org id")
	case t.Position < 1:
		return errors.New("task position must be at least 1")
	}
	return nil
}

// CreateTask adds t to its program in one transaction with a condition on
// the program: it must still exist, still be in programStatus (the state the
// caller's rules ran against, normally draft or open) and still have exactly
// t.Position-1 tasks (its taskCount, incremented here). So a task can never
// be added to a program that closed meanwhile, and two concurrent creates
// cannot both take one position; the loser gets ErrConflict and may re-read
// and retry. ErrNotFound if the program does not exist. Version starts at 1.
// extra items (the idempotency completion) commit in the same transaction;
// a failed condition on one is ErrExtraItemFailed.
func (s *Store) CreateTask(ctx context.Context, t Task, programStatus domain.ProgramStatus, extra ...types.TransactWriteItem) (Task, error) {
	if err := checkTask(t); err != nil {
		return Task{}, wrap("create task", err)
	}
	t.Version = 1
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	av, err := attributevalue.MarshalMap(toTaskItem(t))
	if err != nil {
		return Task{}, wrap("create task", fmt.Errorf("encode task: %w", err))
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                aws.String(s.table),
			Key:                      programKey(t.ProgramID),
			UpdateExpression:         aws.String("SET taskCount = :next"),
			ConditionExpression:      aws.String("attribute_exists(PK) AND orgId = :org AND #status = :status AND taskCount = :count"),
			ExpressionAttributeNames: map[string]string{"#status": attrStatus},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":org":    str(t.OrgID),
				":status": str(string(programStatus)),
				":count":  num(int64(t.Position - 1)),
				":next":   num(int64(t.Position)),
			},
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	base := len(items)
	items = append(items, extra...)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return t, nil
	}
	codes, ok := cancellation(err)
	if !ok {
		return Task{}, wrap("create task", err)
	}
	for i := base; i < len(items); i++ {
		if reasonAt(codes, i) == codeConditionFailed {
			return Task{}, wrap("create task", ErrExtraItemFailed)
		}
	}
	if _, gerr := s.getProgram(ctx, t.ProgramID); errors.Is(gerr, ErrNotFound) {
		return Task{}, wrap("create task", ErrNotFound)
	}
	return Task{}, wrap("create task", fmt.Errorf("program changed: %w: %w", ErrConflict, err))
}

// GetTask returns one task of a program, or ErrNotFound (also for malformed
// IDs, and for a task ID of another program).
func (s *Store) GetTask(ctx context.Context, programID, taskID string) (Task, error) {
	if !ids.Valid(programID, ids.Program) || !ids.Valid(taskID, ids.Task) {
		return Task{}, wrap("get task", ErrNotFound)
	}
	av, found, err := s.getItem(ctx, taskKey(programID, taskID))
	if err != nil {
		return Task{}, wrap("get task", err)
	}
	if !found {
		return Task{}, wrap("get task", ErrNotFound)
	}
	t, err := decodeTask(av)
	return t, wrap("get task", err)
}

// ListTasks returns every task of the program in position order (a program
// has at most domain.MaxTasksPerProgram tasks, so there is no paging). An
// unknown program has no tasks: the caller checks the program exists and may
// be seen. ErrNotFound only for a malformed program ID.
func (s *Store) ListTasks(ctx context.Context, programID string) ([]Task, error) {
	if !ids.Valid(programID, ids.Program) {
		return nil, wrap("list tasks", ErrNotFound)
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     str(programPK(programID)),
			":prefix": str(skTaskPrefix),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(s.pageSize),
	})
	out := []Task{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list tasks", err)
		}
		for _, av := range page.Items {
			t, err := decodeTask(av)
			if err != nil {
				return nil, wrap("list tasks", err)
			}
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Position != out[j].Position {
			return out[i].Position < out[j].Position
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// UpdateTask writes t's content if the task's version is still
// expectedVersion and its program is still in programStatus (the state the
// caller's rules ran against: grading may change in draft but not once
// open, and nothing changes once closed), in one transaction. It returns the
// stored task with the bumped version. ErrNotFound if the task is gone;
// ErrConflict for a stale version or a program that changed state.
func (s *Store) UpdateTask(ctx context.Context, t Task, programStatus domain.ProgramStatus, expectedVersion int64) (Task, error) {
	if err := checkTask(t); err != nil {
		return Task{}, wrap("update task", err)
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = s.now().UTC()
	}
	it := toTaskItem(t)
	values := map[string]types.AttributeValue{
		":expected": num(expectedVersion), ":next": num(expectedVersion + 1),
		":title": str(it.Title), ":instructions": str(it.Instructions),
		":offset":   num(int64(it.DueOffsetDays)),
		":required": &types.AttributeValueMemberBOOL{Value: it.Required},
		":maxScore": num(int64(it.MaxScore)), ":passMark": num(int64(it.PassMark)),
		":updatedAt": str(it.UpdatedAt.Format(time.RFC3339Nano)),
		":due":       &types.AttributeValueMemberNULL{Value: true},
	}
	if it.DueDate != nil {
		values[":due"] = str(it.DueDate.Format(time.RFC3339Nano))
	}
	items := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                 aws.String(s.table),
			Key:                       programKey(t.ProgramID),
			ConditionExpression:       aws.String("attribute_exists(PK) AND #status = :status"),
			ExpressionAttributeNames:  map[string]string{"#status": attrStatus},
			ExpressionAttributeValues: map[string]types.AttributeValue{":status": str(string(programStatus))},
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table),
			Key:       taskKey(t.ProgramID, t.ID),
			UpdateExpression: aws.String("SET #version = :next, title = :title, instructions = :instructions, " +
				"dueOffsetDays = :offset, dueDate = :due, #required = :required, maxScore = :maxScore, " +
				"passMark = :passMark, updatedAt = :updatedAt"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND #version = :expected"),
			ExpressionAttributeNames:  map[string]string{"#version": attrVersion, "#required": "required"},
			ExpressionAttributeValues: values,
		}},
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		if _, ok := cancellation(err); !ok {
			return Task{}, wrap("update task", err)
		}
		if _, gerr := s.GetTask(ctx, t.ProgramID, t.ID); errors.Is(gerr, ErrNotFound) {
			return Task{}, wrap("update task", ErrNotFound)
		}
		return Task{}, wrap("update task", fmt.Errorf("task or program changed: %w: %w", ErrConflict, err))
	}
	got, err := s.GetTask(ctx, t.ProgramID, t.ID)
	return got, wrap("update task", err)
}
