package programs_test

import (
	"encoding/json/v2"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/programs"
	pt "github.com/vip-platform/backend/shared/programs/programstest"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// world is a typical cast: two organizations with their staff, and interns.
type world struct {
	env                   *pt.Env
	org, other            store.Org
	admin, mentor         store.User
	otherAdmin, otherMntr store.User
	intern, platformAdmin store.User
}

func newWorld(t *testing.T) world {
	t.Helper()
	e := pt.New(t)
	w := world{env: e, org: e.Org(t, "Acme Robotics"), other: e.Org(t, "Globex")}
	w.admin = e.User(t, apigw.RoleOrgAdmin, w.org.ID)
	w.mentor = e.User(t, apigw.RoleMentor, w.org.ID)
	w.otherAdmin = e.User(t, apigw.RoleOrgAdmin, w.other.ID)
	w.otherMntr = e.User(t, apigw.RoleMentor, w.other.ID)
	w.intern = e.User(t, apigw.RoleIntern, "")
	w.platformAdmin = e.Admin(t)
	return w
}

func fieldsOf(err error) []string {
	var ve validate.Errors
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve {
		out = append(out, f.Field)
	}
	return out
}

func TestCreateProgramAuthorization(t *testing.T) {
	w := newWorld(t)
	suspended := w.env.User(t, apigw.RoleOrgAdmin, w.org.ID)
	w.env.Suspend(t, suspended)
	// A mentor whose token still says org_admin of the org: the stored role
	// decides.
	promoted := w.mentor
	promoted.Role = apigw.RoleOrgAdmin
	tests := []struct {
		name   string
		caller store.User
		want   error
		denial bool
	}{
		{"org admin of the org", w.admin, nil, false},
		{"mentor of the org", w.mentor, programs.ErrForbidden, true},
		{"token claims org_admin, store says mentor", promoted, programs.ErrForbidden, true},
		{"org admin of another org", w.otherAdmin, programs.ErrNotVisible, true},
		{"intern", w.intern, programs.ErrNotVisible, true},
		{"platform admin", w.platformAdmin, programs.ErrNotVisible, true},
		{"suspended org admin", suspended, programs.ErrUnauthenticated, false},
		{"unknown user", store.User{ID: ids.New(ids.User), Role: apigw.RoleOrgAdmin, OrgID: w.org.ID}, programs.ErrUnauthenticated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.env.Denials()
			res, err := w.env.Service.CreateProgram(pt.Ctx(t), pt.Caller(tt.caller), w.org.ID, w.env.ProgramInput(), programs.IdempotencyKey{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if (w.env.Denials() > before) != tt.denial {
				t.Fatalf("denial audited = %v, want %v", w.env.Denials() > before, tt.denial)
			}
			if tt.want == nil && (res.View.Status != "draft" || res.View.OrgID != w.org.ID || res.View.Version != 1 || res.Replayed) {
				t.Fatalf("created = %+v", res)
			}
		})
	}
	page, _ := w.env.Store.ListOrgPrograms(pt.Ctx(t), w.org.ID, 50, nil)
	if len(page.Programs) != 1 {
		t.Fatalf("%d programs stored, want only the allowed one", len(page.Programs))
	}
	d := w.env.Audit.Find(programs.ActionDenied)[0]
	if d.Actor != w.mentor.ID || d.Outcome != "denied" || d.Details["route"] == "" || d.Details["reason"] == "" || d.Target != w.org.ID {
		t.Fatalf("denial entry = %+v", d)
	}
}

func TestCreateProgramValidation(t *testing.T) {
	w := newWorld(t)
	in := w.env.ProgramInput()
	in.Title = ""
	in.Capacity = 0
	in.ApplicationClosesAt = in.ApplicationOpensAt.Add(-time.Hour)
	in.Skills = []string{"Go Lang!"}
	_, err := w.env.Service.CreateProgram(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, programs.IdempotencyKey{})
	got := fieldsOf(err)
	for _, f := range []string{"title", "capacity", "applicationClosesAt", "skills[0]"} {
		if !slices.Contains(got, f) {
			t.Errorf("field %s not reported: %v", f, got)
		}
	}
	if slices.Contains(got, "closesAt") || slices.Contains(got, "opensAt") {
		t.Errorf("domain field names leaked: %v", got)
	}
	page, _ := w.env.Store.ListOrgPrograms(pt.Ctx(t), w.org.ID, 50, nil)
	if len(page.Programs) != 0 {
		t.Fatal("invalid program stored")
	}
}

func TestCreateProgramIdempotency(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	in := w.env.ProgramInput()
	key := programs.IdempotencyKey{Key: "create-1", RequestHash: hash("body-1")}
	first, err := s.CreateProgram(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, key)
	if err != nil || first.Replayed {
		t.Fatalf("first: %+v, %v", first, err)
	}
	again, err := s.CreateProgram(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, key)
	if err != nil || !again.Replayed || again.View.ID != first.View.ID || !again.View.CreatedAt.Equal(first.View.CreatedAt) {
		t.Fatalf("replay: %+v, %v; want %+v", again, err, first.View)
	}
	if _, err := s.CreateProgram(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, programs.IdempotencyKey{Key: "create-1", RequestHash: hash("body-2")}); !errors.Is(err, programs.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other body: %v, want ErrIdempotencyMismatch", err)
	}
	// Keys are per caller: another admin's identical key is a new request.
	admin2 := w.env.User(t, apigw.RoleOrgAdmin, w.org.ID)
	other, err := s.CreateProgram(pt.Ctx(t), pt.Caller(admin2), w.org.ID, in, key)
	if err != nil || other.Replayed || other.View.ID == first.View.ID {
		t.Fatalf("other caller: %+v, %v", other, err)
	}
	// A refused request releases its key: fixing the body with the same
	// key then works.
	bad := in
	bad.Title = ""
	badKey := programs.IdempotencyKey{Key: "create-2", RequestHash: hash("bad")}
	if _, err := s.CreateProgram(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, bad, badKey); fieldsOf(err) == nil {
		t.Fatalf("invalid body: %v", err)
	}
	if res, err := s.CreateProgram(pt.Ctx(t), pt.Caller(w.admin), w.org.ID, in, programs.IdempotencyKey{Key: "create-2", RequestHash: hash("good")}); err != nil || res.Replayed {
		t.Fatalf("retry after a refusal: %+v, %v", res, err)
	}
	page, _ := w.env.Store.ListOrgPrograms(pt.Ctx(t), w.org.ID, 50, nil)
	if len(page.Programs) != 3 {
		t.Fatalf("%d programs stored, want 3", len(page.Programs))
	}
	if n := len(w.env.Audit.Find(programs.ActionProgramCreated)); n != 3 {
		t.Fatalf("%d creations audited, want 3 (a replay writes nothing)", n)
	}
}

func hash(s string) []byte {
	b := make([]byte, 32)
	copy(b, s)
	return b
}

func TestListOrgProgramsCursor(t *testing.T) {
	w := newWorld(t)
	var want []string
	for range 5 {
		p := w.env.Draft(t, w.admin)
		want = append([]string{p.ID}, want...)
		w.env.Clock.Advance(time.Minute)
	}
	s := w.env.Service
	var got []string
	token := ""
	for {
		page, err := s.ListOrgPrograms(pt.Ctx(t), pt.Caller(w.mentor), w.org.ID, 2, token)
		if err != nil {
			t.Fatalf("ListOrgPrograms: %v", err)
		}
		if len(page.Items) > 2 {
			t.Fatalf("page of %d", len(page.Items))
		}
		for _, p := range page.Items {
			got = append(got, p.ID)
		}
		if page.NextCursor == "" {
			break
		}
		token = page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	first, _ := s.ListOrgPrograms(pt.Ctx(t), pt.Caller(w.mentor), w.org.ID, 2, "")
	tampered := []byte(first.NextCursor)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '+' || tampered[len(tampered)/2] == '/' {
		tampered[len(tampered)/2] = 'A'
	}
	for name, tc := range map[string]struct {
		caller store.User
		token  string
	}{
		"tampered":             {w.mentor, string(tampered)},
		"garbage":              {w.mentor, "not-a-cursor"},
		"another caller's":     {w.admin, first.NextCursor},
		"truncated":            {w.mentor, first.NextCursor[:len(first.NextCursor)-4]},
		"public listing token": {w.mentor, publicToken(t, w)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.ListOrgPrograms(pt.Ctx(t), pt.Caller(tc.caller), w.org.ID, 2, tc.token)
			if !errors.Is(err, programs.ErrInvalidCursor) {
				t.Fatalf("err = %v, want ErrInvalidCursor", err)
			}
			if he := programs.ToHTTP(err); apigwStatus(he) != 400 {
				t.Fatalf("answered %v", he)
			}
		})
	}
	w.env.Clock.Advance(cursor.DefaultMaxAge + time.Minute)
	if _, err := s.ListOrgPrograms(pt.Ctx(t), pt.Caller(w.mentor), w.org.ID, 2, first.NextCursor); !errors.Is(err, programs.ErrInvalidCursor) {
		t.Fatalf("expired cursor: %v", err)
	}

	for name, c := range map[string]store.User{"other org admin": w.otherAdmin, "intern": w.intern, "platform admin": w.platformAdmin} {
		t.Run("denied "+name, func(t *testing.T) {
			if _, err := s.ListOrgPrograms(pt.Ctx(t), pt.Caller(c), w.org.ID, 2, ""); !errors.Is(err, programs.ErrNotVisible) {
				t.Fatalf("err = %v, want ErrNotVisible", err)
			}
		})
	}
}

func publicToken(t *testing.T, w world) string {
	t.Helper()
	tok, err := w.env.Sealer.SealKey(cursor.Purpose("GET /v1/programs", ""), map[string]typesAV{"PK": sAV("PROGRAM#x")})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func apigwStatus(err error) int {
	var ae *apigw.Error
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func TestPublicListingAndReading(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	open := w.env.Open(t, w.admin, "go", "aws")
	w.env.Clock.Advance(time.Minute)
	openDesign := w.env.Open(t, w.otherAdmin, "design")
	draft := w.env.Draft(t, w.admin, "go")
	closed := w.env.Move(t, w.admin, w.env.Open(t, w.admin, "go").ID, domain.ProgramClosed)
	archived := w.env.Move(t, w.admin, w.env.Move(t, w.admin, w.env.Open(t, w.admin, "go").ID, domain.ProgramClosed).ID, domain.ProgramArchived)

	all, err := s.ListOpenPrograms(pt.Ctx(t), "", 20, "")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range all.Items {
		listed = append(listed, p.ID)
	}
	if !slices.Equal(listed, []string{open.ID, openDesign.ID}) || all.NextCursor != "" {
		t.Fatalf("public listing = %v (next %q), want the two open programs", listed, all.NextCursor)
	}
	if all.Items[0].Organization != "Acme Robotics" || all.Items[1].Organization != "Globex" {
		t.Fatalf("organization names = %q, %q", all.Items[0].Organization, all.Items[1].Organization)
	}
	goOnly, err := s.ListOpenPrograms(pt.Ctx(t), "go", 20, "")
	if err != nil || len(goOnly.Items) != 1 || goOnly.Items[0].ID != open.ID {
		t.Fatalf("skill listing = %+v, %v", goOnly, err)
	}
	if _, err := s.ListOpenPrograms(pt.Ctx(t), "Go", 20, ""); !slices.Equal(fieldsOf(err), []string{"skill"}) {
		t.Fatalf("unnormalized skill: %v", err)
	}
	page1, err := s.ListOpenPrograms(pt.Ctx(t), "", 1, "")
	if err != nil || len(page1.Items) != 1 || page1.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", page1, err)
	}
	if _, err := s.ListOpenPrograms(pt.Ctx(t), "go", 1, page1.NextCursor); !errors.Is(err, programs.ErrInvalidCursor) {
		t.Fatalf("cursor reused with another filter: %v", err)
	}
	page2, err := s.ListOpenPrograms(pt.Ctx(t), "", 1, page1.NextCursor)
	if err != nil || len(page2.Items) != 1 || page2.Items[0].ID != openDesign.ID {
		t.Fatalf("second page: %+v, %v", page2, err)
	}

	// The raw JSON of public answers holds no org ID, email or count.
	raw, _ := json.Marshal(all)
	one, err := s.GetPublicProgram(pt.Ctx(t), programs.Caller{}, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	rawOne, _ := json.Marshal(one)
	for _, b := range []string{string(raw), string(rawOne)} {
		for _, banned := range []string{"orgId", w.org.ID, w.other.ID, "@", "enrolledCount", "capacity", "version", "createdBy", w.admin.ID} {
			if strings.Contains(b, banned) {
				t.Errorf("public JSON contains %q: %s", banned, b)
			}
		}
	}
	var generic map[string]any
	if err := json.Unmarshal(rawOne, &generic); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(generic))
	for k := range generic {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"applicationClosesAt", "applicationOpensAt", "description", "endsAt", "id", "organization", "skills", "startsAt", "status", "title"}
	if !slices.Equal(keys, want) {
		t.Fatalf("public program members = %v, want %v", keys, want)
	}

	if got, err := s.GetPublicProgram(pt.Ctx(t), programs.Caller{}, closed.ID); err != nil || got.Status != "closed" {
		t.Fatalf("closed program: %+v, %v", got, err)
	}
	for name, id := range map[string]string{"draft": draft.ID, "archived": archived.ID} {
		t.Run(name, func(t *testing.T) {
			before := w.env.Denials()
			_, err := s.GetPublicProgram(pt.Ctx(t), programs.Caller{RequestID: "r"}, id)
			if !errors.Is(err, programs.ErrNotVisible) || apigwStatus(programs.ToHTTP(err)) != 404 || w.env.Denials() != before+1 {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := s.GetPublicProgram(pt.Ctx(t), programs.Caller{}, ids.New(ids.Program)); !errors.Is(err, programs.ErrNotFound) {
		t.Fatalf("unknown program: %v", err)
	}
}

func TestUpdateProgram(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	str := func(v string) *string { return &v }
	p := w.env.Draft(t, w.admin)

	if _, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, 0, programs.UpdateProgramRequest{Title: str("New")}); !errors.Is(err, programs.ErrPreconditionRequired) {
		t.Fatalf("no If-Match: %v", err)
	}
	if _, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, 9, programs.UpdateProgramRequest{Title: str("New")}); !errors.Is(err, programs.ErrStale) {
		t.Fatalf("stale If-Match: %v", err)
	}
	if _, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, 1, programs.UpdateProgramRequest{}); fieldsOf(err) == nil {
		t.Fatalf("empty patch: %v", err)
	}
	got, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, 1, programs.UpdateProgramRequest{Title: str("New title"), Skills: []string{"Rust", "go"}})
	if err != nil || got.Title != "New title" || got.Version != 2 || !slices.Equal(got.Skills, []string{"rust", "go"}) {
		t.Fatalf("draft edit: %+v, %v", got, err)
	}
	for name, c := range map[string]struct {
		caller store.User
		want   error
	}{
		"mentor of the org": {w.mentor, programs.ErrForbidden},
		"other org admin":   {w.otherAdmin, programs.ErrNotVisible},
		"intern on a draft": {w.intern, programs.ErrNotVisible},
		"platform admin":    {w.platformAdmin, programs.ErrNotVisible},
		"other org mentor":  {w.otherMntr, programs.ErrNotVisible},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(c.caller), p.ID, 2, programs.UpdateProgramRequest{Title: str("Hijack")}); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}

	w.env.Task(t, w.admin, p.ID)
	open := w.env.Move(t, w.admin, p.ID, domain.ProgramOpen)
	// Open: anyone sees it, so an outsider gets 403 rather than 404.
	if _, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.otherAdmin), p.ID, open.Version, programs.UpdateProgramRequest{Title: str("x")}); !errors.Is(err, programs.ErrForbidden) {
		t.Fatalf("outsider on an open program: %v", err)
	}
	if _, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, open.Version, programs.UpdateProgramRequest{Title: str("Retitled")}); !slices.Equal(fieldsOf(err), []string{"title"}) {
		t.Fatalf("title of an open program: %v", err)
	}
	desc, err := s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, open.Version, programs.UpdateProgramRequest{Description: str("Now with more detail.")})
	if err != nil || desc.Description != "Now with more detail." || desc.Status != "open" {
		t.Fatalf("description of an open program: %+v, %v", desc, err)
	}
	closed := w.env.Move(t, w.admin, p.ID, domain.ProgramClosed)
	_, err = s.UpdateProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, closed.Version, programs.UpdateProgramRequest{Description: str("late")})
	var se *programs.StateError
	if !errors.As(err, &se) || apigwStatus(programs.ToHTTP(err)) != 409 {
		t.Fatalf("closed program edit: %v", err)
	}
}

func TestTransitions(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	p := w.env.Draft(t, w.admin)
	move := func(to string, version int64) (programs.ProgramView, error) {
		return s.TransitionProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, version, programs.TransitionRequest{To: to})
	}
	if _, err := move("open", 1); !slices.Equal(fieldsOf(err), []string{"tasks"}) {
		t.Fatalf("publish without tasks: %v", err)
	}
	if _, err := move("published", 1); !slices.Equal(fieldsOf(err), []string{"to"}) {
		t.Fatalf("unknown target: %v", err)
	}
	if _, err := move("closed", 1); !isConflict(err) {
		t.Fatalf("draft → closed: %v", err)
	}
	if _, err := move("archived", 1); !isConflict(err) {
		t.Fatalf("draft → archived: %v", err)
	}
	if _, err := move("open", 0); !errors.Is(err, programs.ErrPreconditionRequired) {
		t.Fatalf("no If-Match: %v", err)
	}
	w.env.Task(t, w.admin, p.ID)
	if _, err := s.TransitionProgram(pt.Ctx(t), pt.Caller(w.mentor), p.ID, 1, programs.TransitionRequest{To: "open"}); !errors.Is(err, programs.ErrForbidden) {
		t.Fatalf("mentor publishing: %v", err)
	}
	opened, err := move("open", 1)
	if err != nil || opened.Status != "open" || opened.Version != 2 {
		t.Fatalf("publish: %+v, %v", opened, err)
	}
	if _, err := move("open", 2); !isConflict(err) {
		t.Fatalf("open → open: %v", err)
	}
	if _, err := move("closed", 1); !errors.Is(err, programs.ErrStale) {
		t.Fatalf("stale close: %v", err)
	}
	listed, _ := s.ListOpenPrograms(pt.Ctx(t), "", 20, "")
	if len(listed.Items) != 1 {
		t.Fatalf("published program not listed: %+v", listed)
	}
	closed, err := move("closed", 2)
	if err != nil || closed.Status != "closed" {
		t.Fatalf("close: %+v, %v", closed, err)
	}
	if listed, _ := s.ListOpenPrograms(pt.Ctx(t), "", 20, ""); len(listed.Items) != 0 {
		t.Fatalf("closed program still listed: %+v", listed)
	}
	if _, err := move("open", 3); !isConflict(err) {
		t.Fatalf("closed → open: %v", err)
	}
	archived, err := move("archived", 3)
	if err != nil || archived.Status != "archived" {
		t.Fatalf("archive: %+v, %v", archived, err)
	}
	if _, err := move("closed", 4); !isConflict(err) {
		t.Fatalf("archived → closed: %v", err)
	}
	if acts := w.env.Audit.Find(programs.ActionProgramTransitioned); len(acts) != 3 || acts[2].Details["from"] != "closed" || acts[2].Details["to"] != "archived" {
		t.Fatalf("transitions audited: %+v", acts)
	}
}

func isConflict(err error) bool {
	var se *programs.StateError
	return errors.As(err, &se) && apigwStatus(programs.ToHTTP(err)) == 409
}

func TestTasks(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	p := w.env.Draft(t, w.admin)
	t1 := w.env.Task(t, w.admin, p.ID)
	in := pt.TaskInput()
	date := p.StartsAt.Add(72 * time.Hour)
	in.DueOffsetDays, in.DueDate = nil, &date
	t2, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, in, programs.IdempotencyKey{})
	if err != nil || !t2.View.DueDate.Equal(date) || t2.View.DueOffsetDays != 0 {
		t.Fatalf("task with a due date: %+v, %v", t2, err)
	}

	bad := pt.TaskInput()
	bad.Required, bad.Title = nil, ""
	two := 2
	bad.DueDate = &date
	bad.PassMark = &two
	if _, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, bad, programs.IdempotencyKey{}); !slices.Contains(fieldsOf(err), "required") {
		t.Fatalf("missing required: %v", err)
	}
	bad.Required = t1PtrBool(true)
	if got := fieldsOf(func() error {
		_, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, bad, programs.IdempotencyKey{})
		return err
	}()); !slices.Contains(got, "title") || !slices.Contains(got, "dueOffsetDays") {
		t.Fatalf("invalid task fields = %v", got)
	}

	for name, c := range map[string]struct {
		caller store.User
		want   error
	}{
		"mentor":          {w.mentor, programs.ErrForbidden},
		"other org admin": {w.otherAdmin, programs.ErrNotVisible},
		"intern":          {w.intern, programs.ErrNotVisible},
	} {
		t.Run("create denied "+name, func(t *testing.T) {
			if _, err := s.CreateTask(pt.Ctx(t), pt.Caller(c.caller), p.ID, pt.TaskInput(), programs.IdempotencyKey{}); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}

	list, err := s.ListTasks(pt.Ctx(t), pt.Caller(w.mentor), p.ID)
	if err != nil || len(list.Items) != 2 || list.Items[0].ID != t1.ID || list.Items[1].ID != t2.View.ID {
		t.Fatalf("ListTasks = %+v, %v", list, err)
	}

	// Update: If-Match, then the rules of the state.
	title := "Renamed task"
	if _, err := s.UpdateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, t1.ID, 0, programs.UpdateTaskRequest{Title: &title}); !errors.Is(err, programs.ErrPreconditionRequired) {
		t.Fatalf("no If-Match: %v", err)
	}
	if _, err := s.UpdateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, t1.ID, 5, programs.UpdateTaskRequest{Title: &title}); !errors.Is(err, programs.ErrStale) {
		t.Fatalf("stale: %v", err)
	}
	twenty := 20
	up, err := s.UpdateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, t1.ID, 1, programs.UpdateTaskRequest{Title: &title, MaxScore: &twenty, DueDate: &date})
	if err != nil || up.Title != title || up.MaxScore != 20 || up.Version != 2 || !up.DueDate.Equal(date) || up.DueOffsetDays != 0 {
		t.Fatalf("draft task edit: %+v, %v", up, err)
	}
	other := w.env.Draft(t, w.admin)
	if _, err := s.UpdateTask(pt.Ctx(t), pt.Caller(w.admin), other.ID, t1.ID, 2, programs.UpdateTaskRequest{Title: &title}); !errors.Is(err, programs.ErrNotFound) {
		t.Fatalf("task through another program: %v", err)
	}

	open := w.env.Move(t, w.admin, p.ID, domain.ProgramOpen)
	thirty := 30
	if _, err := s.UpdateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, t1.ID, 2, programs.UpdateTaskRequest{MaxScore: &thirty}); !slices.Equal(fieldsOf(err), []string{"maxScore"}) {
		t.Fatalf("grading of an open program's task: %v", err)
	}
	if _, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), programs.IdempotencyKey{}); err != nil {
		t.Fatalf("task for an open program: %v", err)
	}

	// Interns: only with an active enrollment in this program.
	if _, err := s.ListTasks(pt.Ctx(t), pt.Caller(w.intern), p.ID); !errors.Is(err, programs.ErrNotVisible) {
		t.Fatalf("unenrolled intern: %v", err)
	}
	w.env.Enroll(t, w.admin, w.intern, w.mentor, open)
	if list, err := s.ListTasks(pt.Ctx(t), pt.Caller(w.intern), p.ID); err != nil || len(list.Items) != 3 {
		t.Fatalf("enrolled intern: %+v, %v", list, err)
	}
	otherOpen := w.env.Open(t, w.admin)
	if _, err := s.ListTasks(pt.Ctx(t), pt.Caller(w.intern), otherOpen.ID); !errors.Is(err, programs.ErrNotVisible) {
		t.Fatalf("intern on a program they are not enrolled in: %v", err)
	}
	for name, c := range map[string]store.User{"other org admin": w.otherAdmin, "other org mentor": w.otherMntr, "platform admin": w.platformAdmin} {
		t.Run("list denied "+name, func(t *testing.T) {
			if _, err := s.ListTasks(pt.Ctx(t), pt.Caller(c), p.ID); !errors.Is(err, programs.ErrNotVisible) {
				t.Fatalf("err = %v", err)
			}
		})
	}

	closed := w.env.Move(t, w.admin, p.ID, domain.ProgramClosed)
	if _, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), programs.IdempotencyKey{}); !isConflict(err) {
		t.Fatalf("task for a closed program: %v", err)
	}
	if _, err := s.UpdateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, t1.ID, 2, programs.UpdateTaskRequest{Title: &title}); !isConflict(err) {
		t.Fatalf("task edit in a closed program: %v", err)
	}
	if tasks, _ := w.env.Store.ListTasks(pt.Ctx(t), closed.ID); len(tasks) != 3 {
		t.Fatalf("%d tasks stored", len(tasks))
	}
}

func t1PtrBool(b bool) *bool { return &b }

func TestCreateTaskIdempotency(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	p := w.env.Draft(t, w.admin)
	key := programs.IdempotencyKey{Key: "task-1", RequestHash: hash("t")}
	first, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), key)
	if err != nil || !again.Replayed || again.View != first.View {
		t.Fatalf("replay = %+v, %v", again, err)
	}
	if _, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), programs.IdempotencyKey{Key: "task-1", RequestHash: hash("u")}); !errors.Is(err, programs.ErrIdempotencyMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	if tasks, _ := w.env.Store.ListTasks(pt.Ctx(t), p.ID); len(tasks) != 1 {
		t.Fatalf("%d tasks", len(tasks))
	}
}

// TestCreateTaskRacingClose: concurrent task creates while the program is
// closed. Every create either lands (and was made while the program was
// still open) or is refused with 409; after the close nothing lands.
func TestCreateTaskRacingClose(t *testing.T) {
	w := newWorld(t)
	s := w.env.Service
	p := w.env.Open(t, w.admin)
	const workers = 8
	var wg sync.WaitGroup
	results := make(chan error, workers)
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			_, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), programs.IdempotencyKey{})
			results <- err
		})
	}
	var closeErr error
	wg.Go(func() {
		<-start
		_, closeErr = s.TransitionProgram(pt.Ctx(t), pt.Caller(w.admin), p.ID, p.Version, programs.TransitionRequest{To: "closed"})
	})
	close(start)
	wg.Wait()
	close(results)
	if closeErr != nil {
		t.Fatalf("close: %v", closeErr)
	}
	created := 0
	for err := range results {
		switch {
		case err == nil:
			created++
		case isConflict(err):
		default:
			t.Errorf("create: %v", err)
		}
	}
	tasks, err := w.env.Store.ListTasks(pt.Ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != created+1 {
		t.Fatalf("%d creates succeeded, %d tasks stored (1 from setup)", created, len(tasks))
	}
	for i, tk := range tasks {
		if tk.Position != i+1 {
			t.Fatalf("positions %d at %d", tk.Position, i)
		}
	}
	if _, err := s.CreateTask(pt.Ctx(t), pt.Caller(w.admin), p.ID, pt.TaskInput(), programs.IdempotencyKey{}); !isConflict(err) {
		t.Fatalf("create after close: %v", err)
	}
}
