// Package accounttest is the test harness of the account handlers: a real
// DynamoDB wire protocol (minidyn, with MainTable built from template.yaml),
// a real KMS (local-kms, in-process) for the envelope, an audit recorder, a
// settable clock shared by all of them, and helpers to seed users and
// sessions and to serve requests through apigw.Wrap.
//
// It exists outside shared/internal so that functions/<name> tests, which
// may not import shared/internal, can use dyntest and kmstest through it.
package accounttest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"github.com/vip-platform/backend/shared/obs/obstest"
	"github.com/vip-platform/backend/shared/repotest"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/internal/kmstest"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/store"
)

// Base is the tests' fixed "now": far from the real clock, so code that
// used time.Now by mistake sees sessions and TOTP codes wrongly and fails.
var Base = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// PasswordHash is a well-formed argon2id PHC string for seeded users; no
// test logs in with it.
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

// Env is one test's world. Every Env has its own DynamoDB server and table.
type Env struct {
	DB    *dynamodb.Client
	Table string
	Store *store.Store
	Audit *audittest.Recorder
	Clock *Clock
	// Logs receives what Serve's apigw.Wrap and RunCLI log.
	Logs *Buffer

	// KMS and KeyID are the local-kms client and the data key the
	// envelope uses, for tests that look under the envelope.
	KMS   *kms.Client
	KeyID string
	env   *keys.Envelope
}

// New builds an Env: minidyn with MainTable from the repository's
// template.yaml, local-kms with one data key, a store on the Env's clock
// (starting at Base) and an empty audit recorder. Both servers live until t
// ends.
func New(t testing.TB) *Env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, RepoFile(t, "template.yaml"), "MainTable")
	clk := &Clock{t: Base}
	st, err := store.New(db, table, store.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("accounttest: store: %v", err)
	}
	kc, keyID := kmstest.New(t)
	env, err := keys.New(kc, keyID)
	if err != nil {
		t.Fatalf("accounttest: envelope: %v", err)
	}
	return &Env{
		DB: db, Table: table, Store: st, Audit: &audittest.Recorder{}, Clock: clk, Logs: &Buffer{},
		KMS: kc, KeyID: keyID, env: env,
	}
}

// Envelope returns the real envelope under the Env's local-kms data key.
func (e *Env) Envelope() *keys.Envelope { return e.env }

// Logger returns a logger writing JSON lines into e.Logs.
func (e *Env) Logger() *slog.Logger { return obs.New(e.Logs, "test", slog.LevelDebug) }

// Ctx returns a context bounded for one test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// UserOption adjusts a user before it is created.
type UserOption func(*store.User)

// Role sets the user's role (intern by default); mentors and org admins get
// an organization.
func Role(role string) UserOption {
	return func(u *store.User) {
		u.Role = role
		if role == apigw.RoleMentor || role == apigw.RoleOrgAdmin {
			u.OrgID = ids.New(ids.Org)
		}
	}
}

// Status sets the user's status (active by default).
func Status(status string) UserOption { return func(u *store.User) { u.Status = status } }

// WithID creates the user under a given ID (e.g. the sub of a sample event).
func WithID(id string) UserOption { return func(u *store.User) { u.ID = id } }

// User creates a user (intern, active, no MFA unless options say otherwise)
// with a unique email and returns it as stored.
func (e *Env) User(t testing.TB, opts ...UserOption) store.User {
	t.Helper()
	u := store.User{
		ID: ids.New(ids.User), DisplayName: "Ada Lovelace", Role: apigw.RoleIntern,
		PasswordHash: PasswordHash,
	}
	for _, o := range opts {
		o(&u)
	}
	u.Email = strings.TrimPrefix(u.ID, "usr_") + "@example.com"
	if err := e.Store.CreateUser(Ctx(t), u); err != nil {
		t.Fatalf("accounttest: CreateUser: %v", err)
	}
	got, err := e.Store.GetUser(Ctx(t), u.ID)
	if err != nil {
		t.Fatalf("accounttest: GetUser: %v", err)
	}
	return got
}

// EnableMFA gives the user a confirmed TOTP secret, sealed with the real
// envelope under account.TOTPEncryptionContext, and returns the secret.
func (e *Env) EnableMFA(t testing.TB, userID string) string {
	t.Helper()
	u, err := e.Store.GetUser(Ctx(t), userID)
	if err != nil {
		t.Fatalf("accounttest: GetUser: %v", err)
	}
	enr, err := totp.Generate(u.Email)
	if err != nil {
		t.Fatalf("accounttest: totp: %v", err)
	}
	blob, err := e.Envelope().Seal(Ctx(t), []byte(enr.Secret), account.TOTPEncryptionContext(userID))
	if err != nil {
		t.Fatalf("accounttest: seal: %v", err)
	}
	if _, err := e.Store.SetMFA(Ctx(t), userID, store.MFA{Enabled: true, SecretCiphertext: blob}, u.Version); err != nil {
		t.Fatalf("accounttest: SetMFA: %v", err)
	}
	return enr.Secret
}

// Admin creates an active platform admin with MFA enabled.
func (e *Env) Admin(t testing.TB) store.User {
	t.Helper()
	u := e.User(t, Role(apigw.RoleAdmin))
	e.EnableMFA(t, u.ID)
	got, err := e.Store.GetUser(Ctx(t), u.ID)
	if err != nil {
		t.Fatalf("accounttest: GetUser: %v", err)
	}
	return got
}

// Session creates a live session of the user, created now, valid for a
// week, and returns it as stored.
func (e *Env) Session(t testing.TB, userID string) store.Session {
	t.Helper()
	return e.SessionWithID(t, userID, ids.New(ids.Session))
}

// SessionWithID is Session under a given session ID.
func (e *Env) SessionWithID(t testing.TB, userID, sessionID string) store.Session {
	t.Helper()
	now := e.Clock.Now()
	s := store.Session{
		ID: sessionID, UserID: userID, UserAgent: "Mozilla/5.0 (accounttest)", SourceIP: "198.51.100.7",
		ExpiresAt: now.Add(7 * 24 * time.Hour),
	}
	if err := e.Store.CreateSession(Ctx(t), s, store.RefreshToken{Hash: randomHash(t), ExpiresAt: s.ExpiresAt}); err != nil {
		t.Fatalf("accounttest: CreateSession: %v", err)
	}
	got, err := e.Store.GetSession(Ctx(t), userID, sessionID)
	if err != nil {
		t.Fatalf("accounttest: GetSession: %v", err)
	}
	return got
}

func randomHash(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Principal is the authorizer's view of u calling with session sessionID.
func Principal(u store.User, sessionID string) apigw.Principal {
	return apigw.Principal{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, SessionID: sessionID}
}

// Request builds a REST proxy request made by p (apigwtest.NewRequest plus
// the authorizer context).
func Request(method, path, body string, p apigw.Principal) events.APIGatewayProxyRequest {
	return apigwtest.WithPrincipal(apigwtest.NewRequest(method, path, body), p)
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

// Payload is one CLI sample event (events/<function>/<case>.json).
type Payload struct {
	Name string
	Raw  []byte
}

// LoadPayloads reads every *.json file of dir, in name order, failing if
// there is none.
func LoadPayloads(t testing.TB, dir string) []Payload {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("accounttest: no *.json events in %s (%v)", dir, err)
	}
	slices.Sort(paths)
	out := make([]Payload, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("accounttest: %v", err)
		}
		out = append(out, Payload{Name: strings.TrimSuffix(filepath.Base(p), ".json"), Raw: b})
	}
	return out
}

// RepoFile returns the path of a file at the repository root.
func RepoFile(t testing.TB, name string) string { return repotest.File(t, name) }

// Buffer is a log sink safe for concurrent writers.
type Buffer = obstest.Buffer
