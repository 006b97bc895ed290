package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json/v2"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/store"
)

// wantAllowed checks an Allow answer: exactly the method, principal and
// context of u and s.
func wantAllowed(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, err error, u store.User, s store.Session) {
	t.Helper()
	if err != nil {
		t.Fatalf("Handle = %v, want Allow", err)
	}
	if resp.PrincipalID != u.ID {
		t.Errorf("principalId = %q, want %q", resp.PrincipalID, u.ID)
	}
	p := resp.PolicyDocument
	if p.Version != "2012-10-17" || len(p.Statement) != 1 {
		t.Fatalf("policy = %+v", p)
	}
	st := p.Statement[0]
	if st.Effect != "Allow" || !slices.Equal(st.Action, []string{"execute-api:Invoke"}) || !slices.Equal(st.Resource, []string{testMethod}) {
		t.Errorf("statement = %+v, want Allow execute-api:Invoke on exactly %s", st, testMethod)
	}
	want := map[string]any{"sub": u.ID, "role": u.Role, "sid": s.ID}
	if u.OrgID != "" {
		want["org"] = u.OrgID
	}
	if !maps.Equal(resp.Context, want) {
		t.Errorf("context = %v, want %v", resp.Context, want)
	}
	// What handlers will read back through API Gateway.
	authz := maps.Clone(resp.Context)
	authz["principalId"] = resp.PrincipalID
	got, perr := apigw.ParsePrincipal(authz)
	if perr != nil || got != (apigw.Principal{UserID: u.ID, Role: u.Role, OrgID: u.OrgID, SessionID: s.ID}) {
		t.Errorf("ParsePrincipal = %+v, %v", got, perr)
	}
}

// wantRejected checks a refusal: the exact "Unauthorized" error, an empty
// answer, and one audit entry with the reason and, when the token verified,
// its user as actor.
func wantRejected(t *testing.T, e *env, resp events.APIGatewayCustomAuthorizerResponse, err error, reason, actor string) {
	t.Helper()
	if err == nil || err.Error() != "Unauthorized" || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Handle error = %v, want exactly Unauthorized (reason %s)", err, reason)
	}
	if resp.PrincipalID != "" || len(resp.PolicyDocument.Statement) != 0 || resp.Context != nil {
		t.Errorf("a refusal returned %+v", resp)
	}
	entries := e.audit.Find(ActionTokenRejected)
	if len(entries) != 1 {
		t.Fatalf("audit entries %v, want one %s", e.audit.Actions(), ActionTokenRejected)
	}
	got := entries[0]
	if got.Reason != reason || got.Outcome != audit.OutcomeDenied || got.Actor != actor ||
		got.RequestID != testReqID || got.SourceIP != testSourceIP || got.Target != "GET /v1/me" {
		t.Errorf("audit entry = %+v, want reason %s, actor %s", got, reason, actor)
	}
}

// assertNoTokenLeak fails if any part of raw longer than a few characters
// reached the logs or the audit trail.
func assertNoTokenLeak(t *testing.T, e *env, raw string) {
	t.Helper()
	logs := e.logs.String()
	var trail strings.Builder
	for _, en := range e.audit.Entries() {
		trail.WriteString(en.Reason + en.Target + en.Actor)
		for k, v := range en.Details {
			trail.WriteString(k + v)
		}
	}
	for _, part := range strings.Split(raw, ".") {
		if len(part) < 12 {
			continue
		}
		if strings.Contains(logs, part) {
			t.Errorf("logs contain part of the token")
		}
		if strings.Contains(trail.String(), part) {
			t.Errorf("audit trail contains part of the token")
		}
	}
}

func setRole(t *testing.T, e *env, userID, attr, value string) {
	t.Helper()
	_, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "USER#" + userID},
			"SK": &types.AttributeValueMemberS{Value: "PROFILE"},
		},
		UpdateExpression:          aws.String("SET #a = :v, #ver = #ver + :one"),
		ExpressionAttributeNames:  map[string]string{"#a": attr, "#ver": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: value}, ":one": &types.AttributeValueMemberN{Value: "1"}},
	})
	if err != nil {
		t.Fatalf("update user %s: %v", attr, err)
	}
}

func TestHandle(t *testing.T) {
	e := newEnv(t)
	prev := *e.ring.Previous
	cur := e.ring.Current
	_, attacker, _ := ed25519.GenerateKey(rand.Reader)

	type prepared struct {
		req events.APIGatewayCustomAuthorizerRequestTypeRequest
		raw string // the token, to check it leaks nowhere
	}
	tests := []struct {
		name string
		role string
		// prepare sets up the case for u/s and returns the call to make;
		// it may call the handler first (then the recorder is reset).
		prepare func(t *testing.T, u store.User, s store.Session) prepared
		reason  string // "" means allowed
		// verified: the token verified, so the refusal names the user.
		verified bool
	}{
		{"valid intern", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{bearer(raw), raw}
		}, "", false},
		{"valid mentor: org in context", token.RoleMentor, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{bearer(raw), raw}
		}, "", false},
		{"valid admin", token.RoleAdmin, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{bearer(raw), raw}
		}, "", false},
		{"header name and scheme in other cases", token.RoleOrgAdmin, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{request(map[string]string{"authorization": "bearer " + raw}), raw}
		}, "", false},
		{"only in multiValueHeaders", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			req := bearer(raw)
			req.Headers = nil
			return prepared{req, raw}
		}, "", false},
		{"signed by the previous key", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := craft(t, jwt.SigningMethodEdDSA, prev.Private, prev.ID, claimsFor(u, s, e.clk.Now()))
			return prepared{bearer(raw), raw}
		}, "", false},

		{"tampered payload (role raised to admin)", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			parts := strings.Split(e.issue(t, u, s), ".")
			c := claimsFor(u, s, e.clk.Now())
			c["role"] = token.RoleAdmin
			b, _ := json.Marshal(c)
			raw := parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
			return prepared{bearer(raw), raw}
		}, ReasonSignature, false},
		{"wrong kid (previous kid, current key's signature)", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := craft(t, jwt.SigningMethodEdDSA, cur.Private, prev.ID, claimsFor(u, s, e.clk.Now()))
			return prepared{bearer(raw), raw}
		}, ReasonSignature, false},
		{"unknown kid", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := craft(t, jwt.SigningMethodEdDSA, cur.Private, "NOSUCHKEY234567ABCDEFGHIJ", claimsFor(u, s, e.clk.Now()))
			return prepared{bearer(raw), raw}
		}, ReasonUnknownKey, false},
		{"another key under a known kid", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := craft(t, jwt.SigningMethodEdDSA, attacker, cur.ID, claimsFor(u, s, e.clk.Now()))
			return prepared{bearer(raw), raw}
		}, ReasonSignature, false},
		{"alg none", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := craft(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, cur.ID, claimsFor(u, s, e.clk.Now()))
			return prepared{bearer(raw), raw}
		}, ReasonSignature, false},
		{"HS256 signed with the public key", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := craft(t, jwt.SigningMethodHS256, []byte(cur.Public()), cur.ID, claimsFor(u, s, e.clk.Now()))
			return prepared{bearer(raw), raw}
		}, ReasonSignature, false},
		{"expired", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := issueWith(t, e.ring, e.clk.Now().Add(-16*time.Minute), testIssuer, testAudience, u, s)
			return prepared{bearer(raw), raw}
		}, ReasonExpired, false},
		{"nbf in the future", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			c := claimsFor(u, s, e.clk.Now())
			c["nbf"] = e.clk.Now().Add(5 * time.Minute).Unix()
			raw := craft(t, jwt.SigningMethodEdDSA, cur.Private, cur.ID, c)
			return prepared{bearer(raw), raw}
		}, ReasonNotYetValid, false},
		{"wrong aud", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := issueWith(t, e.ring, e.clk.Now(), testIssuer, "vip-prod-api", u, s)
			return prepared{bearer(raw), raw}
		}, ReasonClaims, false},
		{"wrong iss", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := issueWith(t, e.ring, e.clk.Now(), "vip-prod", testAudience, u, s)
			return prepared{bearer(raw), raw}
		}, ReasonClaims, false},
		{"garbage token", token.RoleIntern, func(*testing.T, store.User, store.Session) prepared {
			return prepared{bearer("not-a-jwt"), "not-a-jwt"}
		}, ReasonMalformed, false},

		{"missing header", token.RoleIntern, func(*testing.T, store.User, store.Session) prepared {
			return prepared{request(map[string]string{"Accept": "application/json"}), ""}
		}, ReasonMissing, false},
		{"no headers at all", token.RoleIntern, func(*testing.T, store.User, store.Session) prepared {
			return prepared{request(nil), ""}
		}, ReasonMissing, false},
		{"Basic scheme", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			return prepared{request(map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("a@b.test:pw"))}), ""}
		}, ReasonMalformed, false},
		{"token without scheme", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{request(map[string]string{"Authorization": raw}), raw}
		}, ReasonMalformed, false},
		{"Bearer without token", token.RoleIntern, func(*testing.T, store.User, store.Session) prepared {
			return prepared{request(map[string]string{"Authorization": "Bearer "}), ""}
		}, ReasonMalformed, false},
		{"two spaces after Bearer", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{request(map[string]string{"Authorization": "Bearer  " + raw}), raw}
		}, ReasonMalformed, false},
		{"trailing data after the token", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{request(map[string]string{"Authorization": "Bearer " + raw + " extra"}), raw}
		}, ReasonMalformed, false},
		{"two Authorization headers differing in case", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			return prepared{request(map[string]string{"Authorization": "Bearer " + raw, "authorization": "Bearer x"}), raw}
		}, ReasonMalformed, false},
		{"Authorization repeated under two spellings in multiValueHeaders", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			req := bearer(raw)
			req.MultiValueHeaders["AUTHORIZATION"] = []string{"Bearer other"}
			return prepared{req, raw}
		}, ReasonMalformed, false},
		{"repeated Authorization header", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			req := bearer(raw)
			req.MultiValueHeaders["Authorization"] = []string{"Bearer " + raw, "Bearer other"}
			return prepared{req, raw}
		}, ReasonMalformed, false},

		{"session revoked by logout: refused on the next call", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			resp, err := e.h.Handle(t.Context(), bearer(raw))
			wantAllowed(t, resp, err, u, s)
			if err := e.st.RevokeSession(t.Context(), u.ID, s.ID, "logout"); err != nil {
				t.Fatal(err)
			}
			return prepared{bearer(raw), raw}
		}, ReasonSessionRevoked, true},
		{"all sessions revoked (logout everywhere)", token.RoleMentor, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			if _, err := e.st.RevokeAllSessions(t.Context(), u.ID, "logout_all", ""); err != nil {
				t.Fatal(err)
			}
			return prepared{bearer(raw), raw}
		}, ReasonSessionRevoked, true},
		{"user suspended", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			resp, err := e.h.Handle(t.Context(), bearer(raw))
			wantAllowed(t, resp, err, u, s)
			if _, err := e.st.SetStatus(t.Context(), u.ID, store.UserSuspended, u.Version); err != nil {
				t.Fatal(err)
			}
			return prepared{bearer(raw), raw}
		}, ReasonUserSuspended, true},
		{"role changed in store", token.RoleAdmin, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			setRole(t, e, u.ID, "role", token.RoleIntern)
			return prepared{bearer(raw), raw}
		}, ReasonRoleChanged, true},
		{"organization changed in store", token.RoleOrgAdmin, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, s)
			setRole(t, e, u.ID, "orgId", ids.New(ids.Org))
			return prepared{bearer(raw), raw}
		}, ReasonOrgChanged, true},
		{"session expired", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			// A session one minute from its end, and a token issued now.
			short := store.Session{ID: ids.New(ids.Session), UserID: u.ID, ExpiresAt: e.clk.Now().Add(time.Minute)}
			if err := e.st.CreateSession(t.Context(), short, store.RefreshToken{Hash: strings.Repeat("ab", 32), ExpiresAt: short.ExpiresAt}); err != nil {
				t.Fatal(err)
			}
			c := claimsFor(u, short, e.clk.Now().Add(2*time.Minute))
			e.clk.Advance(2 * time.Minute)
			raw := craft(t, jwt.SigningMethodEdDSA, cur.Private, cur.ID, c)
			return prepared{bearer(raw), raw}
		}, ReasonSessionUnknown, true},
		{"session of another user", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			_, other := e.login(t, token.RoleIntern)
			raw := e.issue(t, u, other)
			return prepared{bearer(raw), raw}
		}, ReasonSessionUnknown, true},
		{"session that never existed", token.RoleIntern, func(t *testing.T, u store.User, s store.Session) prepared {
			raw := e.issue(t, u, store.Session{ID: ids.New(ids.Session)})
			return prepared{bearer(raw), raw}
		}, ReasonSessionUnknown, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, s := e.login(t, tc.role)
			p := tc.prepare(t, u, s)
			e.audit.Reset()
			resp, err := e.h.Handle(t.Context(), p.req)
			if tc.reason == "" {
				wantAllowed(t, resp, err, u, s)
				if n := len(e.audit.Entries()); n != 0 {
					t.Errorf("an allowed call wrote %d audit entries", n)
				}
			} else {
				actor := audit.ActorAnonymous
				if tc.verified {
					actor = u.ID
				}
				wantRejected(t, e, resp, err, tc.reason, actor)
			}
			if p.raw != "" {
				assertNoTokenLeak(t, e, p.raw)
			}
		})
	}
}

// TestRotation follows the key ring through rotations on one warm
// authorizer (one Handler, one key source, as one Lambda instance).
func TestRotation(t *testing.T) {
	e := newEnv(t)
	u, s := e.login(t, token.RoleMentor)
	beforeRotation := e.issue(t, u, s)
	resp, err := e.h.Handle(t.Context(), bearer(beforeRotation))
	wantAllowed(t, resp, err, u, s) // warm: the ring is cached
	if got := e.reads.n.Load(); got != 1 {
		t.Fatalf("%d key-ring reads at warm-up, want 1", got)
	}

	e.clk.Advance(time.Minute)
	e.rotate(t)
	afterRotation := e.issue(t, u, s)

	steps := []struct {
		name      string
		raw       string
		advance   time.Duration
		reason    string
		wantReads int64
	}{
		// The cached ring does not know the new kid: one refresh.
		{"token of the brand-new key on a warm authorizer", afterRotation, 0, "", 2},
		{"token of the previous key still verifies", beforeRotation, 0, "", 2},
		{"no further reads while cached", afterRotation, time.Second, "", 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.clk.Advance(st.advance)
			e.audit.Reset()
			resp, err := e.h.Handle(t.Context(), bearer(st.raw))
			if st.reason == "" {
				wantAllowed(t, resp, err, u, s)
			} else {
				wantRejected(t, e, resp, err, st.reason, audit.ActorAnonymous)
			}
			if got := e.reads.n.Load(); got != st.wantReads {
				t.Errorf("%d key-ring reads, want %d", got, st.wantReads)
			}
		})
	}

	t.Run("after a second rotation the first key no longer verifies", func(t *testing.T) {
		e.rotate(t)
		// Past the source's TTL (5 min): the ring is re-read; both tokens
		// are still within their 15-minute lifetime.
		e.clk.Advance(6 * time.Minute)
		e.audit.Reset()
		resp, err := e.h.Handle(t.Context(), bearer(beforeRotation))
		wantRejected(t, e, resp, err, ReasonUnknownKey, audit.ActorAnonymous)
		resp, err = e.h.Handle(t.Context(), bearer(afterRotation))
		wantAllowed(t, resp, err, u, s)
	})
}

// fakeSessions answers GetUserAndSession with err.
type fakeSessions struct{ err error }

func (f fakeSessions) GetUserAndSession(context.Context, string, string) (store.User, store.Session, error) {
	return store.User{}, store.Session{}, f.err
}

// TestFaults: what is not the caller's fault answers 500, not 401, and is
// logged once without auditing a rejection.
func TestFaults(t *testing.T) {
	e := newEnv(t)
	u, s := e.login(t, token.RoleIntern)
	raw := e.issue(t, u, s)

	// A real DynamoDB client whose endpoint refuses connections.
	deadDB := dynamodb.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient: awshttp.NewBuildableClient(), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") })
	deadStore, err := store.New(deadDB, e.table)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		handler func(t *testing.T) *Handler
		req     events.APIGatewayCustomAuthorizerRequestTypeRequest
		logged  string
	}{
		{"key ring secret missing", func(t *testing.T) *Handler {
			return e.handler(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:vip/dev/nope-AbCdEf")
		}, bearer(raw), "load key ring"},
		{"DynamoDB unreachable", func(t *testing.T) *Handler {
			h := e.handler(t, e.secret)
			h.sessions = deadStore
			return h
		}, bearer(raw), "load user and session"},
		{"store error", func(t *testing.T) *Handler {
			h := e.handler(t, e.secret)
			h.sessions = fakeSessions{err: errors.New("ProvisionedThroughputExceededException")}
			return h
		}, bearer(raw), "ProvisionedThroughputExceededException"},
		{"event without methodArn", func(t *testing.T) *Handler { return e.handler(t, e.secret) }, func() events.APIGatewayCustomAuthorizerRequestTypeRequest {
			r := bearer(raw)
			r.MethodArn = ""
			return r
		}(), "methodArn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.handler(t)
			before := strings.Count(e.logs.String(), `"level":"ERROR"`)
			e.audit.Reset()
			resp, err := h.Handle(t.Context(), tc.req)
			if !errors.Is(err, ErrInternal) || err.Error() == "Unauthorized" {
				t.Fatalf("Handle = %v, want ErrInternal", err)
			}
			if resp.PrincipalID != "" || len(resp.PolicyDocument.Statement) != 0 {
				t.Errorf("a fault returned a policy: %+v", resp)
			}
			if n := len(e.audit.Entries()); n != 0 {
				t.Errorf("a fault was audited as %v", e.audit.Actions())
			}
			logs := e.logs.String()
			if got := strings.Count(logs, `"level":"ERROR"`) - before; got != 1 {
				t.Errorf("%d error log lines, want 1", got)
			}
			if !strings.Contains(logs, tc.logged) {
				t.Errorf("logs lack the cause %q", tc.logged)
			}
			assertNoTokenLeak(t, e, raw)
		})
	}
}

// TestAuditFailureStillRefuses: if the audit write fails the call is still
// refused with 401 and the failure is logged.
func TestAuditFailureStillRefuses(t *testing.T) {
	e := newEnv(t)
	e.audit.FailWith(errors.New("audit table unavailable"))
	_, err := e.h.Handle(t.Context(), request(map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}))
	if err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("Handle = %v, want Unauthorized", err)
	}
	if !strings.Contains(e.logs.String(), "audit of a token rejection failed") {
		t.Error("audit failure not logged")
	}
}

func TestNewHandler(t *testing.T) {
	v, err := token.NewVerifier(token.StaticKeyRing{}, token.VerifierConfig{Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	log := obs.New(&syncBuffer{}, functionName, slog.LevelInfo)
	full := Config{Verifier: v, Sessions: fakeSessions{}, Audit: &audittest.Recorder{}, Log: log}
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"complete", func(*Config) {}, true},
		{"no verifier", func(c *Config) { c.Verifier = nil }, false},
		{"no sessions", func(c *Config) { c.Sessions = nil }, false},
		{"no auditor", func(c *Config) { c.Audit = nil }, false},
		{"no logger", func(c *Config) { c.Log = nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := full
			tc.change(&cfg)
			if _, err := NewHandler(cfg); (err == nil) != tc.ok {
				t.Fatalf("NewHandler error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestSampleEvents runs every events/authorizer/*.json through the handler.
// Their tokens cannot verify (no key is committed), so each must end in a
// clean Unauthorized — never a crash or a 500.
func TestSampleEvents(t *testing.T) {
	e := newEnv(t)
	paths, err := filepath.Glob("../../events/authorizer/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayCustomAuthorizerRequestTypeRequest
			if err := json.Unmarshal(b, &req, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("decode %s: %v", p, err)
			}
			if req.Type != "REQUEST" || !strings.HasPrefix(req.MethodArn, "arn:aws:execute-api:") {
				t.Fatalf("%s is not a REQUEST authorizer event", p)
			}
			e.audit.Reset()
			_, err = e.h.Handle(t.Context(), req)
			if err == nil || err.Error() != "Unauthorized" {
				t.Fatalf("Handle = %v, want Unauthorized", err)
			}
			if n := len(e.audit.Find(ActionTokenRejected)); n != 1 {
				t.Fatalf("%d rejections audited, want 1", n)
			}
		})
	}
}

// TestRejectionReasonsAreCoarse keeps the audit vocabulary small and free of
// anything that could carry token content.
func TestRejectionReasonsAreCoarse(t *testing.T) {
	for _, r := range []string{ReasonMissing, ReasonMalformed, ReasonSignature, ReasonUnknownKey, ReasonExpired,
		ReasonNotYetValid, ReasonClaims, ReasonSessionUnknown, ReasonSessionRevoked, ReasonSessionExpired,
		ReasonUserSuspended, ReasonRoleChanged, ReasonOrgChanged} {
		if strings.Trim(r, "abcdefghijklmnopqrstuvwxyz_") != "" || len(r) > 32 {
			t.Errorf("reason %q is not a short snake_case word", r)
		}
	}
}
