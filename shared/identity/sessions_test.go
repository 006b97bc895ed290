package identity_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/auth/refresh"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
	"github.com/vip-platform/backend/shared/store"
)

func refreshWith(t *testing.T, svc *identity.Service, rt string) (identity.Tokens, error) {
	t.Helper()
	return svc.Refresh(ctx(t), meta("192.0.2.60"), identity.RefreshRequest{RefreshToken: rt})
}

func TestRefreshRotatesSingleUse(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "rot@example.org"})
	first := env.Login(t, "rot@example.org", identitytest.Password, "192.0.2.60")
	sid := env.Principal(t, first.AccessToken).SessionID

	env.Clock.Advance(10 * time.Minute)
	second, err := refreshWith(t, svc, first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh returned the same tokens")
	}
	p := env.Principal(t, second.AccessToken)
	if p.SessionID != sid || p.UserID != u.ID {
		t.Errorf("new access token for %+v, want the same session", p)
	}
	c, _ := env.Verifier.Verify(ctx(t), second.AccessToken)
	if !c.IssuedAt.Equal(env.Clock.Now().Truncate(time.Second)) || second.ExpiresIn != 900 {
		t.Errorf("new token issued %s, expiresIn %d", c.IssuedAt, second.ExpiresIn)
	}
	// Capped by the session: 30 days from login, 10 minutes ago.
	if want := int64(identity.RefreshTTL / time.Second); second.RefreshExpiresIn != want {
		t.Errorf("refreshExpiresIn %d, want %d", second.RefreshExpiresIn, want)
	}
	sess, _ := env.Store.GetSession(ctx(t), u.ID, sid)
	if sess.RefreshHash != refresh.Hash(second.RefreshToken) || !sess.LastSeenAt.Equal(env.Clock.Now()) {
		t.Errorf("session not rotated: %+v", sess)
	}

	// The spent token is refused (and that revokes the family, below).
	_, err = refreshWith(t, svc, first.RefreshToken)
	wantAPI(t, err, 401, identity.CodeInvalidCredentials)
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "family@example.org"})
	stolen := env.Login(t, "family@example.org", identitytest.Password, "192.0.2.61")
	other := env.Login(t, "family@example.org", identitytest.Password, "192.0.2.62")
	sid := env.Principal(t, stolen.AccessToken).SessionID

	// The thief refreshes first; the owner's copy is now spent.
	thief, err := refreshWith(t, svc, stolen.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = refreshWith(t, svc, stolen.RefreshToken)
	ae := wantAPI(t, err, 401, identity.CodeInvalidCredentials)
	if ae.Message != "The refresh token is invalid." {
		t.Errorf("message %q", ae.Message)
	}
	e := last(t, env, "auth.refresh.reuse")
	if e.Actor != u.ID || e.Target != sid || e.Outcome != "denied" {
		t.Errorf("reuse audit = %+v", e)
	}
	assertNoSecret(t, "reuse audit", e.Reason+e.Target, stolen.RefreshToken, thief.RefreshToken)
	sess, err := env.Store.GetSession(ctx(t), u.ID, sid)
	if err != nil || sess.Live(env.Clock.Now()) || sess.RevokedReason != identity.RevokedRefreshReuse {
		t.Fatalf("session after reuse: %+v, %v", sess, err)
	}
	// The family's other, still unspent token dies with it.
	_, err = refreshWith(t, svc, thief.RefreshToken)
	wantAPI(t, err, 401, identity.CodeInvalidCredentials)
	// Another session of the same user is untouched.
	if _, err := refreshWith(t, svc, other.RefreshToken); err != nil {
		t.Errorf("unrelated session: %v", err)
	}
}

func TestRefreshRefusals(t *testing.T) {
	env := identitytest.New(t)
	calls := &countingStore{Store: env.Store}
	deps := env.Deps()
	deps.Store = calls
	svc, err := identity.New(deps, identity.FlowRefresh)
	if err != nil {
		t.Fatal(err)
	}
	u := env.CreateUser(t, identitytest.UserSpec{Email: "refusals@example.org"})
	unknown, _ := refresh.New()

	tests := []struct {
		name        string
		token       string
		wantLookups int64
		reason      string
	}{
		{"malformed", "rt_not-base64url!", 0, "malformed token"},
		{"wrong prefix", "xx_" + string(unknown)[3:], 0, "malformed token"},
		{"unknown", string(unknown), 1, "unknown or expired token, or session not live"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.rotations.Load()
			_, err := refreshWith(t, svc, tc.token)
			wantAPI(t, err, 401, identity.CodeInvalidCredentials)
			if got := calls.rotations.Load() - before; got != tc.wantLookups {
				t.Errorf("%d store lookups, want %d (format is checked first)", got, tc.wantLookups)
			}
			if e := last(t, env, "auth.refresh.failed"); e.Reason != tc.reason {
				t.Errorf("reason %q, want %q", e.Reason, tc.reason)
			}
		})
	}
	t.Run("blank and overlong are field errors", func(t *testing.T) {
		for _, tok := range []string{"", strings.Repeat("a", 129)} {
			_, err := refreshWith(t, svc, tok)
			if got := fieldErrors(t, err); got["refreshToken"] == "" {
				t.Errorf("%.10q: fields %v", tok, got)
			}
		}
	})
	t.Run("expired token", func(t *testing.T) {
		tok := env.Login(t, u.Email, identitytest.Password, "192.0.2.63")
		env.Clock.Advance(identity.RefreshTTL + time.Second)
		_, err := refreshWith(t, svc, tok.RefreshToken)
		wantAPI(t, err, 401, identity.CodeInvalidCredentials)
	})
	t.Run("suspended user", func(t *testing.T) {
		tok := env.Login(t, u.Email, identitytest.Password, "192.0.2.64")
		p := env.Principal(t, tok.AccessToken)
		cur, _ := env.Store.GetUser(ctx(t), u.ID)
		// Suspend without revoking, as if the suspension's revocation had
		// not run yet: refresh itself must refuse and revoke.
		if _, err := env.Store.SetStatus(ctx(t), u.ID, store.UserSuspended, cur.Version); err != nil {
			t.Fatal(err)
		}
		_, err := refreshWith(t, svc, tok.RefreshToken)
		wantAPI(t, err, 401, identity.CodeInvalidCredentials)
		if env.SessionLive(t, u.ID, p.SessionID) {
			t.Error("session of a suspended user still live")
		}
		cur, _ = env.Store.GetUser(ctx(t), u.ID)
		if _, err := env.Store.SetStatus(ctx(t), u.ID, store.UserActive, cur.Version); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("role change takes effect", func(t *testing.T) {
		promoted := env.CreateUser(t, identitytest.UserSpec{Email: "promoted@example.org"})
		tok := env.Login(t, promoted.Email, identitytest.Password, "192.0.2.65")
		// Promote by rewriting the user item, as an org invitation would.
		org := "org_" + strings.Repeat("a", 26)
		if err := rewriteRole(env, promoted.ID, apigw.RoleMentor, org); err != nil {
			t.Fatal(err)
		}
		next, err := refreshWith(t, svc, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if p := env.Principal(t, next.AccessToken); p.Role != apigw.RoleMentor || p.OrgID != org {
			t.Errorf("refreshed principal %+v, want the stored role and org", p)
		}
	})
}

// rewriteRole changes a user's role and org behind the store's back, as
// the invitation flow (not part of this package) will.
func rewriteRole(env *identitytest.Env, userID, role, org string) error {
	_, err := env.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(env.Table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "USER#" + userID},
			"SK": &types.AttributeValueMemberS{Value: "PROFILE"},
		},
		UpdateExpression:         aws.String("SET #role = :role, orgId = :org"),
		ExpressionAttributeNames: map[string]string{"#role": "role"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":role": &types.AttributeValueMemberS{Value: role},
			":org":  &types.AttributeValueMemberS{Value: org},
		},
	})
	return err
}

// countingStore counts refresh-token lookups.
type countingStore struct {
	*store.Store
	rotations atomic.Int64
}

func (c *countingStore) RotateRefresh(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) (store.RefreshToken, error) {
	c.rotations.Add(1)
	return c.Store.RotateRefresh(ctx, oldHash, next, now)
}

func TestLogoutRevokesSession(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogout, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "bye@example.org"})
	here := env.Login(t, u.Email, identitytest.Password, "192.0.2.70")
	there := env.Login(t, u.Email, identitytest.Password, "192.0.2.71")
	p := env.Principal(t, here.AccessToken)

	if err := svc.Logout(ctx(t), meta("192.0.2.70"), p); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if env.SessionLive(t, u.ID, p.SessionID) {
		t.Error("session live after logout")
	}
	if _, err := refreshWith(t, svc, here.RefreshToken); err == nil {
		t.Error("refresh token works after logout")
	}
	if _, err := refreshWith(t, svc, there.RefreshToken); err != nil {
		t.Errorf("the other session was logged out too: %v", err)
	}
	if e := last(t, env, "auth.logout"); e.Actor != u.ID || e.Target != p.SessionID {
		t.Errorf("audit = %+v", e)
	}
	// Idempotent.
	if err := svc.Logout(ctx(t), meta("192.0.2.70"), p); err != nil {
		t.Errorf("second logout: %v", err)
	}
}

func TestLogoutAllRevokesEverySession(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogout, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "all@example.org"})
	bystander := env.CreateUser(t, identitytest.UserSpec{Email: "bystander@example.org"})
	var toks []identity.Tokens
	for _, ip := range []string{"192.0.2.80", "192.0.2.81", "192.0.2.82"} {
		toks = append(toks, env.Login(t, u.Email, identitytest.Password, ip))
	}
	other := env.Login(t, bystander.Email, identitytest.Password, "192.0.2.83")
	p := env.Principal(t, toks[0].AccessToken)

	if err := svc.LogoutAll(ctx(t), meta("192.0.2.80"), p); err != nil {
		t.Fatalf("LogoutAll: %v", err)
	}
	for i, tok := range toks {
		if env.SessionLive(t, u.ID, env.Principal(t, tok.AccessToken).SessionID) {
			t.Errorf("session %d live", i)
		}
		if _, err := refreshWith(t, svc, tok.RefreshToken); err == nil {
			t.Errorf("refresh token %d still works", i)
		}
	}
	if _, err := refreshWith(t, svc, other.RefreshToken); err != nil {
		t.Errorf("another user's session was revoked: %v", err)
	}
	if e := last(t, env, "auth.logout_all"); e.Details["revoked"] != "3" || e.Actor != u.ID {
		t.Errorf("audit = %+v", e)
	}
}

func TestChangePassword(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowPassword, identity.FlowRefresh, identity.FlowLogin)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "jane.doe@example.com", DisplayName: "Jane Doe"})
	current := env.Login(t, u.Email, identitytest.Password, "192.0.2.90")
	otherDevice := env.Login(t, u.Email, identitytest.Password, "192.0.2.91")
	p := env.Principal(t, current.AccessToken)
	const newPassword = "mauve-tractor-quietly-hums-9"

	tests := []struct {
		name       string
		in         identity.ChangePasswordRequest
		wantStatus int
		wantCode   string
		wantField  string
		wantReason string
	}{
		{"wrong current password", identity.ChangePasswordRequest{CurrentPassword: "not-my-password", NewPassword: newPassword}, 403, identity.CodeInvalidCredentials, "", ""},
		{"empty current password", identity.ChangePasswordRequest{CurrentPassword: "", NewPassword: newPassword}, 400, "", "currentPassword", "must not be empty"},
		{"new too short", identity.ChangePasswordRequest{CurrentPassword: identitytest.Password, NewPassword: "short-pw"}, 400, "", "newPassword", "must be at least 12 characters"},
		{"new too common", identity.ChangePasswordRequest{CurrentPassword: identitytest.Password, NewPassword: "password1234"}, 400, "", "newPassword", "is too common"},
		{"new contains email", identity.ChangePasswordRequest{CurrentPassword: identitytest.Password, NewPassword: "xx-jane.doe-xx-91!"}, 400, "", "newPassword", "must not contain your email or name"},
		{"new equals current", identity.ChangePasswordRequest{CurrentPassword: identitytest.Password, NewPassword: identitytest.Password}, 400, "", "newPassword", "must differ from your current password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.ChangePassword(ctx(t), meta("192.0.2.90"), p, tc.in)
			if tc.wantField != "" {
				if got := fieldErrors(t, err); got[tc.wantField] != tc.wantReason || len(got) != 1 {
					t.Fatalf("fields %v, want %s: %s", got, tc.wantField, tc.wantReason)
				}
				return
			}
			wantAPI(t, err, tc.wantStatus, tc.wantCode)
		})
	}
	if e := last(t, env, "auth.password.failed"); e.Actor != u.ID || e.Outcome != "failure" {
		t.Errorf("failure audit %+v", e)
	}
	if !env.SessionLive(t, u.ID, env.Principal(t, otherDevice.AccessToken).SessionID) {
		t.Fatal("a refused change revoked sessions")
	}

	if err := svc.ChangePassword(ctx(t), meta("192.0.2.90"), p, identity.ChangePasswordRequest{CurrentPassword: identitytest.Password, NewPassword: newPassword}); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if !env.SessionLive(t, u.ID, p.SessionID) {
		t.Error("the calling session was revoked")
	}
	if env.SessionLive(t, u.ID, env.Principal(t, otherDevice.AccessToken).SessionID) {
		t.Error("another session survived the password change")
	}
	if _, err := refreshWith(t, svc, otherDevice.RefreshToken); err == nil {
		t.Error("another session's refresh token survived")
	}
	if _, err := svc.Login(ctx(t), meta("192.0.2.92"), identity.LoginRequest{Email: u.Email, Password: identitytest.Password}); err == nil {
		t.Error("old password still logs in")
	}
	env.Login(t, u.Email, newPassword, "192.0.2.93")
	stored, _ := env.Store.GetUser(ctx(t), u.ID)
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Errorf("new password stored as %.12q", stored.PasswordHash)
	}
	if e := last(t, env, "auth.password.changed"); e.Details["revokedSessions"] != "1" || e.Actor != u.ID {
		t.Errorf("audit = %+v", e)
	}
	for _, e := range env.Audit.Entries() {
		assertNoSecret(t, "audit", e.Reason+e.Target+e.Actor, newPassword, identitytest.Password)
	}
}

func TestChangePasswordRateLimited(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowPassword)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "guessed@example.org"})
	p := env.Principal(t, env.Login(t, u.Email, identitytest.Password, "192.0.2.95").AccessToken)
	limit := identity.RateLimitPolicies()[identity.ScopePasswordChange].Limit
	for i := range limit {
		err := svc.ChangePassword(ctx(t), meta("192.0.2.95"), p, identity.ChangePasswordRequest{CurrentPassword: "guess-" + strings.Repeat("x", i), NewPassword: "mauve-tractor-quietly-hums-9"})
		wantAPI(t, err, 403, identity.CodeInvalidCredentials)
	}
	verifies := env.Hasher.Counts().Verify
	err := svc.ChangePassword(ctx(t), meta("192.0.2.95"), p, identity.ChangePasswordRequest{CurrentPassword: identitytest.Password, NewPassword: "mauve-tractor-quietly-hums-9"})
	wantAPI(t, err, 429, apigw.CodeRateLimited)
	if env.Hasher.Counts().Verify != verifies {
		t.Error("a throttled change still verified the password")
	}
	if e := last(t, env, "auth.throttled"); e.Details["scope"] != identity.ScopePasswordChange || e.Target != u.ID {
		t.Errorf("throttle audit %+v", e)
	}
}
