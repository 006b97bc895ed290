package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func updateInput(table, pk, sk, expr string, values map[string]types.AttributeValue) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk},
		},
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeValues: values,
	}
}

func newTask(p store.Program, position int) store.Task {
	return store.Task{
		ID: ids.New(ids.Task), ProgramID: p.ID, OrgID: p.OrgID, Title: "Write a handler",
		Instructions: "Strict input.", DueOffsetDays: 7, Required: true, MaxScore: 10, PassMark: 6,
		Position: position, CreatedAt: base, UpdatedAt: base,
	}
}

func TestTasksCreateListGet(t *testing.T) {
	e := newEnv(t)
	p := mustProgram(t, e, newProgram(ids.New(ids.Org), 0))
	var want []string
	for i := 1; i <= 4; i++ {
		tk := newTask(p, i)
		if i == 2 {
			tk.DueOffsetDays, tk.DueDate = 0, p.StartsAt.Add(48*time.Hour)
		}
		got, err := e.st.CreateTask(ctx(t), tk, domain.ProgramDraft)
		if err != nil {
			t.Fatalf("CreateTask %d: %v", i, err)
		}
		if got.Version != 1 {
			t.Fatalf("version %d", got.Version)
		}
		want = append(want, tk.ID)
	}
	tasks, err := e.st.ListTasks(ctx(t), p.ID)
	if err != nil {
		t.Fatalf("ListTasks: %v", err)
	}
	if len(tasks) != 4 {
		t.Fatalf("ListTasks = %d tasks", len(tasks))
	}
	for i, tk := range tasks {
		if tk.ID != want[i] || tk.Position != i+1 {
			t.Fatalf("task %d = %s@%d, want %s@%d", i, tk.ID, tk.Position, want[i], i+1)
		}
	}
	if !tasks[1].DueDate.Equal(p.StartsAt.Add(48*time.Hour)) || tasks[1].DueOffsetDays != 0 || tasks[0].DueOffsetDays != 7 || !tasks[0].DueDate.IsZero() {
		t.Fatalf("due forms lost: %+v / %+v", tasks[0], tasks[1])
	}
	got, err := e.st.GetTask(ctx(t), p.ID, want[2])
	if err != nil || got.ID != want[2] || got.OrgID != p.OrgID {
		t.Fatalf("GetTask = %+v, %v", got, err)
	}
	other := mustProgram(t, e, newProgram(p.OrgID, 0))
	if _, err := e.st.GetTask(ctx(t), other.ID, want[2]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTask through another program: %v, want ErrNotFound", err)
	}
	empty, err := e.st.ListTasks(ctx(t), other.ID)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("ListTasks(empty) = %v, %v; want [] ", empty, err)
	}
}

func TestCreateTaskConditions(t *testing.T) {
	e := newEnv(t)
	p := mustProgram(t, e, newProgram(ids.New(ids.Org), 0))
	if _, err := e.st.CreateTask(ctx(t), newTask(p, 2), domain.ProgramDraft); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("wrong position: %v, want ErrConflict", err)
	}
	if _, err := e.st.CreateTask(ctx(t), newTask(p, 1), domain.ProgramOpen); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale program status: %v, want ErrConflict", err)
	}
	foreign := newTask(p, 1)
	foreign.OrgID = ids.New(ids.Org)
	if _, err := e.st.CreateTask(ctx(t), foreign, domain.ProgramDraft); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("org mismatch: %v, want ErrConflict", err)
	}
	missing := newProgram(p.OrgID, 0)
	if _, err := e.st.CreateTask(ctx(t), newTask(missing, 1), domain.ProgramDraft); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing program: %v, want ErrNotFound", err)
	}
	tasks, _ := e.st.ListTasks(ctx(t), p.ID)
	if len(tasks) != 0 {
		t.Fatalf("failed creates wrote %d tasks", len(tasks))
	}
}

// TestCreateTaskRacesClose: tasks created while the program closes either
// land before the close or fail; none is added to the closed program, and
// no two share a position.
func TestCreateTaskRacesClose(t *testing.T) {
	e := newEnv(t)
	p := mustProgram(t, e, newProgram(ids.New(ids.Org), 0))
	p.Status = domain.ProgramOpen
	p, err := e.st.UpdateProgram(ctx(t), p, 1)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 6
	var wg sync.WaitGroup
	created := make(chan store.Task, workers*10)
	closedCh := make(chan struct{})
	for range workers {
		wg.Go(func() {
			for range 10 {
				cur, err := e.st.GetProgram(ctx(t), p.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if cur.Status != domain.ProgramOpen {
					return
				}
				tasks, err := e.st.ListTasks(ctx(t), p.ID)
				if err != nil {
					t.Error(err)
					return
				}
				tk, err := e.st.CreateTask(ctx(t), newTask(cur, len(tasks)+1), cur.Status)
				switch {
				case err == nil:
					created <- tk
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("CreateTask: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		defer close(closedCh)
		c := p
		c.Status, c.ClosedAt = domain.ProgramClosed, base
		for {
			cur, err := e.st.GetProgram(ctx(t), p.ID)
			if err != nil {
				t.Error(err)
				return
			}
			c.Version = cur.Version
			if _, err := e.st.UpdateProgram(ctx(t), c, cur.Version); err == nil {
				return
			} else if !errors.Is(err, store.ErrConflict) {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(created)
	<-closedCh
	n := 0
	for range created {
		n++
	}
	tasks, err := e.st.ListTasks(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != n {
		t.Fatalf("%d creates succeeded, %d tasks stored", n, len(tasks))
	}
	for i, tk := range tasks {
		if tk.Position != i+1 {
			t.Fatalf("positions not unique and dense: %d at index %d", tk.Position, i)
		}
	}
	final, _ := e.st.GetProgram(ctx(t), p.ID)
	if final.Status != domain.ProgramClosed {
		t.Fatalf("program status %s", final.Status)
	}
	if _, err := e.st.CreateTask(ctx(t), newTask(final, n+1), domain.ProgramOpen); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create after close: %v, want ErrConflict", err)
	}
}

func TestUpdateTask(t *testing.T) {
	e := newEnv(t)
	p := mustProgram(t, e, newProgram(ids.New(ids.Org), 0))
	tk, err := e.st.CreateTask(ctx(t), newTask(p, 1), domain.ProgramDraft)
	if err != nil {
		t.Fatal(err)
	}
	next := tk
	next.Title, next.DueOffsetDays, next.DueDate, next.MaxScore = "Renamed", 0, p.EndsAt, 20
	got, err := e.st.UpdateTask(ctx(t), next, domain.ProgramDraft, 1)
	if err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	if got.Version != 2 || got.Title != "Renamed" || got.DueOffsetDays != 0 || !got.DueDate.Equal(p.EndsAt) || got.MaxScore != 20 || got.Position != 1 {
		t.Fatalf("UpdateTask = %+v", got)
	}
	back := got
	back.DueOffsetDays, back.DueDate = 3, time.Time{}
	got, err = e.st.UpdateTask(ctx(t), back, domain.ProgramDraft, 2)
	if err != nil || got.DueOffsetDays != 3 || !got.DueDate.IsZero() {
		t.Fatalf("switch to offset = %+v, %v", got, err)
	}
	if _, err := e.st.UpdateTask(ctx(t), back, domain.ProgramDraft, 2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale version: %v, want ErrConflict", err)
	}
	if _, err := e.st.UpdateTask(ctx(t), back, domain.ProgramOpen, 3); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("program state changed: %v, want ErrConflict", err)
	}
	gone := newTask(p, 1)
	if _, err := e.st.UpdateTask(ctx(t), gone, domain.ProgramDraft, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing task: %v, want ErrNotFound", err)
	}
}
