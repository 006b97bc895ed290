// Package worktest builds a real (minidyn-backed) world for tests of the
// submission, review and notification code: an organization with its
// mentors and org admin, an open program with two required tasks and one
// optional task, and an intern enrolled in it through the store's real
// apply and accept transactions. It lives under shared/ so the functions'
// handler tests can use real DynamoDB semantics too (shared/internal is not
// importable from functions/).
package worktest

import (
	"context"
	"github.com/vip-platform/backend/shared/repotest"
	"io"
	"log/slog"
	"sort"
	"strconv"
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
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work"
)

// Now is the fixed time of every Env: far from the real clock, so code that
// used time.Now by mistake would see everything expired.
var Now = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// Hook is a domain.CompletionHook that records the events it receives.
type Hook struct {
	mu     sync.Mutex
	events []domain.EnrollmentCompleted
}

var _ domain.CompletionHook = (*Hook)(nil)

// OnEnrollmentCompleted records ev.
func (h *Hook) OnEnrollmentCompleted(_ context.Context, ev domain.EnrollmentCompleted) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
	return nil
}

// Events returns the events received so far.
func (h *Hook) Events() []domain.EnrollmentCompleted {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]domain.EnrollmentCompleted(nil), h.events...)
}

// Env is one test's world.
type Env struct {
	DB          *dynamodb.Client
	Table       string
	Store       *store.Store
	Audit       *audittest.Recorder
	Hook        *Hook
	Idempotency *idempotency.Store
	Cursors     *cursor.Sealer
	Log         *slog.Logger

	Org string
	// Intern is enrolled with Mentor; Mentor2 and OrgAdmin belong to the
	// same organization; OtherIntern, OutsiderMentor (another org) and
	// PlatformAdmin are strangers to the enrollment.
	Intern, Mentor, Mentor2, OrgAdmin          store.User
	OtherIntern, OutsiderMentor, PlatformAdmin store.User
	Program                                    store.Program
	// Tasks: [0] and [1] required, [2] optional; maxScore 10, passMark 6.
	Tasks      []store.Task
	Enrollment store.Enrollment
}

// Ctx is a context bounded for one test.
func Ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// New builds the world on a fresh minidyn table made from template.yaml.
func New(t testing.TB) *Env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, RepoFile(t, "template.yaml"), "MainTable")
	clock := func() time.Time { return Now }
	st, err := store.New(db, table, store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	idem, err := idempotency.New(db, idempotency.Config{Table: table, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := cursor.New([]byte(strings.Repeat("cursor-test-key!", 2)), nil, cursor.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{
		DB: db, Table: table, Store: st, Audit: &audittest.Recorder{}, Hook: &Hook{}, Idempotency: idem, Cursors: sealer,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Org: ids.New(ids.Org),
	}
	e.Intern = e.NewUser(t, "intern@example.com", apigw.RoleIntern, "")
	e.Mentor = e.NewUser(t, "mentor@example.com", apigw.RoleMentor, e.Org)
	e.Mentor2 = e.NewUser(t, "mentor2@example.com", apigw.RoleMentor, e.Org)
	e.OrgAdmin = e.NewUser(t, "orgadmin@example.com", apigw.RoleOrgAdmin, e.Org)
	e.OtherIntern = e.NewUser(t, "other@example.com", apigw.RoleIntern, "")
	e.OutsiderMentor = e.NewUser(t, "outsider@example.com", apigw.RoleMentor, ids.New(ids.Org))
	e.PlatformAdmin = e.NewUser(t, "root@example.com", apigw.RoleAdmin, "")

	e.Program, err = st.CreateProgram(Ctx(t), store.Program{
		ID: ids.New(ids.Program), OrgID: e.Org, Title: "Go backend internship", Description: "Build services.",
		Skills: []string{"go"}, Capacity: 5, Status: domain.ProgramOpen,
		OpensAt: Now.Add(-48 * time.Hour), ClosesAt: Now.Add(24 * time.Hour),
		StartsAt: Now.Add(48 * time.Hour), EndsAt: Now.Add(90 * 24 * time.Hour),
		CreatedBy: e.OrgAdmin.ID, CreatedAt: Now.Add(-72 * time.Hour),
	})
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	for i, required := range []bool{true, true, false} {
		task, err := st.CreateTask(Ctx(t), store.Task{
			ID: ids.New(ids.Task), ProgramID: e.Program.ID, OrgID: e.Org, Title: "Task " + strconv.Itoa(i+1),
			Instructions: "Do it.", DueOffsetDays: 7, Required: required, MaxScore: 10, PassMark: 6, Position: i + 1,
			CreatedAt: Now, UpdatedAt: Now,
		}, domain.ProgramOpen)
		if err != nil {
			t.Fatalf("CreateTask: %v", err)
		}
		e.Tasks = append(e.Tasks, task)
	}
	e.Enrollment = e.Enroll(t, e.Intern, e.Mentor)
	return e
}

// NewUser stores an active user.
func (e *Env) NewUser(t testing.TB, email, role, org string) store.User {
	t.Helper()
	u := store.User{
		ID: ids.New(ids.User), Email: email, DisplayName: "User " + email, Role: role, OrgID: org,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
	}
	if err := e.Store.CreateUser(Ctx(t), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got, err := e.Store.GetUser(Ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Enroll applies intern to the program and accepts them with mentor,
// through the store's real transactions.
func (e *Env) Enroll(t testing.TB, intern, mentor store.User) store.Enrollment {
	t.Helper()
	a, err := e.Store.CreateApplication(Ctx(t), store.Application{
		ID: ids.New(ids.Application), ProgramID: e.Program.ID, OrgID: e.Org, InternID: intern.ID,
		Motivation: "I would like to learn how to build reliable backend services in Go.",
		Status:     domain.ApplicationPending, CreatedAt: Now,
	})
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	enr := store.Enrollment{
		ID: ids.New(ids.Enrollment), ProgramID: e.Program.ID, OrgID: e.Org, InternID: intern.ID, MentorID: mentor.ID,
		ApplicationID: a.ID, Status: store.EnrollmentActive, Tasks: map[string]store.TaskProgress{}, CreatedAt: Now,
	}
	for _, task := range e.Tasks {
		enr.Tasks[task.ID] = store.TaskProgress{Status: store.TaskNotStarted}
	}
	a.Status, a.MentorID, a.EnrollmentID, a.DecidedBy, a.DecidedAt = domain.ApplicationAccepted, mentor.ID, enr.ID, e.OrgAdmin.ID, Now
	if _, err := e.Store.AcceptApplication(Ctx(t), a, 1, enr, store.Notification{
		UserID: intern.ID, Kind: store.KindApplicationDecided,
		Data: store.NotificationData{ApplicationID: a.ID, ProgramID: e.Program.ID, Decision: "accepted"},
	}); err != nil {
		t.Fatalf("AcceptApplication: %v", err)
	}
	got, err := e.Store.GetEnrollment(Ctx(t), enr.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Submitter, Lister and Reviewer are the services over this world (the
// reviewer with Hook as its completion hook).
func (e *Env) Submitter(t testing.TB) *work.Submitter {
	t.Helper()
	s, err := work.NewSubmitter(e.Store, e.Idempotency, e.Audit, e.Log, func() time.Time { return Now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Lister is the listing service.
func (e *Env) Lister(t testing.TB) *work.Lister {
	t.Helper()
	l, err := work.NewLister(e.Store, e.Audit)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Reviewer is the review service.
func (e *Env) Reviewer(t testing.TB) *work.Reviewer {
	t.Helper()
	r, err := work.NewReviewer(e.Store, e.Audit, e.Hook, e.Log, func() time.Time { return Now })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Caller is u calling, with fixed request facts.
func Caller(u store.User) work.Caller {
	return work.Caller{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, RequestID: apigwtest.RequestID, SourceIP: "127.0.0.1"}
}

// Principal is the authorizer's view of u (a fresh session).
func Principal(u store.User) apigw.Principal {
	return apigw.Principal{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, SessionID: ids.New(ids.Session)}
}

// Request builds a REST proxy request by u.
func Request(method, resource, path, body string, params map[string]string, u store.User) events.APIGatewayProxyRequest {
	req := apigwtest.WithPrincipal(apigwtest.NewRequest(method, path, body), Principal(u))
	req.Resource, req.RequestContext.ResourcePath, req.PathParameters = resource, resource, params
	return req
}

// Serve runs h behind apigw.Wrap, as the Lambda does, and checks the
// security headers.
func (e *Env) Serve(t testing.TB, name string, h apigw.Handler, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := apigw.Wrap(name, e.Log, h)(Ctx(t), req)
	if err != nil {
		t.Fatalf("Wrap returned an error: %v", err)
	}
	apigwtest.AssertSecurityHeaders(t, resp)
	return resp
}

// Inbox is every notification of userID, newest first.
func (e *Env) Inbox(t testing.TB, userID string) []store.Notification {
	t.Helper()
	items, _, err := e.Store.ListNotifications(Ctx(t), userID, false, store.MaxPageSize, nil)
	if err != nil {
		t.Fatalf("ListNotifications: %v", err)
	}
	return items
}

// Kinds counts notifications by kind.
func Kinds(ns []store.Notification) map[string]int {
	out := map[string]int{}
	for _, n := range ns {
		out[n.Kind]++
	}
	return out
}

// SetUser overwrites string attributes of a stored user, as an org admin's
// removal of a mentor from the organization would (the store has no such
// operation yet).
func (e *Env) SetUser(t testing.TB, userID string, attrs map[string]string) {
	t.Helper()
	names, values := map[string]string{}, map[string]types.AttributeValue{}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sets := make([]string, 0, len(keys))
	for i, k := range keys {
		n, p := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[p] = k, &types.AttributeValueMemberS{Value: attrs[k]}
		sets = append(sets, n+" = "+p)
	}
	e.update(t, "USER#"+userID, "SET "+strings.Join(sets, ", "), names, values)
}

// EndEnrollment marks the enrollment ended, as an org admin's end would.
func (e *Env) EndEnrollment(t testing.TB, enrollmentID string) {
	t.Helper()
	e.update(t, "ENR#"+enrollmentID, "SET #s = :ended ADD #v :one",
		map[string]string{"#s": "status", "#v": "version"},
		map[string]types.AttributeValue{
			":ended": &types.AttributeValueMemberS{Value: store.EnrollmentEnded}, ":one": &types.AttributeValueMemberN{Value: "1"},
		})
}

func (e *Env) update(t testing.TB, pk, expr string, names map[string]string, values map[string]types.AttributeValue) {
	t.Helper()
	_, err := e.DB.UpdateItem(Ctx(t), &dynamodb.UpdateItemInput{
		TableName: aws.String(e.Table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"},
		},
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	if err != nil {
		t.Fatalf("update %s: %v", pk, err)
	}
}

// RepoFile returns the path of a file at the repository root.
func RepoFile(t testing.TB, name string) string { return repotest.File(t, name) }
