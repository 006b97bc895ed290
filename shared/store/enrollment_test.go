package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func newEnrollment(intern, mentor string, createdAt time.Time) store.Enrollment {
	return store.Enrollment{
		ID: ids.New(ids.Enrollment), ProgramID: ids.New(ids.Program), OrgID: ids.New(ids.Org),
		InternID: intern, MentorID: mentor, ApplicationID: ids.New(ids.Application),
		Status: store.EnrollmentActive,
		Tasks: map[string]store.TaskProgress{
			ids.New(ids.Task): {Status: store.TaskNotStarted},
			ids.New(ids.Task): {Status: store.TaskNotStarted},
		},
		CreatedAt: createdAt, Version: 1,
	}
}

func TestGetEnrollment(t *testing.T) {
	e := newEnv(t)
	want := newEnrollment(ids.New(ids.User), ids.New(ids.User), base)
	if err := store.PutEnrollmentForTest(ctx(t), e.st, want); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.GetEnrollment(ctx(t), want.ID)
	if err != nil {
		t.Fatalf("GetEnrollment: %v", err)
	}
	if got.ID != want.ID || got.InternID != want.InternID || got.MentorID != want.MentorID ||
		got.ProgramID != want.ProgramID || got.OrgID != want.OrgID || got.ApplicationID != want.ApplicationID ||
		got.Status != store.EnrollmentActive || got.Version != 1 || !got.CreatedAt.Equal(base) || !got.CompletedAt.IsZero() {
		t.Fatalf("GetEnrollment = %+v, want %+v", got, want)
	}
	if len(got.Tasks) != 2 {
		t.Fatalf("tasks = %v, want 2 entries", got.Tasks)
	}
	for id, tp := range want.Tasks {
		if got.Tasks[id] != tp {
			t.Errorf("task %s = %+v, want %+v", id, got.Tasks[id], tp)
		}
	}
	if !got.Active() {
		t.Error("Active() = false for an active enrollment")
	}

	for name, id := range map[string]string{
		"unknown":    ids.New(ids.Enrollment),
		"malformed":  "enr_#PROFILE",
		"other type": ids.New(ids.Program),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := e.st.GetEnrollment(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("GetEnrollment(%s) err = %v, want ErrNotFound", id, err)
			}
		})
	}
}

func TestListEnrollmentsPaged(t *testing.T) {
	e := newEnv(t)
	intern, mentor, other := ids.New(ids.User), ids.New(ids.User), ids.New(ids.User)
	var created []string
	// Five enrollments of one intern with one mentor, a millisecond apart
	// (sort keys must order sub-second times correctly), plus noise.
	for i := 0; i < 5; i++ {
		en := newEnrollment(intern, mentor, base.Add(time.Duration(i)*100*time.Millisecond))
		if err := store.PutEnrollmentForTest(ctx(t), e.st, en); err != nil {
			t.Fatal(err)
		}
		created = append(created, en.ID)
	}
	if err := store.PutEnrollmentForTest(ctx(t), e.st, newEnrollment(other, other, base)); err != nil {
		t.Fatal(err)
	}

	lists := map[string]func(limit int32, start map[string]types.AttributeValue) ([]store.Enrollment, map[string]types.AttributeValue, error){
		"intern": func(l int32, s map[string]types.AttributeValue) ([]store.Enrollment, map[string]types.AttributeValue, error) {
			return e.st.ListInternEnrollments(ctx(t), intern, l, s)
		},
		"mentor": func(l int32, s map[string]types.AttributeValue) ([]store.Enrollment, map[string]types.AttributeValue, error) {
			return e.st.ListMentorEnrollments(ctx(t), mentor, l, s)
		},
	}
	for name, list := range lists {
		for _, limit := range []int32{1, 2, 5, 50} {
			t.Run(fmt.Sprintf("%s/limit %d", name, limit), func(t *testing.T) {
				var got []string
				var start map[string]types.AttributeValue
				for pages := 0; ; pages++ {
					if pages > 10 {
						t.Fatal("pagination does not end")
					}
					items, next, err := list(limit, start)
					if err != nil {
						t.Fatalf("list: %v", err)
					}
					if int32(len(items)) > limit {
						t.Fatalf("page of %d items, limit %d", len(items), limit)
					}
					for _, it := range items {
						got = append(got, it.ID)
					}
					if next == nil {
						break
					}
					start = next
				}
				if len(got) != len(created) {
					t.Fatalf("listed %v, want %d items", got, len(created))
				}
				for i := range got {
					// Newest first.
					if got[i] != created[len(created)-1-i] {
						t.Fatalf("order %v, want reverse of %v", got, created)
					}
				}
			})
		}
	}

	t.Run("start of another listing", func(t *testing.T) {
		_, next, err := e.st.ListInternEnrollments(ctx(t), intern, 1, nil)
		if err != nil || next == nil {
			t.Fatalf("first page: next=%v err=%v", next, err)
		}
		if _, _, err := e.st.ListInternEnrollments(ctx(t), other, 1, next); !errors.Is(err, store.ErrInvalidStartKey) {
			t.Fatalf("another intern's start key: err = %v, want ErrInvalidPageStart", err)
		}
		if _, _, err := e.st.ListMentorEnrollments(ctx(t), mentor, 1, next); !errors.Is(err, store.ErrInvalidStartKey) {
			t.Fatalf("GSI1 key on the GSI2 listing: err = %v, want ErrInvalidPageStart", err)
		}
		forged := map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "USER#" + intern}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"},
			"GSI1PK": next["GSI1PK"], "GSI1SK": next["GSI1SK"],
		}
		if _, _, err := e.st.ListInternEnrollments(ctx(t), intern, 1, forged); !errors.Is(err, store.ErrInvalidStartKey) {
			t.Fatalf("start key naming a user item: err = %v, want ErrInvalidPageStart", err)
		}
	})
	t.Run("limit out of range", func(t *testing.T) {
		for _, l := range []int32{0, -1, 51} {
			if _, _, err := e.st.ListInternEnrollments(ctx(t), intern, l, nil); err == nil {
				t.Errorf("limit %d accepted", l)
			}
		}
	})
}
