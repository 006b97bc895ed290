package enrollment_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/store"
)

// base is the tests' "now": inside the application window of the programs
// openProgram creates.
var base = time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one minidyn server with the template's MainTable and the services
// over it.
type env struct {
	db      *dynamodb.Client
	st      *store.Store
	aud     *audittest.Recorder
	clk     *clock
	sealer  *cursor.Sealer
	idem    *idempotency.Store
	applier *enrollment.Applier
	lister  *enrollment.ApplicationLister
	withdr  *enrollment.Withdrawer
	decider *enrollment.Decider
	reader  *enrollment.EnrollmentReader
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, "../../template.yaml", "MainTable")
	e := &env{db: db, aud: &audittest.Recorder{}, clk: &clock{t: base}}
	var err error
	if e.st, err = store.New(db, table, store.WithClock(e.clk.Now)); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if e.sealer, err = cursor.New(key, nil, cursor.WithClock(e.clk.Now)); err != nil {
		t.Fatal(err)
	}
	if e.idem, err = idempotency.New(db, idempotency.Config{Table: table, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if e.applier, err = enrollment.NewApplier(e.st, e.aud, e.idem, e.clk.Now, log); err != nil {
		t.Fatal(err)
	}
	if e.lister, err = enrollment.NewApplicationLister(e.st, e.aud, e.sealer); err != nil {
		t.Fatal(err)
	}
	if e.withdr, err = enrollment.NewWithdrawer(e.st, e.aud, e.clk.Now); err != nil {
		t.Fatal(err)
	}
	if e.decider, err = enrollment.NewDecider(e.st, e.aud, e.clk.Now); err != nil {
		t.Fatal(err)
	}
	if e.reader, err = enrollment.NewEnrollmentReader(e.st, e.aud, e.sealer); err != nil {
		t.Fatal(err)
	}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// user creates an active user with role in org ("" for none).
func (e *env) user(t *testing.T, role, org string) store.User {
	t.Helper()
	u := store.User{
		ID: ids.New(ids.User), Email: ids.New(ids.User) + "@example.com", DisplayName: "Test " + role,
		Role: role, OrgID: org, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
	}
	if err := e.st.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got, err := e.st.GetUser(ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func caller(u store.User) enrollment.Caller {
	return enrollment.Caller{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, RequestID: "req-" + u.ID[4:12], SourceIP: "192.0.2.7"}
}

// world is one organization with an admin, two mentors, an open program
// with two required tasks and one optional task, and a few interns.
type world struct {
	org      string
	admin    store.User
	mentor   store.User
	program  store.Program
	tasks    []store.Task
	interns  []store.User
	outsider store.User // org admin of another org
}

func (e *env) world(t *testing.T, capacity, interns int) world {
	t.Helper()
	w := world{org: ids.New(ids.Org)}
	w.admin = e.user(t, apigw.RoleOrgAdmin, w.org)
	w.mentor = e.user(t, apigw.RoleMentor, w.org)
	w.outsider = e.user(t, apigw.RoleOrgAdmin, ids.New(ids.Org))
	for range interns {
		w.interns = append(w.interns, e.user(t, apigw.RoleIntern, ""))
	}
	p := store.Program{
		ID: ids.New(ids.Program), OrgID: w.org, Title: "Backend internship", Description: "Build services.",
		Skills: []string{"go"}, Capacity: capacity, Status: domain.ProgramDraft, CreatedBy: w.admin.ID,
		OpensAt: base.Add(-24 * time.Hour), ClosesAt: base.Add(10 * 24 * time.Hour),
		StartsAt: base.Add(20 * 24 * time.Hour), EndsAt: base.Add(80 * 24 * time.Hour),
		CreatedAt: base.Add(-48 * time.Hour), UpdatedAt: base.Add(-48 * time.Hour),
	}
	var err error
	if w.program, err = e.st.CreateProgram(ctx(t), p); err != nil {
		t.Fatal(err)
	}
	for i, required := range []bool{true, true, false} {
		task := store.Task{
			ID: ids.New(ids.Task), ProgramID: p.ID, OrgID: w.org, Title: []string{"Write a handler", "Add tests", "Bonus: docs"}[i],
			Instructions: "Strict input.", DueOffsetDays: 7, Required: required, MaxScore: 10, PassMark: 6,
			Position: i + 1, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt,
		}
		got, err := e.st.CreateTask(ctx(t), task, domain.ProgramDraft)
		if err != nil {
			t.Fatalf("CreateTask: %v", err)
		}
		w.tasks = append(w.tasks, got)
	}
	w.program.Status = domain.ProgramOpen
	if w.program, err = e.st.UpdateProgram(ctx(t), w.program, w.program.Version); err != nil {
		t.Fatal(err)
	}
	return w
}

const motivation = "I have built two small Go services and want to learn how production systems are run."

// apply files a pending application of intern without an idempotency key.
func (e *env) apply(t *testing.T, w world, intern store.User) enrollment.ApplicationView {
	t.Helper()
	resp, err := e.applier.Apply(ctx(t), caller(intern), enrollment.ApplyInput{ProgramID: w.program.ID, Motivation: motivation})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return decodeApplication(t, resp.Body)
}

// denials returns the authz.denied entries recorded since the last Reset.
func (e *env) denials() []audit.Entry { return e.aud.Find(enrollment.ActionDenied) }
