package identity_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

// outcome classifies one login attempt.
func outcome(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return "ok"
	}
	var te *identity.ThrottledError
	if errors.As(err, &te) {
		ae := apiErr(t, err)
		if ae.Status != 429 || ae.RetryAfter <= 0 {
			t.Fatalf("throttle answered %d, retry after %s", ae.Status, ae.RetryAfter)
		}
		return "throttled"
	}
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return "invalid"
	}
	t.Fatalf("unexpected error: %v", err)
	return ""
}

func TestLoginPolicyShape(t *testing.T) {
	p := identity.RateLimitPolicies()
	acct, acctIP, ip := p[identity.ScopeLoginAccount], p[identity.ScopeLoginAccountIP], p[identity.ScopeLoginIP]
	switch {
	case acctIP.Limit >= acct.Limit:
		t.Errorf("(account, IP) limit %d must be below the account limit %d, or a burst from one IP locks the owner out", acctIP.Limit, acct.Limit)
	case acct.Resettable || ip.Resettable:
		t.Error("account-wide and IP scopes must not be resettable: a valid login would launder an attacker's count")
	case !acctIP.Resettable:
		t.Error("the (account, IP) scope should reset on success")
	}
	for scope, pol := range p {
		if pol.MaxBackoff <= 0 || pol.MaxBackoff > time.Hour {
			t.Errorf("%s: max back-off %s: throttling must stay bounded (no lockout)", scope, pol.MaxBackoff)
		}
	}
}

func TestLoginBurstAgainstOneAccount(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	victim := env.CreateUser(t, identitytest.UserSpec{Email: "victim@example.org"})
	const attacker, owner = "203.0.113.66", "198.51.100.77"

	counts := map[string]int{}
	for i := range 200 {
		_, err := svc.Login(ctx(t), meta(attacker), identity.LoginRequest{Email: "victim@example.org", Password: fmt.Sprintf("guess-number-%03d", i)})
		counts[outcome(t, err)]++
	}
	limit := identity.RateLimitPolicies()[identity.ScopeLoginAccountIP].Limit
	if counts["invalid"] != limit || counts["throttled"] != 200-limit {
		t.Fatalf("outcomes %v, want %d refused and the rest throttled", counts, limit)
	}
	if v := env.Hasher.Counts().Verify; v != int64(limit) {
		t.Errorf("%d passwords verified, want %d: throttled attempts must cost no hashing", v, limit)
	}
	// Every failure and every throttle audited, with where it came from.
	if got := count(env, "auth.login.failed"); got != limit {
		t.Errorf("%d failures audited, want %d", got, limit)
	}
	throttles := env.Audit.Find("auth.throttled")
	if len(throttles) != 200-limit {
		t.Errorf("%d throttles audited, want %d", len(throttles), 200-limit)
	}
	for _, e := range throttles {
		if e.SourceIP != attacker || e.Details["scope"] != identity.ScopeLoginAccountIP || e.Outcome != "denied" {
			t.Fatalf("throttle entry = %+v", e)
		}
	}

	// During the burst, the owner signs in from elsewhere.
	tok := env.Login(t, "victim@example.org", identitytest.Password, owner)
	if p := env.Principal(t, tok.AccessToken); p.UserID != victim.ID {
		t.Errorf("owner logged in as %s", p.UserID)
	}
	// The attacker, even with the right password, is still throttled.
	_, err := svc.Login(ctx(t), meta(attacker), identity.LoginRequest{Email: "victim@example.org", Password: identitytest.Password})
	if outcome(t, err) != "throttled" {
		t.Errorf("attacker IP not throttled after the burst: %v", err)
	}

	// No permanent lockout: once the window and its back-off are over,
	// the attacker's IP may try again.
	pol := identity.RateLimitPolicies()[identity.ScopeLoginAccountIP]
	env.Clock.Advance(pol.Window + pol.MaxBackoff + time.Second)
	_, err = svc.Login(ctx(t), meta(attacker), identity.LoginRequest{Email: "victim@example.org", Password: "yet-another-guess"})
	if outcome(t, err) != "invalid" {
		t.Errorf("after the window: %v, want an ordinary refusal", err)
	}
}

func TestLoginSprayAcrossAccounts(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	// 200 accounts sharing one stored hash (of identitytest.Password), so
	// setup costs one derivation instead of 200.
	shared, err := env.Hasher.Hash(identitytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	emails := make([]string, 200)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%03d@example.org", i)
		env.CreateUser(t, identitytest.UserSpec{Email: emails[i], PasswordHash: shared})
	}
	const sprayer = "203.0.113.99"
	counts := map[string]int{}
	for _, email := range emails {
		_, err := svc.Login(ctx(t), meta(sprayer), identity.LoginRequest{Email: email, Password: "Spring2031-welcome!"})
		counts[outcome(t, err)]++
	}
	limit := identity.RateLimitPolicies()[identity.ScopeLoginIP].Limit
	if counts["invalid"] != limit || counts["throttled"] != len(emails)-limit {
		t.Fatalf("outcomes %v, want %d refused, then the IP throttled", counts, limit)
	}
	for _, e := range env.Audit.Find("auth.throttled") {
		if e.Details["scope"] != identity.ScopeLoginIP {
			t.Fatalf("spray throttled by %s, want the IP scope", e.Details["scope"])
		}
	}
	// Even the right password is refused from that IP now...
	_, err = svc.Login(ctx(t), meta(sprayer), identity.LoginRequest{Email: emails[199], Password: identitytest.Password})
	if outcome(t, err) != "throttled" {
		t.Errorf("sprayer with a correct password: %v, want throttled", err)
	}
	// ...while every sprayed account still works from another IP.
	for _, email := range []string{emails[0], emails[limit-1], emails[199]} {
		env.Login(t, email, identitytest.Password, "198.51.100.5")
	}
}

func TestLoginAccountLimitAcrossIPs(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	env.CreateUser(t, identitytest.UserSpec{Email: "target@example.org"})
	pols := identity.RateLimitPolicies()
	limit := pols[identity.ScopeLoginAccount].Limit

	// A distributed attack: a few guesses from each of many IPs.
	for i := range limit {
		_, err := svc.Login(ctx(t), meta(fmt.Sprintf("203.0.113.%d", i)), identity.LoginRequest{Email: "target@example.org", Password: "distributed-guess"})
		if outcome(t, err) != "invalid" {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, err := svc.Login(ctx(t), meta("203.0.113.250"), identity.LoginRequest{Email: "target@example.org", Password: "distributed-guess"})
	if outcome(t, err) != "throttled" {
		t.Fatalf("after %d guesses from many IPs: %v, want throttled by the account scope", limit, err)
	}
	if e := last(t, env, "auth.throttled"); e.Details["scope"] != identity.ScopeLoginAccount {
		t.Errorf("throttled by %s", e.Details["scope"])
	}
	// Bounded: after the back-off the owner gets in.
	env.Clock.Advance(pols[identity.ScopeLoginAccount].BaseBackoff + time.Second)
	env.Login(t, "target@example.org", identitytest.Password, "198.51.100.9")
}

func TestLoginSuccessResetsOnlyAccountIP(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	env.CreateUser(t, identitytest.UserSpec{Email: "typo@example.org"})
	const ip = "192.0.2.44"
	limit := identity.RateLimitPolicies()[identity.ScopeLoginAccountIP].Limit
	fail := func() {
		t.Helper()
		if _, err := svc.Login(ctx(t), meta(ip), identity.LoginRequest{Email: "typo@example.org", Password: "typo-typo-typo"}); outcome(t, err) != "invalid" {
			t.Fatalf("mistype: %v", err)
		}
	}
	for range limit - 1 {
		fail()
	}
	env.Login(t, "typo@example.org", identitytest.Password, ip)
	// The slate is clean for this (account, IP): limit-1 more mistakes pass.
	for range limit - 1 {
		fail()
	}
	d, err := env.Limiter.Check(ctx(t), identity.ScopeLoginIP, ip)
	if err != nil {
		t.Fatal(err)
	}
	if d.Count != 2*(limit-1) {
		t.Errorf("IP counter = %d, want %d: a success must not reset it", d.Count, 2*(limit-1))
	}
}

// TestConcurrentBurstIsLimited: guesses sent all at once, not one after the
// other, must not all reach the password check (the limits are reserved
// before the argon2id work, not counted after it).
func TestConcurrentBurstIsLimited(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowLogin)
	env.CreateUser(t, identitytest.UserSpec{Email: "victim@example.org"})
	const attacker = "203.0.113.99"
	const n = 40
	outcomes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Login(ctx(t), meta(attacker), identity.LoginRequest{Email: "victim@example.org", Password: fmt.Sprintf("concurrent-guess-%02d", i)})
			outcomes[i] = outcome(t, err)
		}()
	}
	wg.Wait()
	limit := identity.RateLimitPolicies()[identity.ScopeLoginAccountIP].Limit
	if v := env.Hasher.Counts().Verify; v > int64(limit) {
		t.Fatalf("%d of %d concurrent guesses reached the password check, want at most %d", v, n, limit)
	}
	invalid := 0
	for _, o := range outcomes {
		if o == "invalid" {
			invalid++
		}
	}
	if invalid > limit {
		t.Fatalf("%d concurrent guesses answered as checked, want at most %d", invalid, limit)
	}
}
