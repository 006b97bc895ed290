// Package identitytest builds, for tests of shared/identity and of the
// auth-* handlers, an identity.Service over real components: the store and
// the rate limiter on a minidyn DynamoDB whose table comes from
// template.yaml, the real argon2id hasher (wrapped to count calls), the real
// token issuer and verifier with a fresh Ed25519 key ring, the real password
// policy, an audit recorder that validates entries like the audit writer,
// and, on request, envelope encryption under local-kms. One settable clock
// drives all of them.
package identitytest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/pwpolicy"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/internal/kmstest"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/store"
)

// Start is the clock's initial time: fixed and far from the real clock, so
// code that used time.Now by mistake sees tokens and sessions wrongly dated
// and fails.
var Start = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// Token issuer settings of the environment.
const (
	TokenIssuer   = "vip-test"
	TokenAudience = "vip-test-api"
	TokenTTL      = 15 * time.Minute
)

// Password is a password the policy accepts, for users that need one.
const Password = "quartz-lantern-Oasis-plum-47"

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
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

// HasherCounts are the calls a CountingHasher has seen.
type HasherCounts struct {
	Hash, Verify, DummyVerify, NeedsRehash int64
}

// CountingHasher is the real argon2id hasher, counting calls so tests can
// prove which work a flow did (e.g. that an unknown email ran DummyVerify).
type CountingHasher struct {
	h                                      *password.Hasher
	hash, verify, dummyVerify, needsRehash atomic.Int64
}

var _ identity.Hasher = (*CountingHasher)(nil)

// NewCountingHasher wraps password.NewHasher(p).
func NewCountingHasher(t testing.TB, p password.Params) *CountingHasher {
	t.Helper()
	h, err := password.NewHasher(p)
	if err != nil {
		t.Fatalf("identitytest: hasher: %v", err)
	}
	return &CountingHasher{h: h}
}

// Hash counts and hashes.
func (c *CountingHasher) Hash(pw string) (string, error) {
	c.hash.Add(1)
	return c.h.Hash(pw)
}

// Verify counts and verifies.
func (c *CountingHasher) Verify(pw, encoded string) (bool, error) {
	c.verify.Add(1)
	return c.h.Verify(pw, encoded)
}

// DummyVerify counts and runs the dummy verification.
func (c *CountingHasher) DummyVerify(pw string) {
	c.dummyVerify.Add(1)
	c.h.DummyVerify(pw)
}

// NeedsRehash counts and answers.
func (c *CountingHasher) NeedsRehash(encoded string) bool {
	c.needsRehash.Add(1)
	return c.h.NeedsRehash(encoded)
}

// Params returns the wrapped hasher's parameters.
func (c *CountingHasher) Params() password.Params { return c.h.Params }

// Counts returns the calls so far.
func (c *CountingHasher) Counts() HasherCounts {
	return HasherCounts{Hash: c.hash.Load(), Verify: c.verify.Load(), DummyVerify: c.dummyVerify.Load(), NeedsRehash: c.needsRehash.Load()}
}

// Env is one test's identity environment.
type Env struct {
	Clock    *Clock
	DB       *dynamodb.Client
	Table    string
	Store    *store.Store
	Limiter  *ratelimit.Limiter
	Hasher   *CountingHasher
	Issuer   *token.Issuer
	Verifier *token.Verifier
	Audit    *audittest.Recorder
	Policy   identity.PasswordPolicy
	// Envelope is nil unless WithKMS was given.
	Envelope *keys.Envelope
}

type config struct {
	kms    bool
	params password.Params
}

// Option configures New.
type Option func(*config)

// WithKMS starts local-kms and sets Env.Envelope (needed by the MFA flow
// and EnableTOTP).
func WithKMS() Option { return func(c *config) { c.kms = true } }

// WithHasherParams sets the hasher's parameters (password.DefaultParams
// otherwise).
func WithHasherParams(p password.Params) Option { return func(c *config) { c.params = p } }

// New builds an environment for t; everything is torn down when t ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := config{params: password.DefaultParams}
	for _, o := range opts {
		o(&cfg)
	}
	e := &Env{Clock: NewClock(Start), Audit: &audittest.Recorder{}, Policy: pwpolicy.Policy{}}
	e.DB = dyntest.New(t)
	e.Table = dyntest.CreateTableFromTemplate(t, e.DB, templatePath(t), "MainTable")
	var err error
	if e.Store, err = store.New(e.DB, e.Table, store.WithClock(e.Clock.Now)); err != nil {
		t.Fatalf("identitytest: store: %v", err)
	}
	if e.Limiter, err = ratelimit.New(e.DB, ratelimit.Config{
		Table: e.Table, Policies: identity.RateLimitPolicies(), Clock: e.Clock.Now, HashKey: []byte("identitytest rate-limit key"),
	}); err != nil {
		t.Fatalf("identitytest: limiter: %v", err)
	}
	e.Hasher = NewCountingHasher(t, cfg.params)

	key, err := token.NewKey(e.Clock.Now())
	if err != nil {
		t.Fatalf("identitytest: signing key: %v", err)
	}
	ring := token.StaticKeyRing{Ring: &token.KeyRing{Current: key}}
	if e.Issuer, err = token.NewIssuer(ring, token.IssuerConfig{
		Issuer: TokenIssuer, Audience: TokenAudience, TTL: TokenTTL, Now: e.Clock.Now,
	}); err != nil {
		t.Fatalf("identitytest: issuer: %v", err)
	}
	if e.Verifier, err = token.NewVerifier(ring, token.VerifierConfig{
		Issuer: TokenIssuer, Audience: TokenAudience, Now: e.Clock.Now,
	}); err != nil {
		t.Fatalf("identitytest: verifier: %v", err)
	}
	if cfg.kms {
		client, keyID := kmstest.New(t)
		if e.Envelope, err = keys.New(client, keyID); err != nil {
			t.Fatalf("identitytest: envelope: %v", err)
		}
	}
	return e
}

// templatePath finds template.yaml at the module root, whichever package
// directory the test runs in.
func templatePath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("identitytest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "template.yaml")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("identitytest: no go.mod above the test directory")
		}
		dir = parent
	}
}

// Deps returns every dependency of every flow. (An Env without WithKMS
// has a nil Envelope, which only the MFA flow needs.)
func (e *Env) Deps() identity.Deps {
	d := identity.Deps{
		Store: e.Store, Auditor: e.Audit, Hasher: e.Hasher, Policy: e.Policy,
		Issuer: e.Issuer, Limiter: e.Limiter, Clock: e.Clock.Now,
	}
	if e.Envelope != nil {
		d.Envelope = e.Envelope
	}
	return d
}

// Service returns a Service over Deps for flows (all flows but the MFA
// step when none are given; that one too with WithKMS).
func (e *Env) Service(t testing.TB, flows ...identity.Flow) *identity.Service {
	t.Helper()
	if len(flows) == 0 {
		flows = []identity.Flow{identity.FlowRegister, identity.FlowLogin, identity.FlowRefresh, identity.FlowLogout, identity.FlowPassword}
		if e.Envelope != nil {
			flows = append(flows, identity.FlowLoginMFA)
		}
	}
	s, err := identity.New(e.Deps(), flows...)
	if err != nil {
		t.Fatalf("identitytest: service: %v", err)
	}
	return s
}

// UserSpec describes a user to create; zero fields get defaults (a fresh
// email, Password, role intern, active).
type UserSpec struct {
	Email       string
	Password    string
	DisplayName string
	Role        string
	OrgID       string
	Status      string
	// PasswordHash, when set, is stored as is instead of hashing Password.
	PasswordHash string
}

// CreateUser stores a user (through the store, not the register flow) and
// returns it as stored. Hashing here is not counted by Env.Hasher.
func (e *Env) CreateUser(t testing.TB, spec UserSpec) store.User {
	t.Helper()
	u := store.User{
		ID: ids.New(ids.User), Email: spec.Email, DisplayName: spec.DisplayName,
		Role: spec.Role, OrgID: spec.OrgID, Status: spec.Status, PasswordHash: spec.PasswordHash,
	}
	if u.Email == "" {
		u.Email = u.ID[len("usr_"):] + "@example.org"
	}
	if u.DisplayName == "" {
		u.DisplayName = "Test User"
	}
	if u.Role == "" {
		u.Role = apigw.RoleIntern
	}
	if (u.Role == apigw.RoleMentor || u.Role == apigw.RoleOrgAdmin) && u.OrgID == "" {
		u.OrgID = ids.New(ids.Org)
	}
	if u.PasswordHash == "" {
		pw := spec.Password
		if pw == "" {
			pw = Password
		}
		var err error
		if u.PasswordHash, err = e.Hasher.h.Hash(pw); err != nil {
			t.Fatalf("identitytest: hash: %v", err)
		}
	}
	if err := e.Store.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("identitytest: create user: %v", err)
	}
	got, err := e.Store.GetUser(ctx(t), u.ID)
	if err != nil {
		t.Fatalf("identitytest: get user: %v", err)
	}
	return got
}

// EnableTOTP enrolls and confirms TOTP for the user, sealing the secret
// under identity.TOTPContext as enrolment does, and returns the secret.
func (e *Env) EnableTOTP(t testing.TB, userID string) string {
	t.Helper()
	if e.Envelope == nil {
		t.Fatal("identitytest: EnableTOTP needs WithKMS")
	}
	u, err := e.Store.GetUser(ctx(t), userID)
	if err != nil {
		t.Fatalf("identitytest: get user: %v", err)
	}
	enr, err := totp.Generate(u.Email)
	if err != nil {
		t.Fatalf("identitytest: totp: %v", err)
	}
	blob, err := e.Envelope.Seal(ctx(t), []byte(enr.Secret), identity.TOTPContext(userID))
	if err != nil {
		t.Fatalf("identitytest: seal: %v", err)
	}
	if _, err := e.Store.SetMFA(ctx(t), userID, store.MFA{Enabled: true, SecretCiphertext: blob}, u.Version); err != nil {
		t.Fatalf("identitytest: set mfa: %v", err)
	}
	return enr.Secret
}

// TOTPCode returns the code an authenticator app shows for secret at the
// clock's current time.
func (e *Env) TOTPCode(t testing.TB, secret string) string {
	t.Helper()
	code, err := pqtotp.GenerateCodeCustom(secret, e.Clock.Now(), pqtotp.ValidateOpts{
		Period: totp.Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		t.Fatalf("identitytest: totp code: %v", err)
	}
	return code
}

// Login logs the user in with the password flow from sourceIP and returns
// the tokens, failing the test otherwise (MFA users included).
func (e *Env) Login(t testing.TB, email, pw, sourceIP string) identity.Tokens {
	t.Helper()
	svc := e.Service(t, identity.FlowLogin)
	res, err := svc.Login(ctx(t), identity.Meta{RequestID: "identitytest-login", SourceIP: sourceIP, UserAgent: "identitytest"},
		identity.LoginRequest{Email: email, Password: pw})
	if err != nil {
		t.Fatalf("identitytest: login: %v", err)
	}
	if res.Tokens == nil {
		t.Fatal("identitytest: login asked for MFA")
	}
	return *res.Tokens
}

// Principal returns the principal the authorizer would derive from an
// access token of the environment's issuer.
func (e *Env) Principal(t testing.TB, accessToken string) apigw.Principal {
	t.Helper()
	c, err := e.Verifier.Verify(ctx(t), accessToken)
	if err != nil {
		t.Fatalf("identitytest: verify access token: %v", err)
	}
	return apigw.Principal{UserID: c.UserID, Role: c.Role, OrgID: c.OrgID, SessionID: c.SessionID}
}

// SessionLive reports whether the session exists, is active and unexpired.
func (e *Env) SessionLive(t testing.TB, userID, sessionID string) bool {
	t.Helper()
	s, err := e.Store.GetSession(ctx(t), userID, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("identitytest: get session: %v", err)
	}
	return s.Live(e.Clock.Now())
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
