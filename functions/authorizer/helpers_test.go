package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/golang-jwt/jwt/v5"

	"github.com/vip-platform/backend/infra/devstack/awsemu"
	"github.com/vip-platform/backend/infra/template"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/secrets"
	"github.com/vip-platform/backend/shared/signingkeys"
	"github.com/vip-platform/backend/shared/store"
)

// The issuer and audience template.yaml gives the dev stage.
const (
	testIssuer   = "vip-dev"
	testAudience = "vip-dev-api"
	testMethod   = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/v1/me"
	testSourceIP = "198.51.100.23"
	testReqID    = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
)

// base is the tests' "now", far from the wall clock so an accidental
// time.Now shows up as expired or not-yet-valid tokens.
var base = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is a settable clock shared by the store, the key source, the
// verifier and the handler.
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

// countingReader counts Secrets Manager reads of the key ring.
type countingReader struct {
	secrets.Reader
	n atomic.Int64
}

func (c *countingReader) Secret(ctx context.Context, id string) ([]byte, error) {
	c.n.Add(1)
	return c.Reader.Secret(ctx, id)
}

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the authorizer against the devstack's emulators (minidyn and the
// Secrets Manager emulator), provisioned from template.yaml: the real
// MainTable key schema and the real signing-keys secret.
type env struct {
	clk    *clock
	db     *dynamodb.Client
	table  string
	st     *store.Store
	sm     *secretsmanager.Client
	secret string // the signing-keys secret's ARN
	ring   *token.KeyRing
	reads  *countingReader
	audit  *audittest.Recorder
	logs   *syncBuffer
	h      *Handler
}

func newKey(t testing.TB, at time.Time) token.Key {
	t.Helper()
	k, err := token.NewKey(at)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{clk: &clock{t: base}, audit: &audittest.Recorder{}, logs: &syncBuffer{}}
	// A ring that has been rotated once: current and previous keys.
	e.ring = (&token.KeyRing{Current: newKey(t, base.Add(-60*24*time.Hour))}).Rotate(newKey(t, base.Add(-30*24*time.Hour)))
	initial, err := e.ring.Marshal()
	if err != nil {
		t.Fatal(err)
	}

	emu, err := awsemu.Start(ctx, awsemu.Options{Host: "127.0.0.1", DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("awsemu.Start: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	tpl, err := template.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	renv, err := awsemu.NewResourceEnv(tpl, map[string]string{"Stage": "dev"}, emu.Region(), emu.AccountID())
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Provision(ctx, tpl, renv, awsemu.SecretValues{
		"SigningKeysSecret": func() (string, error) { return string(initial), nil },
	}); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if e.table, err = renv.Ref("MainTable"); err != nil {
		t.Fatal(err)
	}
	if e.secret, err = renv.Ref("SigningKeysSecret"); err != nil {
		t.Fatal(err)
	}
	clients := emu.Clients()
	e.db, e.sm = clients.DynamoDB, clients.SecretsManager
	if e.st, err = store.New(e.db, e.table, store.WithClock(e.clk.Now)); err != nil {
		t.Fatal(err)
	}
	mgr, err := secrets.NewManager(e.sm)
	if err != nil {
		t.Fatal(err)
	}
	e.reads = &countingReader{Reader: mgr}
	e.h = e.handler(t, e.secret)
	return e
}

// handler builds an authorizer reading the key ring from secretID, wired
// as realMain wires it (signingkeys.Source → token.Verifier).
func (e *env) handler(t *testing.T, secretID string) *Handler {
	t.Helper()
	src, err := signingkeys.New(e.reads, secretID, signingkeys.WithClock(e.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(src, token.VerifierConfig{Issuer: testIssuer, Audience: testAudience, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config{Verifier: v, Sessions: e.st, Audit: e.audit,
		Log: obs.New(e.logs, functionName, slog.LevelDebug), Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rotate writes ring.Rotate(new key) as the secret's AWSCURRENT value (the
// emulator moves AWSPREVIOUS), as the rotation function's finishSecret
// leaves it.
func (e *env) rotate(t *testing.T) *token.KeyRing {
	t.Helper()
	e.ring = e.ring.Rotate(newKey(t, e.clk.Now()))
	b, err := e.ring.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(e.secret), SecretString: aws.String(string(b)),
	}); err != nil {
		t.Fatalf("PutSecretValue: %v", err)
	}
	return e.ring
}

// login creates an active user of role (with an org when the role needs
// one) and a live session.
func (e *env) login(t *testing.T, role string) (store.User, store.Session) {
	t.Helper()
	ctx := t.Context()
	u := store.User{
		ID: ids.New(ids.User), Email: strings.ToLower(ids.New(ids.User)) + "@example.test", DisplayName: "Grace Hopper",
		Role: role, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
	}
	if role == token.RoleMentor || role == token.RoleOrgAdmin {
		u.OrgID = ids.New(ids.Org)
	}
	if err := e.st.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	s := store.Session{ID: ids.New(ids.Session), UserID: u.ID, UserAgent: "test/1.0", SourceIP: testSourceIP,
		ExpiresAt: e.clk.Now().Add(24 * time.Hour)}
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	if err := e.st.CreateSession(ctx, s, store.RefreshToken{Hash: hex.EncodeToString(h), ExpiresAt: s.ExpiresAt}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, gotS, err := e.st.GetUserAndSession(ctx, u.ID, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got, gotS
}

// issue signs a token for u and s with ring's current key, as auth-login
// would, at the given time and with the given iss/aud.
func issueWith(t *testing.T, ring *token.KeyRing, at time.Time, iss, aud string, u store.User, s store.Session) string {
	t.Helper()
	i, err := token.NewIssuer(token.StaticKeyRing{Ring: ring}, token.IssuerConfig{
		Issuer: iss, Audience: aud, TTL: 15 * time.Minute, Now: func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := i.Issue(t.Context(), token.Subject{UserID: u.ID, SessionID: s.ID, Role: u.Role, OrgID: u.OrgID})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return raw
}

func (e *env) issue(t *testing.T, u store.User, s store.Session) string {
	t.Helper()
	return issueWith(t, e.ring, e.clk.Now(), testIssuer, testAudience, u, s)
}

// claimsFor are the claims the issuer would write, for hand-crafted tokens.
func claimsFor(u store.User, s store.Session, now time.Time) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": testIssuer, "aud": []string{testAudience}, "sub": u.ID, "sid": s.ID, "role": u.Role,
		"jti": rand.Text(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
	if u.OrgID != "" {
		c["org"] = u.OrgID
	}
	return c
}

// craft signs claims with any method and key under kid, the way an
// attacker could.
func craft(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign crafted token: %v", err)
	}
	return s
}

// request is the REQUEST authorizer event API Gateway sends for GET /v1/me
// with the given headers.
func request(headers map[string]string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	mv := map[string][]string{}
	for k, v := range headers {
		mv[k] = []string{v}
	}
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:              "REQUEST",
		MethodArn:         testMethod,
		Resource:          "/v1/me",
		Path:              "/v1/me",
		HTTPMethod:        "GET",
		Headers:           headers,
		MultiValueHeaders: mv,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			Path: "/dev/v1/me", AccountID: "123456789012", ResourceID: "abc123", Stage: "dev",
			RequestID: testReqID, ResourcePath: "/v1/me", HTTPMethod: "GET", APIID: "a1b2c3d4e5",
			Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: testSourceIP},
		},
	}
}

func bearer(raw string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return request(map[string]string{"Authorization": "Bearer " + raw})
}
