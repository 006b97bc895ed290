// Package programstest is the test harness of the programs service and its
// handlers: a real DynamoDB wire protocol (minidyn, MainTable built from
// template.yaml), the real store, idempotency store and cursor sealer, an
// audit recorder and a settable clock, with helpers that seed
// organizations, users, programs, tasks and enrollments through the same
// store calls production uses.
//
// It lives outside shared/internal so functions/<name> tests, which may not
// import shared/internal, can use dyntest through it.
package programstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/vip-platform/backend/shared/obs/obstest"
	"github.com/vip-platform/backend/shared/repotest"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/programs"
	"github.com/vip-platform/backend/shared/store"
)

// Base is the tests' fixed "now", far from the real clock.
var Base = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// CursorKey is the key material of the Env's cursor sealer.
var CursorKey = bytes.Repeat([]byte("k"), cursor.KeySize)

// PasswordHash is a well-formed argon2id PHC string for seeded users.
const PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Env is one test's world, with its own DynamoDB server and table.
type Env struct {
	DB      *dynamodb.Client
	Table   string
	Store   *store.Store
	Idem    *idempotency.Store
	Sealer  *cursor.Sealer
	Audit   *audittest.Recorder
	Clock   *Clock
	Service *programs.Service
	Logs    *Buffer
}

// New builds an Env whose Service has every dependency wired.
func New(t testing.TB) *Env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, RepoFile(t, "template.yaml"), "MainTable")
	clk := &Clock{t: Base}
	st, err := store.New(db, table, store.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("programstest: store: %v", err)
	}
	idem, err := idempotency.New(db, idempotency.Config{Table: table, Clock: clk.Now})
	if err != nil {
		t.Fatalf("programstest: idempotency: %v", err)
	}
	sealer, err := cursor.New(CursorKey, nil, cursor.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("programstest: sealer: %v", err)
	}
	e := &Env{DB: db, Table: table, Store: st, Idem: idem, Sealer: sealer, Audit: &audittest.Recorder{}, Clock: clk, Logs: &Buffer{}}
	e.Service = e.NewService(t, programs.Config{})
	return e
}

// NewService builds a service over the Env; members of cfg left nil are
// the Env's (Store, Audit, Sealer, Idempotency, Now).
func (e *Env) NewService(t testing.TB, cfg programs.Config) *programs.Service {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = e.Store
	}
	if cfg.Audit == nil {
		cfg.Audit = e.Audit
	}
	if cfg.Sealer == nil {
		cfg.Sealer = e.Sealer
	}
	if cfg.Idempotency == nil {
		cfg.Idempotency = e.Idem
	}
	if cfg.Now == nil {
		cfg.Now = e.Clock.Now
	}
	s, err := programs.New(cfg)
	if err != nil {
		t.Fatalf("programstest: service: %v", err)
	}
	return s
}

// Ctx returns a context bounded for one test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Logger returns a logger writing JSON lines into e.Logs.
func (e *Env) Logger() *slog.Logger { return obs.New(e.Logs, "test", slog.LevelDebug) }

// Org creates an organization (with the pending invite of a first org
// admin, as admin-create-org does) and returns it.
func (e *Env) Org(t testing.TB, name string) store.Org {
	t.Helper()
	return e.OrgWithID(t, ids.New(ids.Org), name)
}

// OrgWithID is Org under a given ID (the org of a sample event).
func (e *Env) OrgWithID(t testing.TB, id, name string) store.Org {
	t.Helper()
	now := e.Clock.Now()
	o := store.Org{ID: id, Name: name, CreatedBy: ids.New(ids.User), CreatedAt: now, UpdatedAt: now}
	sum := sha256.Sum256([]byte(o.ID))
	inv := store.Invite{
		ID: ids.New(ids.Invite), CodeHash: hex.EncodeToString(sum[:]), OrgID: o.ID, Email: "first-admin@" + strings.TrimPrefix(o.ID, "org_") + ".example.com",
		Role: domain.RoleOrgAdmin, Status: domain.InvitePending, InvitedBy: o.CreatedBy, CreatedAt: now, ExpiresAt: now.Add(domain.InviteTTL),
	}
	if err := e.Store.CreateOrgWithInvite(Ctx(t), o, inv); err != nil {
		t.Fatalf("programstest: CreateOrgWithInvite: %v", err)
	}
	got, err := e.Store.GetOrg(Ctx(t), o.ID)
	if err != nil {
		t.Fatalf("programstest: GetOrg: %v", err)
	}
	return got
}

// User creates an active user with role in org ("" for interns and
// platform admins) and returns it as stored.
func (e *Env) User(t testing.TB, role, orgID string) store.User {
	t.Helper()
	return e.UserWithID(t, ids.New(ids.User), role, orgID)
}

// UserWithID is User under a given ID (the sub of a sample event).
func (e *Env) UserWithID(t testing.TB, id, role, orgID string) store.User {
	t.Helper()
	u := store.User{
		ID: id, Email: strings.TrimPrefix(id, "usr_") + "@example.com", DisplayName: "User " + id[len(id)-4:],
		Role: role, OrgID: orgID, PasswordHash: PasswordHash,
	}
	if err := e.Store.CreateUser(Ctx(t), u); err != nil {
		t.Fatalf("programstest: CreateUser: %v", err)
	}
	got, err := e.Store.GetUser(Ctx(t), u.ID)
	if err != nil {
		t.Fatalf("programstest: GetUser: %v", err)
	}
	return got
}

// Admin creates an active platform admin with MFA enabled (the secret
// is a placeholder blob: nothing here verifies codes).
func (e *Env) Admin(t testing.TB) store.User {
	t.Helper()
	u := e.User(t, apigw.RoleAdmin, "")
	got, err := e.Store.SetMFA(Ctx(t), u.ID, store.MFA{Enabled: true, SecretCiphertext: []byte("sealed-secret")}, u.Version)
	if err != nil {
		t.Fatalf("programstest: SetMFA: %v", err)
	}
	return got
}

// Suspend suspends the user.
func (e *Env) Suspend(t testing.TB, u store.User) {
	t.Helper()
	cur, err := e.Store.GetUser(Ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.SetStatus(Ctx(t), u.ID, store.UserSuspended, cur.Version); err != nil {
		t.Fatalf("programstest: SetStatus: %v", err)
	}
}

// ProgramInput is a valid program whose application window is open now
// (opened an hour ago, closes in ten days).
func (e *Env) ProgramInput(skills ...string) programs.CreateProgramRequest {
	if len(skills) == 0 {
		skills = []string{"go", "aws"}
	}
	now := e.Clock.Now()
	return programs.CreateProgramRequest{
		Title: "Backend internship", Description: "Build and operate serverless services.", Skills: skills, Capacity: 3,
		ApplicationOpensAt: now.Add(-time.Hour), ApplicationClosesAt: now.Add(10 * 24 * time.Hour),
		StartsAt: now.Add(20 * 24 * time.Hour), EndsAt: now.Add(80 * 24 * time.Hour),
	}
}

// Draft creates a draft program of admin's organization.
func (e *Env) Draft(t testing.TB, admin store.User, skills ...string) store.Program {
	t.Helper()
	res, err := e.Service.CreateProgram(Ctx(t), Caller(admin), admin.OrgID, e.ProgramInput(skills...), programs.IdempotencyKey{})
	if err != nil {
		t.Fatalf("programstest: CreateProgram: %v", err)
	}
	return e.Program(t, res.View.ID)
}

// DraftWithID creates a draft program of admin's organization under a
// given ID (the program of a sample event), through the domain rules.
func (e *Env) DraftWithID(t testing.TB, admin store.User, id string) store.Program {
	t.Helper()
	in := e.ProgramInput()
	p, err := domain.NewProgram(actor(admin), admin.OrgID, domain.ProgramInput{
		Title: in.Title, Description: in.Description, Skills: in.Skills, Capacity: in.Capacity,
		OpensAt: in.ApplicationOpensAt, ClosesAt: in.ApplicationClosesAt, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
	}, e.Clock.Now())
	if err != nil {
		t.Fatalf("programstest: NewProgram: %v", err)
	}
	p.ID = id
	if _, err := e.Store.CreateProgram(Ctx(t), p); err != nil {
		t.Fatalf("programstest: CreateProgram: %v", err)
	}
	return e.Program(t, id)
}

// TaskWithID adds a required task under a given ID to the program.
func (e *Env) TaskWithID(t testing.TB, admin store.User, programID, id string) store.Task {
	t.Helper()
	p := e.Program(t, programID)
	tasks, err := e.Store.ListTasks(Ctx(t), programID)
	if err != nil {
		t.Fatal(err)
	}
	days := 7
	task, err := domain.NewTask(actor(admin), p, len(tasks), domain.TaskInput{
		Title: "Write a handler", Instructions: "Decode strictly, validate every field.", DueOffsetDays: &days,
		Required: true, MaxScore: 10, PassMark: 6,
	}, e.Clock.Now())
	if err != nil {
		t.Fatalf("programstest: NewTask: %v", err)
	}
	task.ID = id
	if _, err := e.Store.CreateTask(Ctx(t), task, p.Status); err != nil {
		t.Fatalf("programstest: CreateTask: %v", err)
	}
	got, err := e.Store.GetTask(Ctx(t), programID, id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Program reads a program as stored.
func (e *Env) Program(t testing.TB, id string) store.Program {
	t.Helper()
	p, err := e.Store.GetProgram(Ctx(t), id)
	if err != nil {
		t.Fatalf("programstest: GetProgram: %v", err)
	}
	return p
}

// TaskInput is a valid required task due a week into the program.
func TaskInput() programs.CreateTaskRequest {
	days, required, maxScore, pass := 7, true, 10, 6
	return programs.CreateTaskRequest{
		Title: "Write a handler", Instructions: "Decode strictly, validate every field.",
		DueOffsetDays: &days, Required: &required, MaxScore: &maxScore, PassMark: &pass,
	}
}

// Task adds a required task to the program.
func (e *Env) Task(t testing.TB, admin store.User, programID string) store.Task {
	t.Helper()
	res, err := e.Service.CreateTask(Ctx(t), Caller(admin), programID, TaskInput(), programs.IdempotencyKey{})
	if err != nil {
		t.Fatalf("programstest: CreateTask: %v", err)
	}
	task, err := e.Store.GetTask(Ctx(t), programID, res.View.ID)
	if err != nil {
		t.Fatalf("programstest: GetTask: %v", err)
	}
	return task
}

// Open creates a program with one required task and publishes it.
func (e *Env) Open(t testing.TB, admin store.User, skills ...string) store.Program {
	t.Helper()
	p := e.Draft(t, admin, skills...)
	e.Task(t, admin, p.ID)
	return e.Move(t, admin, p.ID, domain.ProgramOpen)
}

// Move transitions the program to status (one step).
func (e *Env) Move(t testing.TB, admin store.User, programID string, status domain.ProgramStatus) store.Program {
	t.Helper()
	p := e.Program(t, programID)
	if _, err := e.Service.TransitionProgram(Ctx(t), Caller(admin), programID, p.Version, programs.TransitionRequest{To: string(status)}); err != nil {
		t.Fatalf("programstest: transition to %s: %v", status, err)
	}
	return e.Program(t, programID)
}

// Enroll applies intern to the open program p and accepts the application
// with mentor, through the store's apply and accept transactions, and
// returns the enrollment's ID.
func (e *Env) Enroll(t testing.TB, admin, intern, mentor store.User, p store.Program) string {
	t.Helper()
	now := e.Clock.Now()
	a, err := domain.NewApplication(actor(intern), p, strings.Repeat("I want to learn serverless backends. ", 3), now)
	if err != nil {
		t.Fatalf("programstest: NewApplication: %v", err)
	}
	if a, err = e.Store.CreateApplication(Ctx(t), a); err != nil {
		t.Fatalf("programstest: CreateApplication: %v", err)
	}
	version := a.Version
	if _, err := a.Accept(actor(admin), &p, domain.Member{UserID: mentor.ID, Role: domain.RoleMentor, OrgID: mentor.OrgID, Active: true}, now); err != nil {
		t.Fatalf("programstest: Accept: %v", err)
	}
	tasks, err := e.Store.ListTasks(Ctx(t), p.ID)
	if err != nil {
		t.Fatalf("programstest: ListTasks: %v", err)
	}
	progress := make(map[string]store.TaskProgress, len(tasks))
	for _, task := range tasks {
		progress[task.ID] = store.TaskProgress{Status: store.TaskNotStarted}
	}
	enr := store.Enrollment{
		ID: a.EnrollmentID, ProgramID: a.ProgramID, OrgID: a.OrgID, InternID: a.InternID, MentorID: a.MentorID,
		ApplicationID: a.ID, Status: store.EnrollmentActive, Tasks: progress, CreatedAt: now,
	}
	ntf := store.Notification{UserID: intern.ID, Kind: store.KindApplicationDecided, CreatedAt: now}
	if _, err := e.Store.AcceptApplication(Ctx(t), a, version, enr, ntf); err != nil {
		t.Fatalf("programstest: AcceptApplication: %v", err)
	}
	return enr.ID
}

func actor(u store.User) domain.Actor {
	return domain.Actor{UserID: u.ID, Role: domain.Role(u.Role), OrgID: u.OrgID}
}

// Caller is u calling a route, as the service sees it.
func Caller(u store.User) programs.Caller {
	return programs.Caller{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, RequestID: apigwtest.RequestID, SourceIP: "198.51.100.7", Route: "TEST /route"}
}

// Principal is the authorizer's view of u.
func Principal(u store.User) apigw.Principal {
	return apigw.Principal{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, SessionID: ids.New(ids.Session)}
}

// Request builds a REST proxy request by u (nil for an anonymous one) on
// resource (the route template) and path.
func Request(method, resource, path, body string, u *store.User) events.APIGatewayProxyRequest {
	req := apigwtest.NewRequest(method, path, body)
	req.Resource, req.RequestContext.ResourcePath = resource, resource
	if u != nil {
		req = apigwtest.WithPrincipal(req, Principal(*u))
	}
	return req
}

// Serve runs h behind apigw.Wrap, as the Lambda would, and returns the
// response, failing the test if the security headers are missing.
func (e *Env) Serve(t testing.TB, name string, h apigw.Handler, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := apigw.Wrap(name, e.Logger(), h)(Ctx(t), req)
	if err != nil {
		t.Fatalf("Wrap returned an error: %v", err)
	}
	apigwtest.AssertSecurityHeaders(t, resp)
	return resp
}

// Denials returns how many authz.denied entries were audited.
func (e *Env) Denials() int { return len(e.Audit.Find(programs.ActionDenied)) }

// RepoFile returns the path of a file at the repository root.
func RepoFile(t testing.TB, name string) string { return repotest.File(t, name) }

// Buffer is a log sink safe for concurrent writers.
type Buffer = obstest.Buffer
