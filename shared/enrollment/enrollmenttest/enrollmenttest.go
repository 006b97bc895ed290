// Package enrollmenttest is the test harness of the application and
// enrollment services and handlers: a real DynamoDB wire protocol
// (minidyn, MainTable built from template.yaml), a real cursor sealer and
// idempotency store over it, an audit recorder, a settable clock shared by
// all of them, helpers that seed organizations, programs, tasks, users,
// applications and enrollments, and Serve, which runs a handler through
// apigw.Wrap.
//
// It exists outside shared/internal so that functions/<name> tests, which
// may not import shared/internal, can use dyntest through it.
package enrollmenttest

import (
	"context"
	"crypto/rand"
	"fmt"
	"github.com/vip-platform/backend/shared/obs/obstest"
	"github.com/vip-platform/backend/shared/repotest"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/store"
)

// Base is the tests' "now": inside the application window of the programs
// World creates, and far from the wall clock, so code that used time.Now by
// mistake sees every window closed.
var Base = time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)

// PasswordHash is a well-formed argon2id PHC string for seeded users.
const PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

// Motivation is a valid application motivation.
const Motivation = "I have built two small Go services and want to learn how production systems are run."

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

// Advance moves the clock by d (negative moves it back).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Env is one test's world; every Env has its own DynamoDB server and table.
type Env struct {
	DB     *dynamodb.Client
	Table  string
	Store  *store.Store
	Audit  *audittest.Recorder
	Clock  *Clock
	Sealer *cursor.Sealer
	Idem   *idempotency.Store
	// Logs receives what Serve's apigw.Wrap logs.
	Logs *Buffer
}

// New builds an Env whose servers live until t ends.
func New(t testing.TB) *Env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, RepoFile(t, "template.yaml"), "MainTable")
	e := &Env{DB: db, Table: table, Audit: &audittest.Recorder{}, Clock: &Clock{t: Base}, Logs: &Buffer{}}
	var err error
	if e.Store, err = store.New(db, table, store.WithClock(e.Clock.Now)); err != nil {
		t.Fatalf("enrollmenttest: store: %v", err)
	}
	key := make([]byte, cursor.KeySize)
	_, _ = rand.Read(key)
	if e.Sealer, err = cursor.New(key, nil, cursor.WithClock(e.Clock.Now)); err != nil {
		t.Fatalf("enrollmenttest: sealer: %v", err)
	}
	if e.Idem, err = idempotency.New(db, idempotency.Config{Table: table, Clock: e.Clock.Now}); err != nil {
		t.Fatalf("enrollmenttest: idempotency: %v", err)
	}
	return e
}

// Logger returns a logger writing JSON lines into e.Logs.
func (e *Env) Logger() *slog.Logger { return obs.New(e.Logs, "test", slog.LevelDebug) }

// Ctx returns a context bounded for one test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Services built over the Env.

// Applier returns the apply service.
func (e *Env) Applier(t testing.TB) *enrollment.Applier {
	t.Helper()
	s, err := enrollment.NewApplier(e.Store, e.Audit, e.Idem, e.Clock.Now, e.Logger())
	must(t, err)
	return s
}

// Lister returns the application listing service.
func (e *Env) Lister(t testing.TB) *enrollment.ApplicationLister {
	t.Helper()
	s, err := enrollment.NewApplicationLister(e.Store, e.Audit, e.Sealer)
	must(t, err)
	return s
}

// Withdrawer returns the withdraw service.
func (e *Env) Withdrawer(t testing.TB) *enrollment.Withdrawer {
	t.Helper()
	s, err := enrollment.NewWithdrawer(e.Store, e.Audit, e.Clock.Now)
	must(t, err)
	return s
}

// Decider returns the decision service.
func (e *Env) Decider(t testing.TB) *enrollment.Decider {
	t.Helper()
	s, err := enrollment.NewDecider(e.Store, e.Audit, e.Clock.Now)
	must(t, err)
	return s
}

// Reader returns the enrollment reading service.
func (e *Env) Reader(t testing.TB) *enrollment.EnrollmentReader {
	t.Helper()
	s, err := enrollment.NewEnrollmentReader(e.Store, e.Audit, e.Sealer)
	must(t, err)
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("enrollmenttest: %v", err)
	}
}

// Seeding.

// UserWithID creates an active user with the given ID ("" for a fresh
// one), role and organization ("" for none), and returns it as stored.
func (e *Env) UserWithID(t testing.TB, id, role, org string) store.User {
	t.Helper()
	if id == "" {
		id = ids.New(ids.User)
	}
	u := store.User{
		ID: id, Email: strings.TrimPrefix(id, "usr_") + "@example.com", DisplayName: "Test " + role,
		Role: role, OrgID: org, PasswordHash: PasswordHash,
	}
	if err := e.Store.CreateUser(Ctx(t), u); err != nil {
		t.Fatalf("enrollmenttest: CreateUser: %v", err)
	}
	got, err := e.Store.GetUser(Ctx(t), id)
	must(t, err)
	return got
}

// User creates an active user with a fresh ID.
func (e *Env) User(t testing.TB, role, org string) store.User {
	t.Helper()
	return e.UserWithID(t, "", role, org)
}

// Suspend suspends u.
func (e *Env) Suspend(t testing.TB, u store.User) {
	t.Helper()
	cur, err := e.Store.GetUser(Ctx(t), u.ID)
	must(t, err)
	_, err = e.Store.SetStatus(Ctx(t), u.ID, store.UserSuspended, cur.Version)
	must(t, err)
}

// MoveUser rewrites a stored user's organization behind the services'
// back (as an operator moving a member would); tokens still carry the old
// one.
func (e *Env) MoveUser(t testing.TB, u store.User, org string) {
	t.Helper()
	_, err := e.DB.UpdateItem(Ctx(t), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.Table),
		Key:                       itemKey("USER#"+u.ID, "PROFILE"),
		UpdateExpression:          aws.String("SET orgId = :org"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":org": &types.AttributeValueMemberS{Value: org}},
	})
	must(t, err)
}

// SetTask writes one task's progress into an enrollment item the way the
// submit and review transactions do, bumping its version.
func (e *Env) SetTask(t testing.TB, enrollmentID, taskID, status string, version int) {
	t.Helper()
	_, err := e.DB.UpdateItem(Ctx(t), &dynamodb.UpdateItemInput{
		TableName:                aws.String(e.Table),
		Key:                      itemKey("ENR#"+enrollmentID, "PROFILE"),
		UpdateExpression:         aws.String("SET tasks.#t = :tp ADD version :one"),
		ExpressionAttributeNames: map[string]string{"#t": taskID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":tp": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"status":        &types.AttributeValueMemberS{Value: status},
				"latestVersion": &types.AttributeValueMemberN{Value: fmt.Sprint(version)},
			}},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	must(t, err)
}

func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

// World is one organization with an org admin and a mentor, an open
// program (application window around Base) with two required tasks and
// one optional one, interns, and an org admin of another organization.
type World struct {
	Org      string
	Admin    store.User
	Mentor   store.User
	Outsider store.User
	Program  store.Program
	Tasks    []store.Task
	Interns  []store.User
}

// WorldIDs fixes the IDs World uses (sample events name real IDs); empty
// fields get fresh ones.
type WorldIDs struct {
	Org, Admin, Mentor, Program string
	Interns                     []string
}

// World seeds a world whose program has capacity seats and interns
// interns.
func (e *Env) World(t testing.TB, capacity, interns int) World {
	t.Helper()
	return e.WorldWith(t, capacity, interns, WorldIDs{})
}

// WorldWith is World with fixed IDs.
func (e *Env) WorldWith(t testing.TB, capacity, interns int, fixed WorldIDs) World {
	t.Helper()
	or := func(id string, p ids.Prefix) string {
		if id == "" {
			return ids.New(p)
		}
		return id
	}
	w := World{Org: or(fixed.Org, ids.Org)}
	w.Admin = e.UserWithID(t, fixed.Admin, apigw.RoleOrgAdmin, w.Org)
	w.Mentor = e.UserWithID(t, fixed.Mentor, apigw.RoleMentor, w.Org)
	w.Outsider = e.User(t, apigw.RoleOrgAdmin, ids.New(ids.Org))
	for i := range interns {
		id := ""
		if i < len(fixed.Interns) {
			id = fixed.Interns[i]
		}
		w.Interns = append(w.Interns, e.UserWithID(t, id, apigw.RoleIntern, ""))
	}
	created := Base.Add(-48 * time.Hour)
	p := store.Program{
		ID: or(fixed.Program, ids.Program), OrgID: w.Org, Title: "Backend internship", Description: "Build services.",
		Skills: []string{"go"}, Capacity: capacity, Status: domain.ProgramDraft, CreatedBy: w.Admin.ID,
		OpensAt: Base.Add(-24 * time.Hour), ClosesAt: Base.Add(10 * 24 * time.Hour),
		StartsAt: Base.Add(20 * 24 * time.Hour), EndsAt: Base.Add(80 * 24 * time.Hour),
		CreatedAt: created, UpdatedAt: created,
	}
	var err error
	w.Program, err = e.Store.CreateProgram(Ctx(t), p)
	must(t, err)
	for i, title := range []string{"Write a handler", "Add tests", "Bonus: docs"} {
		task, err := e.Store.CreateTask(Ctx(t), store.Task{
			ID: ids.New(ids.Task), ProgramID: p.ID, OrgID: w.Org, Title: title, Instructions: "Strict input.",
			DueOffsetDays: 7, Required: i < 2, MaxScore: 10, PassMark: 6, Position: i + 1,
			CreatedAt: created, UpdatedAt: created,
		}, domain.ProgramDraft)
		must(t, err)
		w.Tasks = append(w.Tasks, task)
	}
	w.Program.Status = domain.ProgramOpen
	w.Program, err = e.Store.UpdateProgram(Ctx(t), w.Program, w.Program.Version)
	must(t, err)
	return w
}

// Apply files a pending application of intern to w's program and returns
// it as stored.
func (e *Env) Apply(t testing.TB, w World, intern store.User) store.Application {
	t.Helper()
	now := e.Clock.Now()
	a, err := domain.NewApplication(domain.Actor{UserID: intern.ID, Role: domain.RoleIntern}, w.Program, Motivation, now)
	must(t, err)
	got, err := e.Store.CreateApplication(Ctx(t), a)
	must(t, err)
	return got
}

// Enroll applies and accepts intern with w's mentor, and returns the
// accepted application (its EnrollmentID names the enrollment).
func (e *Env) Enroll(t testing.TB, w World, intern store.User) store.Application {
	t.Helper()
	a := e.Apply(t, w, intern)
	got, err := e.Decider(t).Decide(Ctx(t), Caller(w.Admin), a.ID, a.Version,
		enrollment.DecisionInput{Decision: enrollment.DecisionAccepted, MentorID: w.Mentor.ID})
	must(t, err)
	return got
}

// Caller is u as the services see an authenticated request of theirs.
func Caller(u store.User) enrollment.Caller {
	return enrollment.Caller{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, RequestID: apigwtest.RequestID, SourceIP: "127.0.0.1"}
}

// Principal is u as the authorizer would vouch for it.
func Principal(u store.User) apigw.Principal {
	return apigw.Principal{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, SessionID: ids.New(ids.Session)}
}

// Denials returns the authz.denied entries recorded so far.
func (e *Env) Denials() []audit.Entry { return e.Audit.Find(enrollment.ActionDenied) }

// Serve runs h through apigw.Wrap (error mapping, security headers) as the
// Lambda runtime would, and checks the security headers.
func (e *Env) Serve(t testing.TB, name string, h apigw.Handler, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := apigw.Wrap(name, e.Logger(), h)(Ctx(t), req)
	if err != nil {
		t.Fatalf("Wrap returned an error: %v", err)
	}
	apigwtest.AssertSecurityHeaders(t, resp)
	return resp
}

// RepoFile returns the path of a file at the repository root.
func RepoFile(t testing.TB, name string) string { return repotest.File(t, name) }

// Buffer is a log sink safe for concurrent writers.
type Buffer = obstest.Buffer

// IDs the sample events of events/<function>/ name (usr_ subjects, the
// org, the program, the application and the enrollment), so handler tests
// can seed exactly what each sample refers to.
const (
	SampleIntern      = "usr_nabdyhb3b2kzcyzkch2bxyo4ti"
	SampleOrgAdmin    = "usr_wca3p6sbzyfrfgt5jyzb75iqte"
	SampleMentor      = "usr_xhyaq66x33fndpcjvi45gnshw4"
	SampleOrg         = "org_uxxzn4fnuvvck3rm74vqcqd7kq"
	SampleProgram     = "prg_syt7ysz2kvjx3pwifwrcfb5qf4"
	SampleApplication = "app_rp4lg3jfowyzpv767kt4wen564"
	SampleEnrollment  = "enr_ohzh2vqwcsmvmljrptg4dx4qcu"
)

// SampleWorld is World with the sample events' IDs: SampleIntern is
// Interns[0].
func (e *Env) SampleWorld(t testing.TB, capacity int) World {
	t.Helper()
	return e.WorldWith(t, capacity, 1, WorldIDs{
		Org: SampleOrg, Admin: SampleOrgAdmin, Mentor: SampleMentor, Program: SampleProgram,
		Interns: []string{SampleIntern},
	})
}

// ApplyWithID is Apply under a fixed application ID.
func (e *Env) ApplyWithID(t testing.TB, w World, intern store.User, id string) store.Application {
	t.Helper()
	a, err := domain.NewApplication(domain.Actor{UserID: intern.ID, Role: domain.RoleIntern}, w.Program, Motivation, e.Clock.Now())
	must(t, err)
	a.ID = id
	got, err := e.Store.CreateApplication(Ctx(t), a)
	must(t, err)
	return got
}

// EnrollWithIDs applies under appID and accepts with w's mentor into an
// enrollment with ID enrID, through the store's accept transaction.
func (e *Env) EnrollWithIDs(t testing.TB, w World, intern store.User, appID, enrID string) store.Application {
	t.Helper()
	a := e.ApplyWithID(t, w, intern, appID)
	now := e.Clock.Now()
	p, err := e.Store.GetProgram(Ctx(t), w.Program.ID)
	must(t, err)
	admin := domain.Actor{UserID: w.Admin.ID, Role: domain.RoleOrgAdmin, OrgID: w.Org}
	mentor := domain.Member{UserID: w.Mentor.ID, Role: domain.RoleMentor, OrgID: w.Org, Active: true}
	enr, err := a.Accept(admin, &p, mentor, now)
	must(t, err)
	a.EnrollmentID = enrID
	progress := make(map[string]store.TaskProgress, len(w.Tasks))
	for _, task := range w.Tasks {
		progress[task.ID] = store.TaskProgress{Status: store.TaskNotStarted}
	}
	got, err := e.Store.AcceptApplication(Ctx(t), a, a.Version, store.Enrollment{
		ID: enrID, ProgramID: enr.ProgramID, OrgID: enr.OrgID, InternID: enr.InternID, MentorID: enr.MentorID,
		ApplicationID: a.ID, Status: store.EnrollmentActive, Tasks: progress, CreatedAt: enr.CreatedAt,
	}, store.NotificationFromDomain(domain.ApplicationDecidedNotification(a, p, now)))
	must(t, err)
	return got
}
