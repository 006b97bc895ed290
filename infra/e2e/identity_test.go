package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/vip-platform/backend/shared/audit"
)

type tokens struct {
	AccessToken      string `json:"accessToken"`
	TokenType        string `json:"tokenType"`
	ExpiresIn        int    `json:"expiresIn"`
	RefreshToken     string `json:"refreshToken"`
	RefreshExpiresIn int    `json:"refreshExpiresIn"`
}

type challenge struct {
	MFARequired bool   `json:"mfaRequired"`
	Challenge   string `json:"challenge"`
	ExpiresIn   int    `json:"expiresIn"`
}

type me struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	Version     int    `json:"version"`
}

const strongPassword = "correct horse battery staple 42"

// register creates an intern and returns its email.
func register(t *testing.T, c *client, prefix, password string) string {
	t.Helper()
	addr := email(prefix)
	reg := newClient(t, registrationIP())
	reg.expect(http.StatusAccepted, reg.do("POST", "/v1/auth/register", map[string]string{
		"email": addr, "password": password, "displayName": "Test " + prefix,
	}))
	return addr
}

func login(t *testing.T, c *client, addr, password string) tokens {
	t.Helper()
	var tk tokens
	c.expect(http.StatusOK, c.do("POST", "/v1/auth/login", map[string]string{"email": addr, "password": password})).json(t, &tk)
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" {
		t.Fatalf("login gave %+v", tk)
	}
	return tk
}

func withToken(c *client, tk tokens) *client {
	cp := *c
	cp.token = tk.AccessToken
	return &cp
}

func TestRegisterLoginRefreshLogout(t *testing.T) {
	c := newClient(t, "127.0.0.1")
	addr := register(t, c, "flow", strongPassword)

	t.Run("registering a taken email looks the same", func(t *testing.T) {
		reg := newClient(t, registrationIP())
		first := reg.do("POST", "/v1/auth/register", map[string]string{"email": email("fresh"), "password": strongPassword, "displayName": "A"})
		again := reg.do("POST", "/v1/auth/register", map[string]string{"email": addr, "password": strongPassword, "displayName": "A"})
		if first.status != again.status || string(first.body) != string(again.body) {
			t.Errorf("new email: %d %s; taken email: %d %s", first.status, first.body, again.status, again.body)
		}
	})

	t.Run("unknown email and wrong password are indistinguishable", func(t *testing.T) {
		wrong := c.do("POST", "/v1/auth/login", map[string]string{"email": addr, "password": "not the password at all"})
		unknown := c.do("POST", "/v1/auth/login", map[string]string{"email": email("nobody"), "password": "not the password at all"})
		if wrong.status != http.StatusUnauthorized || unknown.status != wrong.status {
			t.Fatalf("wrong password %d, unknown email %d, want both 401", wrong.status, unknown.status)
		}
		if stripRequestID(wrong.body) != stripRequestID(unknown.body) {
			t.Errorf("bodies differ:\n%s\n%s", wrong.body, unknown.body)
		}
	})

	t.Run("weak passwords are refused with a reason", func(t *testing.T) {
		weakEmail := email("weak")
		c := newClient(t, registrationIP())
		for _, pw := range []string{"short", "password1234", strings.Split(weakEmail, "@")[0] + "-2024!"} {
			r := c.do("POST", "/v1/auth/register", map[string]string{"email": weakEmail, "password": pw, "displayName": "Weak"})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"password"`) {
				t.Errorf("password %q: %d %s", pw, r.status, r.body)
			}
		}
	})

	tk := login(t, c, addr, strongPassword)
	if tk.ExpiresIn < 600 || tk.ExpiresIn > 900 {
		t.Errorf("access token lives %d s, want 10-15 min", tk.ExpiresIn)
	}
	authed := withToken(c, tk)

	var profile me
	authed.expect(http.StatusOK, authed.do("GET", "/v1/me", nil)).json(t, &profile)
	if profile.Email != addr || profile.Role != "intern" {
		t.Fatalf("me = %+v", profile)
	}

	t.Run("mass assignment is rejected", func(t *testing.T) {
		for _, body := range []map[string]any{{"role": "admin"}, {"displayName": "x", "status": "active"}, {"email": "a@b.c"}} {
			r := authed.do("PATCH", "/v1/me", body)
			if r.status != http.StatusBadRequest {
				t.Errorf("PATCH /v1/me %v = %d %s, want 400", body, r.status, r.body)
			}
		}
		authed.expect(http.StatusOK, authed.do("PATCH", "/v1/me", map[string]any{"displayName": "Renamed"}))
	})

	t.Run("refresh rotates and reuse revokes the family", func(t *testing.T) {
		var next tokens
		c.expect(http.StatusOK, c.do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": tk.RefreshToken})).json(t, &next)
		if next.RefreshToken == tk.RefreshToken {
			t.Fatal("refresh returned the same refresh token")
		}
		c.expect(http.StatusOK, withToken(c, next).do("GET", "/v1/me", nil))
		// Replaying the spent token revokes the session: the newer refresh
		// token and the session's access tokens stop working too.
		c.expect(http.StatusUnauthorized, c.do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": tk.RefreshToken}))
		c.expect(http.StatusUnauthorized, c.do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": next.RefreshToken}))
		c.expect(http.StatusUnauthorized, withToken(c, next).do("GET", "/v1/me", nil))
		if n := countAudit(t, "auth.refresh.reuse"); n == 0 {
			t.Error("refresh reuse was not audited")
		}
	})

	t.Run("logout takes effect on the next call", func(t *testing.T) {
		s := withToken(c, login(t, c, addr, strongPassword))
		s.expect(http.StatusOK, s.do("GET", "/v1/me", nil))
		s.expect(http.StatusNoContent, s.do("POST", "/v1/auth/logout", nil))
		s.expect(http.StatusUnauthorized, s.do("GET", "/v1/me", nil))
	})

	t.Run("password change revokes every other session", func(t *testing.T) {
		s1 := withToken(c, login(t, c, addr, strongPassword))
		s2 := withToken(c, login(t, c, addr, strongPassword))
		const newPassword = "another long passphrase 77 zebra"
		s1.expect(http.StatusNoContent, s1.do("POST", "/v1/auth/password", map[string]string{
			"currentPassword": strongPassword, "newPassword": newPassword,
		}))
		s2.expect(http.StatusUnauthorized, s2.do("GET", "/v1/me", nil))
		s1.expect(http.StatusOK, s1.do("GET", "/v1/me", nil))
		c.expect(http.StatusUnauthorized, c.do("POST", "/v1/auth/login", map[string]string{"email": addr, "password": strongPassword}))
		login(t, c, addr, newPassword)
	})
}

func TestSessionsListAndRevoke(t *testing.T) {
	c := newClient(t, "127.0.0.1")
	addr := register(t, c, "sessions", strongPassword)
	s1 := withToken(c, login(t, c, addr, strongPassword))
	s2 := withToken(c, login(t, c, addr, strongPassword))
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	s1.expect(http.StatusOK, s1.do("GET", "/v1/me/sessions", nil)).json(t, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions %+v, want 2", list.Sessions)
	}
	var other string
	for _, s := range list.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	// Another user cannot see, hence cannot revoke, this user's session.
	intruder := withToken(c, login(t, c, register(t, c, "intruder", strongPassword), strongPassword))
	intruder.expect(http.StatusNotFound, intruder.do("DELETE", "/v1/me/sessions/"+other, nil))
	s2.expect(http.StatusOK, s2.do("GET", "/v1/me", nil))

	s1.expect(http.StatusNoContent, s1.do("DELETE", "/v1/me/sessions/"+other, nil))
	s2.expect(http.StatusUnauthorized, s2.do("GET", "/v1/me", nil))
	s1.expect(http.StatusNoContent, s1.do("POST", "/v1/auth/logout-all", nil))
	s1.expect(http.StatusUnauthorized, s1.do("GET", "/v1/me", nil))
}

func stripRequestID(b []byte) string {
	var v map[string]map[string]any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	delete(v["error"], "requestId")
	out, _ := json.Marshal(v)
	return string(out)
}

// countAudit counts audit entries with an action, reading the audit table
// the way the chain verifier does.
func countAudit(t *testing.T, action string) int {
	t.Helper()
	db := devstack.Emulators.Clients().DynamoDB
	table := resourceName(t, "AuditTable")
	n := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			if a, ok := item["action"].(*types.AttributeValueMemberS); ok && a.Value == action {
				n++
			}
		}
	}
	return n
}

func TestAuditChainVerifies(t *testing.T) {
	// Produce a few entries, then verify every shard's hash chain.
	c := newClient(t, "127.0.0.1")
	c.do("POST", "/v1/auth/login", map[string]string{"email": email("audit"), "password": "wrong wrong wrong"})
	v, err := audit.NewVerifier(devstack.Emulators.Clients().DynamoDB, audit.Config{Table: resourceName(t, "AuditTable")})
	if err != nil {
		t.Fatal(err)
	}
	report, err := v.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Verified() == 0 {
		t.Fatalf("audit chain: %+v", report)
	}
}

func TestAdminBootstrapMFAAndSuspension(t *testing.T) {
	c := newClient(t, "127.0.0.1")
	boot, err := platformAdmin()
	if err != nil {
		t.Fatal(err)
	}
	adminEmail, adminPassword := boot.Email, boot.Password
	if again, fe := invoke(t, "AdminBootstrapFunction", map[string]string{
		"email": email("admin2"), "password": adminPassword, "displayName": "Second",
	}); fe == "" {
		t.Fatalf("second bootstrap succeeded: %s", again)
	}

	// The admin's password alone gives a challenge, never tokens.
	var ch challenge
	c.expect(http.StatusOK, c.do("POST", "/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword})).json(t, &ch)
	if !ch.MFARequired || ch.Challenge == "" {
		t.Fatalf("admin login without MFA step: %+v", ch)
	}
	code := freshCode(t, boot.TOTPSecret)
	var adminTokens tokens
	c.expect(http.StatusOK, c.do("POST", "/v1/auth/login/mfa", map[string]string{"challenge": ch.Challenge, "code": code})).json(t, &adminTokens)
	// The challenge is single use.
	c.expect(http.StatusUnauthorized, c.do("POST", "/v1/auth/login/mfa", map[string]string{"challenge": ch.Challenge, "code": code}))
	admin := withToken(c, adminTokens)
	var adminMe me
	admin.expect(http.StatusOK, admin.do("GET", "/v1/me", nil)).json(t, &adminMe)
	if adminMe.Role != "admin" {
		t.Fatalf("admin me = %+v", adminMe)
	}

	internEmail := register(t, c, "suspended", strongPassword)
	intern := withToken(c, login(t, c, internEmail, strongPassword))
	var internMe me
	intern.expect(http.StatusOK, intern.do("GET", "/v1/me", nil)).json(t, &internMe)

	// A non-admin actor is refused.
	if out, fe := invoke(t, "AdminSuspendUserFunction", map[string]string{
		"actorId": internMe.ID, "userId": internMe.ID, "reason": "self test",
	}); fe == "" {
		t.Fatalf("non-admin suspended a user: %s", out)
	}
	if out, fe := invoke(t, "AdminSuspendUserFunction", map[string]string{
		"actorId": adminMe.ID, "userId": internMe.ID, "reason": "abuse report 42",
	}); fe != "" {
		t.Fatalf("suspend failed: %s", out)
	}
	intern.expect(http.StatusUnauthorized, intern.do("GET", "/v1/me", nil))
	c.expect(http.StatusUnauthorized, c.do("POST", "/v1/auth/login", map[string]string{"email": internEmail, "password": strongPassword}))
	if out, fe := invoke(t, "AdminReinstateUserFunction", map[string]string{
		"actorId": adminMe.ID, "userId": internMe.ID, "reason": "appeal accepted",
	}); fe != "" {
		t.Fatalf("reinstate failed: %s", out)
	}
	login(t, c, internEmail, strongPassword)
	for _, action := range []string{"admin.bootstrap", "admin.user.suspended", "admin.user.reinstated"} {
		if countAudit(t, action) == 0 {
			t.Errorf("%s not audited", action)
		}
	}
}

func TestKeyRotationMidSession(t *testing.T) {
	c := newClient(t, "127.0.0.1")
	addr := register(t, c, "rotation", strongPassword)
	before := withToken(c, login(t, c, addr, strongPassword))
	before.expect(http.StatusOK, before.do("GET", "/v1/me", nil))

	secretARN := resourceName(t, "SigningKeysSecret")
	fnARN, err := devstack.Env.GetAtt("SigningKeysRotateFunction", "Arn")
	if err != nil {
		t.Fatal(err)
	}
	sm := devstack.Emulators.Clients().SecretsManager
	if _, err := sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId: aws.String(secretARN), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(true),
	}); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	// A token signed before the rotation keeps working (previous key) ...
	before.expect(http.StatusOK, before.do("GET", "/v1/me", nil))
	// ... and one signed with the new key works on the warm authorizer.
	after := withToken(c, login(t, c, addr, strongPassword))
	after.expect(http.StatusOK, after.do("GET", "/v1/me", nil))
	if countAudit(t, "secrets.rotate") == 0 {
		t.Error("rotation not audited")
	}
}

func TestRateLimits(t *testing.T) {
	victim := register(t, newClient(t, "127.0.0.1"), "victim", strongPassword)

	t.Run("burst of wrong passwords from one IP is stopped", func(t *testing.T) {
		attacker := newClient(t, "127.0.0.2")
		var unauthorized, throttled int
		for range 200 {
			r := attacker.do("POST", "/v1/auth/login", map[string]string{"email": victim, "password": "guess guess guess"})
			switch r.status {
			case http.StatusUnauthorized:
				unauthorized++
			case http.StatusTooManyRequests:
				throttled++
				if r.header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			default:
				t.Fatalf("unexpected %d %s", r.status, r.body)
			}
		}
		if throttled < 150 || unauthorized > 50 {
			t.Errorf("200 guesses: %d checked, %d throttled — the burst was not stopped", unauthorized, throttled)
		}
	})

	t.Run("the legitimate user from another IP still logs in", func(t *testing.T) {
		login(t, newClient(t, "127.0.0.3"), victim, strongPassword)
	})

	t.Run("a password spray across 200 accounts from one IP is stopped", func(t *testing.T) {
		sprayer := newClient(t, "127.0.0.4")
		throttled := 0
		for range 200 {
			r := sprayer.do("POST", "/v1/auth/login", map[string]string{"email": email("spray"), "password": "Summer2026!Summer"})
			if r.status == http.StatusTooManyRequests {
				throttled++
			}
		}
		if throttled < 100 {
			t.Errorf("spray: only %d of 200 throttled", throttled)
		}
	})

	if countAudit(t, "auth.throttled") == 0 || countAudit(t, "auth.login.failed") == 0 {
		t.Error("failures and throttles must be audited")
	}
}

// TestLogsCarryNoSecrets runs a full login/refresh/logout and then searches
// everything every function logged during the whole run.
func TestLogsCarryNoSecrets(t *testing.T) {
	c := newClient(t, "127.0.0.1")
	const password = "a very secret passphrase 31415"
	addr := register(t, c, "logs", password)
	tk := login(t, c, addr, password)
	var next tokens
	c.expect(http.StatusOK, c.do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": tk.RefreshToken})).json(t, &next)
	withToken(c, next).expect(http.StatusNoContent, withToken(c, next).do("POST", "/v1/auth/logout", nil))

	logs := functionLogs.String()
	if !strings.Contains(logs, "AuthLoginFunction") {
		t.Fatal("no function logs captured; the search below would be vacuous")
	}
	for name, secret := range map[string]string{
		"password": password, "strong password": strongPassword,
		"access token": tk.AccessToken, "refresh token": tk.RefreshToken,
		"rotated refresh token": next.RefreshToken, "access token signature": tk.AccessToken[strings.LastIndex(tk.AccessToken, ".")+1:],
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("function logs contain the %s", name)
		}
	}
}
