package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// newProgram is a valid draft of org, created at base+offset.
func newProgram(org string, offset time.Duration, skills ...string) store.Program {
	if len(skills) == 0 {
		skills = []string{"go"}
	}
	created := base.Add(offset)
	return store.Program{
		ID: ids.New(ids.Program), OrgID: org, Title: "Backend internship", Description: "Build services.",
		Skills: skills, Capacity: 3, Status: domain.ProgramDraft, CreatedBy: ids.New(ids.User),
		OpensAt: base.Add(24 * time.Hour), ClosesAt: base.Add(10 * 24 * time.Hour),
		StartsAt: base.Add(20 * 24 * time.Hour), EndsAt: base.Add(80 * 24 * time.Hour),
		CreatedAt: created, UpdatedAt: created,
	}
}

func mustProgram(t *testing.T, e env, p store.Program) store.Program {
	t.Helper()
	got, err := e.st.CreateProgram(ctx(t), p)
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	return got
}

func TestProgramRoundTrip(t *testing.T) {
	e := newEnv(t)
	p := newProgram(ids.New(ids.Org), 0, "go", "aws")
	p.Enrolled, p.Version = 7, 9 // ignored on create
	created := mustProgram(t, e, p)
	if created.Version != 1 || created.Enrolled != 0 {
		t.Fatalf("created version/enrolled = %d/%d, want 1/0", created.Version, created.Enrolled)
	}
	got, err := e.st.GetProgram(ctx(t), p.ID)
	if err != nil {
		t.Fatalf("GetProgram: %v", err)
	}
	if got.ID != p.ID || got.OrgID != p.OrgID || !slices.Equal(got.Skills, []string{"go", "aws"}) ||
		!got.OpensAt.Equal(p.OpensAt) || !got.EndsAt.Equal(p.EndsAt) || got.Status != domain.ProgramDraft ||
		got.Version != 1 || !got.PublishedAt.IsZero() || got.CreatedBy != p.CreatedBy {
		t.Fatalf("GetProgram = %+v, want %+v", got, p)
	}
	if _, err := e.st.CreateProgram(ctx(t), p); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateProgram: %v, want ErrConflict", err)
	}
	for _, id := range []string{"", "prg_x", ids.New(ids.Program), ids.New(ids.Task)} {
		if _, err := e.st.GetProgram(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetProgram(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestCreateProgramRejectsInvalid(t *testing.T) {
	e := newEnv(t)
	org := ids.New(ids.Org)
	tests := map[string]func(*store.Program){
		"bad id":      func(p *store.Program) { p.ID = "prg_bad" },
		"bad org":     func(p *store.Program) { p.OrgID = "org#1" },
		"bad status":  func(p *store.Program) { p.Status = "published" },
		"no opensAt":  func(p *store.Program) { p.OpensAt = time.Time{} },
		"neg capcity": func(p *store.Program) { p.Capacity = -1 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			p := newProgram(org, 0)
			mutate(&p)
			if _, err := e.st.CreateProgram(ctx(t), p); err == nil {
				t.Fatal("CreateProgram accepted an invalid program")
			}
		})
	}
}

func TestUpdateProgramVersionsAndListingIndex(t *testing.T) {
	e := newEnv(t)
	org := ids.New(ids.Org)
	p := mustProgram(t, e, newProgram(org, 0))

	open := p
	open.Status, open.PublishedAt, open.Title = domain.ProgramOpen, base.Add(time.Hour), "Renamed"
	got, err := e.st.UpdateProgram(ctx(t), open, 1)
	if err != nil {
		t.Fatalf("UpdateProgram: %v", err)
	}
	if got.Version != 2 || got.Status != domain.ProgramOpen || got.Title != "Renamed" || !got.PublishedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("UpdateProgram = %+v", got)
	}
	if _, err := e.st.UpdateProgram(ctx(t), open, 1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale UpdateProgram: %v, want ErrConflict", err)
	}
	missing := newProgram(org, 0)
	if _, err := e.st.UpdateProgram(ctx(t), missing, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateProgram(missing): %v, want ErrNotFound", err)
	}
	page, err := e.st.ListOpenPrograms(ctx(t), "", 10, nil)
	if err != nil || len(page.Programs) != 1 || page.Programs[0].ID != p.ID || page.Next != nil {
		t.Fatalf("ListOpenPrograms after publish = %+v, %v", page, err)
	}
	closed := got
	closed.Status, closed.ClosedAt = domain.ProgramClosed, base.Add(2*time.Hour)
	if _, err := e.st.UpdateProgram(ctx(t), closed, 2); err != nil {
		t.Fatalf("close: %v", err)
	}
	page, err = e.st.ListOpenPrograms(ctx(t), "", 10, nil)
	if err != nil || len(page.Programs) != 0 {
		t.Fatalf("ListOpenPrograms after close = %+v, %v (GSI2PK not moved)", page, err)
	}
}

func TestUpdateProgramKeepsEnrolledCount(t *testing.T) {
	e := newEnv(t)
	p := mustProgram(t, e, newProgram(ids.New(ids.Org), 0))
	// An accept elsewhere took two seats without the editor knowing.
	setEnrolled(t, e, p.ID, 2)
	p.Enrolled = 0
	p.Capacity = 5
	got, err := e.st.UpdateProgram(ctx(t), p, 1)
	if err != nil {
		t.Fatalf("UpdateProgram: %v", err)
	}
	if got.Enrolled != 2 || got.Capacity != 5 {
		t.Fatalf("enrolled/capacity = %d/%d, want 2/5", got.Enrolled, got.Capacity)
	}
	got.Capacity = 1
	if _, err := e.st.UpdateProgram(ctx(t), got, got.Version); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("capacity below enrolled: %v, want ErrConflict", err)
	}
}

func setEnrolled(t *testing.T, e env, programID string, n int) {
	t.Helper()
	_, err := e.db.UpdateItem(ctx(t), updateInput(e.table, "PROGRAM#"+programID, "PROFILE",
		"SET enrolledCount = :n", map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: fmt.Sprint(n)}}))
	if err != nil {
		t.Fatalf("set enrolledCount: %v", err)
	}
}

func TestListOrgProgramsPagesNewestFirst(t *testing.T) {
	e := newEnv(t)
	org, other := ids.New(ids.Org), ids.New(ids.Org)
	var want []string
	for i := range 7 {
		p := mustProgram(t, e, newProgram(org, time.Duration(i)*time.Minute))
		want = append([]string{p.ID}, want...)
	}
	mustProgram(t, e, newProgram(other, 0))

	var got []string
	var start store.StartKey
	pages := 0
	for {
		page, err := e.st.ListOrgPrograms(ctx(t), org, 3, start)
		if err != nil {
			t.Fatalf("ListOrgPrograms: %v", err)
		}
		if len(page.Programs) > 3 {
			t.Fatalf("page of %d, limit 3", len(page.Programs))
		}
		for _, p := range page.Programs {
			got = append(got, p.ID)
		}
		pages++
		if page.Next == nil {
			break
		}
		start = page.Next
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("pages=%d order=%v, want %v", pages, got, want)
	}
	// A full last page reports no Next.
	page, err := e.st.ListOrgPrograms(ctx(t), org, 7, nil)
	if err != nil || len(page.Programs) != 7 || page.Next != nil {
		t.Fatalf("exact page = %d items, next %v, %v", len(page.Programs), page.Next, err)
	}
}

func TestListingLimitsAndStartKeys(t *testing.T) {
	e := newEnv(t)
	org := ids.New(ids.Org)
	for i := range store.MaxPageSize + 2 {
		mustProgram(t, e, newProgram(org, time.Duration(i)*time.Second))
	}
	for _, tc := range []struct {
		name  string
		limit int
		want  int
	}{{"default", 0, 20}, {"negative", -5, 20}, {"capped", 500, store.MaxPageSize}, {"one", 1, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := e.st.ListOrgPrograms(ctx(t), org, tc.limit, nil)
			if err != nil || len(page.Programs) != tc.want || page.Next == nil {
				t.Fatalf("limit %d: %d items, next %v, %v; want %d", tc.limit, len(page.Programs), page.Next, err, tc.want)
			}
		})
	}
	first, err := e.st.ListOrgPrograms(ctx(t), org, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The Next of one org's listing is refused by another org's and by the
	// public listing.
	if _, err := e.st.ListOrgPrograms(ctx(t), ids.New(ids.Org), 2, first.Next); !errors.Is(err, store.ErrInvalidStartKey) {
		t.Errorf("other org start key: %v, want ErrInvalidStartKey", err)
	}
	if _, err := e.st.ListOpenPrograms(ctx(t), "", 2, first.Next); !errors.Is(err, store.ErrInvalidStartKey) {
		t.Errorf("org key on public listing: %v, want ErrInvalidStartKey", err)
	}
	bad := store.StartKey{"PK": &types.AttributeValueMemberS{Value: "USER#x"}}
	if _, err := e.st.ListOrgPrograms(ctx(t), org, 2, bad); !errors.Is(err, store.ErrInvalidStartKey) {
		t.Errorf("malformed start key: %v, want ErrInvalidStartKey", err)
	}
}

func TestListOpenProgramsSkillFilterPages(t *testing.T) {
	e := newEnv(t)
	store.SetPageSize(e.st, 2) // DynamoDB pages smaller than the result, so filtering spans pages
	org := ids.New(ids.Org)
	var goIDs []string
	for i := range 9 {
		skills := []string{"design"}
		if i%3 != 0 {
			skills = []string{"design", "go"}
		}
		p := newProgram(org, time.Duration(i)*time.Minute, skills...)
		p.OpensAt = base.Add(time.Duration(i) * time.Hour)
		p = mustProgram(t, e, p)
		p.Status = domain.ProgramOpen
		if _, err := e.st.UpdateProgram(ctx(t), p, 1); err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			goIDs = append(goIDs, p.ID)
		}
	}
	mustProgram(t, e, newProgram(org, 0, "go")) // a draft: never listed

	var got []string
	var start store.StartKey
	for range 10 {
		page, err := e.st.ListOpenPrograms(ctx(t), "go", 4, start)
		if err != nil {
			t.Fatalf("ListOpenPrograms: %v", err)
		}
		if len(page.Programs) > 4 {
			t.Fatalf("page of %d, limit 4", len(page.Programs))
		}
		for _, p := range page.Programs {
			if !slices.Contains(p.Skills, "go") || p.Status != domain.ProgramOpen {
				t.Fatalf("listed %+v", p)
			}
			got = append(got, p.ID)
		}
		if page.Next == nil {
			break
		}
		start = page.Next
	}
	if !slices.Equal(got, goIDs) {
		t.Fatalf("skill listing = %v, want %v (opening order, no repeats)", got, goIDs)
	}
	if _, err := e.st.ListOpenPrograms(ctx(t), "Go Lang", 4, nil); err == nil {
		t.Fatal("unnormalized skill accepted")
	}
}

// TestSkillFilterReadsABoundedPartPerPage: a skill no program has must not
// make one public request read the whole open-programs index.
func TestSkillFilterReadsABoundedPartPerPage(t *testing.T) {
	e := newEnv(t)
	store.SetPageSize(e.st, 1)
	org := ids.New(ids.Org)
	for i := range 12 {
		p := newProgram(org, time.Duration(i)*time.Minute, "design")
		p.OpensAt = base.Add(time.Duration(i) * time.Hour)
		p = mustProgram(t, e, p)
		p.Status = domain.ProgramOpen
		if _, err := e.st.UpdateProgram(ctx(t), p, 1); err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.st.ListOpenPrograms(ctx(t), "zz", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Programs) != 0 || page.Next == nil {
		t.Fatalf("first page = %d programs, next %v: want an empty page that goes on", len(page.Programs), page.Next)
	}
	pages := 1
	for page.Next != nil {
		if page, err = e.st.ListOpenPrograms(ctx(t), "zz", 1, page.Next); err != nil {
			t.Fatal(err)
		}
		if pages++; pages > 5 {
			t.Fatal("the continuation never ends")
		}
	}
}
