package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

const day = 24 * time.Hour

func TestCreateSessionRoundTrip(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "ses@example.com")
	s := store.Session{
		ID: ids.New(ids.Session), UserID: u.ID, UserAgent: strings.Repeat("A", 600), SourceIP: "2001:db8::1",
		ExpiresAt: base.Add(30*day + 500*time.Millisecond),
	}
	h := newHash(t)
	if err := e.st.CreateSession(ctx(t), s, store.RefreshToken{Hash: h, ExpiresAt: base.Add(day)}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := e.st.GetSession(ctx(t), u.ID, s.ID)
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	switch {
	case got.ID != s.ID || got.UserID != u.ID || got.Status != store.SessionActive || got.RefreshHash != h:
		t.Fatalf("GetSession = %+v", got)
	case len(got.UserAgent) != 512 || got.SourceIP != s.SourceIP:
		t.Fatalf("UserAgent len %d, SourceIP %q", len(got.UserAgent), got.SourceIP)
	case !got.CreatedAt.Equal(base) || !got.LastSeenAt.Equal(base):
		t.Fatalf("CreatedAt %v LastSeenAt %v", got.CreatedAt, got.LastSeenAt)
	case !got.ExpiresAt.Equal(base.Add(30*day + time.Second)):
		// Whole seconds, rounded up: a lifetime is never shortened.
		t.Fatalf("ExpiresAt = %v", got.ExpiresAt)
	case !got.Live(base) || got.Live(got.ExpiresAt):
		t.Fatalf("Live wrong around %v", got.ExpiresAt)
	}
	gu, gs, err := e.st.GetUserAndSession(ctx(t), u.ID, s.ID)
	if err != nil {
		t.Fatalf("GetUserAndSession: %v", err)
	}
	if gu.ID != u.ID || gu.PasswordHash != u.PasswordHash || gs.ID != s.ID || gs.RefreshHash != h {
		t.Fatalf("GetUserAndSession = %+v, %+v", gu, gs)
	}
}

func TestCreateSessionRejects(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "active@example.com")
	sus := mustUser(t, e, "suspended@example.com")
	if _, err := e.st.SetStatus(ctx(t), sus.ID, store.UserSuspended, sus.Version); err != nil {
		t.Fatal(err)
	}
	taken, takenHash := mustSession(t, e, u.ID, day)
	tests := []struct {
		name   string
		mutate func(*store.Session, *store.RefreshToken)
		want   error // nil: any non-sentinel validation error
	}{
		{"malformed user id", func(s *store.Session, _ *store.RefreshToken) { s.UserID = "usr_1" }, nil},
		{"malformed session id", func(s *store.Session, _ *store.RefreshToken) { s.ID = "SESSION#x" }, nil},
		{"session expired", func(s *store.Session, _ *store.RefreshToken) { s.ExpiresAt = base }, nil},
		{"token expired", func(_ *store.Session, r *store.RefreshToken) { r.ExpiresAt = base.Add(-time.Second) }, nil},
		{"token hash with separator", func(_ *store.Session, r *store.RefreshToken) { r.Hash = "abc#REFRESH#0123456789" }, nil},
		{"token of another session", func(_ *store.Session, r *store.RefreshToken) { r.SessionID = ids.New(ids.Session) }, nil},
		{"token of another user", func(_ *store.Session, r *store.RefreshToken) { r.UserID = sus.ID }, nil},
		{"token already used", func(_ *store.Session, r *store.RefreshToken) { r.Status = store.TokenUsed }, nil},
		{"unknown user", func(s *store.Session, _ *store.RefreshToken) { s.UserID = ids.New(ids.User) }, store.ErrConflict},
		{"suspended user", func(s *store.Session, _ *store.RefreshToken) { s.UserID = sus.ID }, store.ErrConflict},
		{"session id exists", func(s *store.Session, _ *store.RefreshToken) { s.ID = taken.ID }, store.ErrConflict},
		{"token hash exists", func(_ *store.Session, r *store.RefreshToken) { r.Hash = takenHash }, store.ErrConflict},
		{"password changed since it was verified", func(s *store.Session, _ *store.RefreshToken) {
			s.VerifiedPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$b2xkc2FsdA$b2xkaGFzaA"
		}, store.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := store.Session{ID: ids.New(ids.Session), UserID: u.ID, ExpiresAt: base.Add(day)}
			r := store.RefreshToken{Hash: newHash(t), ExpiresAt: base.Add(day)}
			tc.mutate(&s, &r)
			err := e.st.CreateSession(ctx(t), s, r)
			switch {
			case err == nil:
				t.Fatal("CreateSession accepted it")
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("got %v, want %v", err, tc.want)
			case tc.want == nil && errors.Is(err, store.ErrConflict):
				t.Fatalf("validation failure reported as %v", err)
			}
		})
	}
	// The failed "token hash exists" transaction left the original alone.
	got, err := e.st.GetSession(ctx(t), u.ID, taken.ID)
	if err != nil || got.RefreshHash != takenHash {
		t.Fatalf("existing session changed: %+v, %v", got, err)
	}
}

func TestGetUserAndSession(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "authz@example.com")
	other := mustUser(t, e, "other@example.com")
	live, _ := mustSession(t, e, u.ID, day)
	short, _ := mustSession(t, e, u.ID, time.Hour)
	revoked, _ := mustSession(t, e, u.ID, day)
	if err := e.st.RevokeSession(ctx(t), u.ID, revoked.ID, "logout"); err != nil {
		t.Fatal(err)
	}
	otherSes, _ := mustSession(t, e, other.ID, day)
	e.clk.Advance(time.Hour) // short has now expired

	tests := []struct {
		name              string
		userID, sessionID string
		wantErr           error
		wantLive          bool
	}{
		{"live session", u.ID, live.ID, nil, true},
		{"revoked session is returned, not live", u.ID, revoked.ID, nil, false},
		{"expired session", u.ID, short.ID, store.ErrNotFound, false},
		{"unknown session", u.ID, ids.New(ids.Session), store.ErrNotFound, false},
		{"session of another user", u.ID, otherSes.ID, store.ErrNotFound, false},
		{"unknown user", ids.New(ids.User), live.ID, store.ErrNotFound, false},
		{"malformed session id", u.ID, "ses_x", store.ErrNotFound, false},
		{"malformed user id", "PROFILE", live.ID, store.ErrNotFound, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gu, gs, err := e.st.GetUserAndSession(ctx(t), tc.userID, tc.sessionID)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetUserAndSession: %v", err)
			}
			if gu.ID != tc.userID || gs.ID != tc.sessionID || gs.Live(e.clk.Now()) != tc.wantLive {
				t.Fatalf("got %s/%s live=%v", gu.ID, gs.ID, gs.Live(e.clk.Now()))
			}
		})
	}
	t.Run("suspended user is returned, not active", func(t *testing.T) {
		cur, _ := e.st.GetUser(ctx(t), u.ID)
		if _, err := e.st.SetStatus(ctx(t), u.ID, store.UserSuspended, cur.Version); err != nil {
			t.Fatal(err)
		}
		gu, _, err := e.st.GetUserAndSession(ctx(t), u.ID, live.ID)
		if err != nil || gu.Active() {
			t.Fatalf("got active=%v, %v", gu.Active(), err)
		}
	})
}

// throttled passes BatchGetItem through to DynamoDB but, for its first
// `defer` calls, serves only the first key and hands the rest back as
// UnprocessedKeys, as DynamoDB does under throttling.
type throttled struct {
	store.DynamoDB
	mu     sync.Mutex
	defers int
	calls  int
}

func (f *throttled) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	f.mu.Lock()
	f.calls++
	deferNow := f.defers > 0
	if deferNow {
		f.defers--
	}
	f.mu.Unlock()
	if !deferNow {
		return f.DynamoDB.BatchGetItem(ctx, in, opts...)
	}
	served := map[string]types.KeysAndAttributes{}
	left := map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		if len(ka.Keys) > 1 {
			first := ka
			first.Keys = ka.Keys[:1]
			served[table] = first
		}
		rest := ka
		rest.Keys = ka.Keys[min(1, len(ka.Keys)-1):]
		left[table] = rest
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	if len(served) > 0 {
		got, err := f.DynamoDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: served}, opts...)
		if err != nil {
			return nil, err
		}
		out.Responses = got.Responses
	}
	out.UnprocessedKeys = left
	return out, nil
}

func TestGetUserAndSessionRetriesUnprocessedKeys(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "throttle@example.com")
	s, _ := mustSession(t, e, u.ID, day)
	tests := []struct {
		name      string
		defers    int
		wantErr   bool
		wantCalls int
	}{
		{"no throttling", 0, false, 1},
		{"one partial page", 1, false, 2},
		{"partial then nothing", 3, false, 4},
		{"never completes", 100, true, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &throttled{DynamoDB: e.db, defers: tc.defers}
			st, err := store.New(f, e.table, store.WithClock(e.clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			store.SetBatchRetry(st, 4, time.Millisecond)
			gu, gs, err := st.GetUserAndSession(ctx(t), u.ID, s.ID)
			if tc.wantErr {
				if err == nil || errors.Is(err, store.ErrNotFound) {
					t.Fatalf("got %v, want a non-NotFound error", err)
				}
			} else if err != nil || gu.ID != u.ID || gs.ID != s.ID {
				t.Fatalf("got %s/%s, %v", gu.ID, gs.ID, err)
			}
			if f.calls != tc.wantCalls {
				t.Fatalf("%d BatchGetItem calls, want %d", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestListSessions(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "list@example.com")
	other := mustUser(t, e, "list-other@example.com")
	mustSession(t, e, other.ID, day)
	var want []string
	for i := range 5 {
		s, _ := mustSession(t, e, u.ID, day)
		want = append([]string{s.ID}, want...) // newest first
		if i < 4 {
			e.clk.Advance(time.Second)
		}
	}
	gone, _ := mustSession(t, e, u.ID, day)
	if err := e.st.RevokeSession(ctx(t), u.ID, gone.ID, "logout"); err != nil {
		t.Fatal(err)
	}
	mustSession(t, e, u.ID, time.Minute) // expires below
	e.clk.Advance(time.Minute)

	for _, page := range []int32{100, 2, 1} {
		store.SetPageSize(e.st, page)
		got, err := e.st.ListSessions(ctx(t), u.ID)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		var gotIDs []string
		for _, s := range got {
			gotIDs = append(gotIDs, s.ID)
			if !s.Live(e.clk.Now()) || s.UserID != u.ID {
				t.Fatalf("page %d: non-live or foreign session %+v", page, s)
			}
		}
		if strings.Join(gotIDs, ",") != strings.Join(want, ",") {
			t.Fatalf("page %d: ListSessions = %v\nwant %v", page, gotIDs, want)
		}
	}
	if got, err := e.st.ListSessions(ctx(t), ids.New(ids.User)); err != nil || len(got) != 0 {
		t.Fatalf("unknown user: %v, %v", got, err)
	}
}

func TestRevokeSession(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "revoke@example.com")
	s, _ := mustSession(t, e, u.ID, day)
	tests := []struct {
		name              string
		userID, sessionID string
		reason            string
		want              error
		wantReason        string
	}{
		{"revoke", u.ID, s.ID, "logout", nil, "logout"},
		{"again keeps the first reason", u.ID, s.ID, "refresh_reuse", nil, "logout"},
		{"unknown session", u.ID, ids.New(ids.Session), "logout", store.ErrNotFound, ""},
		{"unknown user", ids.New(ids.User), s.ID, "logout", store.ErrNotFound, ""},
		{"malformed", u.ID, "x", "logout", store.ErrNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.st.RevokeSession(ctx(t), tc.userID, tc.sessionID, tc.reason)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			got, err := e.st.GetSession(ctx(t), tc.userID, tc.sessionID)
			if err != nil || got.Status != store.SessionRevoked || got.RevokedReason != tc.wantReason || got.Live(base) {
				t.Fatalf("after revoke: %+v, %v", got, err)
			}
		})
	}
	if err := e.st.RevokeSession(ctx(t), u.ID, s.ID, ""); err == nil {
		t.Fatal("empty reason accepted")
	}
}

func TestRevokeAllSessions(t *testing.T) {
	tests := []struct {
		name     string
		sessions int
		keep     bool // spare the first session
		page     int32
		want     int
	}{
		{"all but current", 5, true, 100, 4},
		{"all but current, paged", 5, true, 2, 4},
		{"all", 3, false, 1, 3},
		{"none to revoke", 1, true, 100, 0},
		{"no sessions", 0, false, 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			store.SetPageSize(e.st, tc.page)
			u := mustUser(t, e, "all@example.com")
			bystander := mustUser(t, e, "bystander@example.com")
			bs, _ := mustSession(t, e, bystander.ID, day)
			var sessions []store.Session
			for range tc.sessions {
				s, _ := mustSession(t, e, u.ID, day)
				sessions = append(sessions, s)
			}
			// Already-dead sessions are neither counted nor touched.
			dead, _ := mustSession(t, e, u.ID, day)
			if err := e.st.RevokeSession(ctx(t), u.ID, dead.ID, "logout"); err != nil {
				t.Fatal(err)
			}
			except := ""
			if tc.keep && len(sessions) > 0 {
				except = sessions[0].ID
			}
			n, err := e.st.RevokeAllSessions(ctx(t), u.ID, "password_changed", except)
			if err != nil || n != tc.want {
				t.Fatalf("RevokeAllSessions = %d, %v; want %d", n, err, tc.want)
			}
			live, err := e.st.ListSessions(ctx(t), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if except == "" && len(live) != 0 || except != "" && (len(live) != 1 || live[0].ID != except) {
				t.Fatalf("live after revoke-all: %+v", live)
			}
			for _, s := range sessions {
				got, _ := e.st.GetSession(ctx(t), u.ID, s.ID)
				if s.ID != except && got.RevokedReason != "password_changed" {
					t.Fatalf("session %s reason %q", s.ID, got.RevokedReason)
				}
			}
			if got, _ := e.st.GetSession(ctx(t), u.ID, dead.ID); got.RevokedReason != "logout" {
				t.Fatalf("dead session's reason overwritten: %q", got.RevokedReason)
			}
			if got, _ := e.st.GetSession(ctx(t), bystander.ID, bs.ID); !got.Live(e.clk.Now()) {
				t.Fatal("another user's session was revoked")
			}
			if n, err := e.st.RevokeAllSessions(ctx(t), u.ID, "again", except); err != nil || n != 0 {
				t.Fatalf("second RevokeAllSessions = %d, %v", n, err)
			}
		})
	}
}

func TestRotateRefresh(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "rotate@example.com")
	next := func() store.RefreshToken {
		return store.RefreshToken{Hash: newHash(t), ExpiresAt: e.clk.Now().Add(day)}
	}

	t.Run("chain of rotations", func(t *testing.T) {
		s, h := mustSession(t, e, u.ID, 30*day)
		for i := range 3 {
			e.clk.Advance(time.Minute)
			n := next()
			n.UserID, n.SessionID = "ignored", "ignored" // taken from the old token
			old, err := e.st.RotateRefresh(ctx(t), h, n, e.clk.Now())
			if err != nil {
				t.Fatalf("rotation %d: %v", i, err)
			}
			if old.Hash != h || old.UserID != u.ID || old.SessionID != s.ID || old.Status != store.TokenActive {
				t.Fatalf("rotation %d returned %+v", i, old)
			}
			got, err := e.st.GetSession(ctx(t), u.ID, s.ID)
			if err != nil || got.RefreshHash != n.Hash || !got.LastSeenAt.Equal(e.clk.Now()) {
				t.Fatalf("session after rotation %d: %+v, %v", i, got, err)
			}
			h = n.Hash
		}
	})

	t.Run("reuse of a spent token", func(t *testing.T) {
		s, h := mustSession(t, e, u.ID, 30*day)
		if _, err := e.st.RotateRefresh(ctx(t), h, next(), e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		old, err := e.st.RotateRefresh(ctx(t), h, next(), e.clk.Now())
		if !errors.Is(err, store.ErrTokenSpent) {
			t.Fatalf("reuse: %v, want ErrTokenSpent", err)
		}
		if old.UserID != u.ID || old.SessionID != s.ID || old.Status != store.TokenUsed {
			t.Fatalf("reuse returned %+v; the caller needs user and session", old)
		}
	})

	tests := []struct {
		name  string
		setup func(t *testing.T) (oldHash string, n store.RefreshToken)
		want  error // nil: a non-sentinel validation error
	}{
		{"unknown token", func(t *testing.T) (string, store.RefreshToken) { return newHash(t), next() }, store.ErrNotFound},
		{"malformed hash", func(t *testing.T) (string, store.RefreshToken) { return "x#y", next() }, store.ErrNotFound},
		{"expired token", func(t *testing.T) (string, store.RefreshToken) {
			_, h := mustSession(t, e, u.ID, 30*day)
			r := store.RefreshToken{Hash: newHash(t), ExpiresAt: e.clk.Now().Add(time.Hour)}
			if _, err := e.st.RotateRefresh(ctx(t), h, r, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Hour)
			return r.Hash, next()
		}, store.ErrNotFound},
		{"revoked session", func(t *testing.T) (string, store.RefreshToken) {
			s, h := mustSession(t, e, u.ID, 30*day)
			if err := e.st.RevokeSession(ctx(t), u.ID, s.ID, "logout"); err != nil {
				t.Fatal(err)
			}
			return h, next()
		}, store.ErrNotFound},
		{"expired session", func(t *testing.T) (string, store.RefreshToken) {
			s := store.Session{ID: ids.New(ids.Session), UserID: u.ID, ExpiresAt: e.clk.Now().Add(time.Minute)}
			h := newHash(t)
			if err := e.st.CreateSession(ctx(t), s, store.RefreshToken{Hash: h, ExpiresAt: e.clk.Now().Add(day)}); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Minute)
			return h, next()
		}, store.ErrNotFound},
		{"next reuses old hash", func(t *testing.T) (string, store.RefreshToken) {
			_, h := mustSession(t, e, u.ID, 30*day)
			n := next()
			n.Hash = h
			return h, n
		}, nil},
		{"next already expired", func(t *testing.T) (string, store.RefreshToken) {
			_, h := mustSession(t, e, u.ID, 30*day)
			n := next()
			n.ExpiresAt = e.clk.Now()
			return h, n
		}, nil},
		{"next hash malformed", func(t *testing.T) (string, store.RefreshToken) {
			_, h := mustSession(t, e, u.ID, 30*day)
			n := next()
			n.Hash = "short"
			return h, n
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldHash, n := tc.setup(t)
			_, err := e.st.RotateRefresh(ctx(t), oldHash, n, e.clk.Now())
			switch {
			case err == nil:
				t.Fatal("rotation succeeded")
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("got %v, want %v", err, tc.want)
			case tc.want == nil && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenSpent)):
				t.Fatalf("validation failure reported as %v", err)
			}
			// A failed rotation stores nothing under the next hash.
			if validNext := len(n.Hash) == 64 && n.Hash != oldHash; validNext {
				if _, err := e.st.RotateRefresh(ctx(t), n.Hash, next(), e.clk.Now()); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("next token usable after failed rotation: %v", err)
				}
			}
		})
	}
}

func TestRotateRefreshConcurrent(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "race-rotate@example.com")
	s, h := mustSession(t, e, u.ID, 30*day)
	const n = 10
	nexts := make([]store.RefreshToken, n)
	olds := make([]store.RefreshToken, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		nexts[i] = store.RefreshToken{Hash: newHash(t), ExpiresAt: base.Add(day)}
		wg.Go(func() {
			<-start
			olds[i], errs[i] = e.st.RotateRefresh(ctx(t), h, nexts[i], e.clk.Now())
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("rotations %d and %d both succeeded", winner, i)
			}
			winner = i
		case errors.Is(err, store.ErrTokenSpent):
			if olds[i].SessionID != s.ID || olds[i].UserID != u.ID {
				t.Fatalf("loser %d got %+v", i, olds[i])
			}
		default:
			t.Fatalf("rotation %d: %v, want ErrTokenSpent", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation succeeded")
	}
	got, err := e.st.GetSession(ctx(t), u.ID, s.ID)
	if err != nil || got.RefreshHash != nexts[winner].Hash {
		t.Fatalf("session points at %q, want the winner's %q (%v)", got.RefreshHash, nexts[winner].Hash, err)
	}
	for i := range n {
		_, err := e.st.RotateRefresh(ctx(t), nexts[i].Hash, store.RefreshToken{Hash: newHash(t), ExpiresAt: base.Add(day)}, e.clk.Now())
		if i == winner && err != nil {
			t.Fatalf("winner's next token: %v", err)
		}
		if i != winner && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("loser %d's next token: %v, want ErrNotFound", i, err)
		}
	}
}
