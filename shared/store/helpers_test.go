package store_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/store"
)

// base is the tests' fixed "now": far from the real clock, so a test that
// accidentally used time.Now would see everything expired or alive wrongly.
var base = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable clock shared by a store and its test.
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

type env struct {
	st    *store.Store
	db    *dynamodb.Client
	table string
	clk   *clock
}

// newEnv gives each test its own minidyn server and a MainTable built from
// template.yaml.
func newEnv(t *testing.T) env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, "../../template.yaml", "MainTable")
	clk := &clock{t: base}
	st, err := store.New(db, table, store.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("store.New: %v", err)
	}
	return env{st: st, db: db, table: table, clk: clk}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// newHash returns the digest of a fresh random token, as auth would store it.
func newHash(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newUser(email string) store.User {
	return store.User{
		ID:           ids.New(ids.User),
		Email:        email,
		DisplayName:  "Ada Lovelace",
		Role:         "intern",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
	}
}

// mustUser creates a user and returns it as stored.
func mustUser(t *testing.T, e env, email string) store.User {
	t.Helper()
	u := newUser(email)
	if err := e.st.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	got, err := e.st.GetUser(ctx(t), u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return got
}

// mustSession creates a live session of userID whose current refresh token
// has hash h, and returns both.
func mustSession(t *testing.T, e env, userID string, ttl time.Duration) (store.Session, string) {
	t.Helper()
	s := store.Session{
		ID: ids.New(ids.Session), UserID: userID, UserAgent: "test-agent/1.0", SourceIP: "192.0.2.10",
		ExpiresAt: e.clk.Now().Add(ttl),
	}
	h := newHash(t)
	if err := e.st.CreateSession(ctx(t), s, store.RefreshToken{Hash: h, ExpiresAt: e.clk.Now().Add(ttl)}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := e.st.GetSession(ctx(t), userID, s.ID)
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	return got, h
}
