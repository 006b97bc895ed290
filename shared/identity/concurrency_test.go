package identity_test

import (
	"sync"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/identitytest"
)

// race runs f from n goroutines at once and returns how many succeeded.
func race(n int, f func() error) int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			if f() == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return wins
}

func TestConcurrentRefreshIsSingleUse(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRefresh)
	u := env.CreateUser(t, identitytest.UserSpec{Email: "racer@example.org"})
	tok := env.Login(t, u.Email, identitytest.Password, "192.0.2.1")
	wins := race(8, func() error {
		_, err := svc.Refresh(ctx(t), meta("192.0.2.1"), identity.RefreshRequest{RefreshToken: tok.RefreshToken})
		return err
	})
	if wins > 1 {
		t.Fatalf("%d concurrent refreshes with one token succeeded", wins)
	}
	if wins == 1 && count(env, "auth.refresh.reuse") == 0 && count(env, "auth.refresh.failed") == 0 {
		t.Error("the losers were neither audited as reuse nor as failures")
	}
}

func TestConcurrentMFACodeIsSingleUse(t *testing.T) {
	env := identitytest.New(t, identitytest.WithKMS())
	svc := env.Service(t, identity.FlowLogin, identity.FlowLoginMFA)
	admin := env.CreateUser(t, identitytest.UserSpec{Email: "race-admin@example.org", Role: apigw.RoleAdmin})
	secret := env.EnableTOTP(t, admin.ID)
	const n = 4
	challenges := make(chan string, n)
	for range n {
		res, err := svc.Login(ctx(t), meta("192.0.2.2"), identity.LoginRequest{Email: admin.Email, Password: identitytest.Password})
		if err != nil || res.Challenge == nil {
			t.Fatalf("password step: %v", err)
		}
		challenges <- res.Challenge.Challenge
	}
	code := env.TOTPCode(t, secret)
	wins := race(n, func() error {
		_, err := svc.LoginMFA(ctx(t), meta("192.0.2.2"), identity.LoginMFARequest{Challenge: <-challenges, Code: code})
		return err
	})
	if wins != 1 {
		t.Fatalf("one TOTP code logged in %d times concurrently, want exactly once", wins)
	}
}

func TestConcurrentRegistrationOfOneEmail(t *testing.T) {
	env := identitytest.New(t)
	svc := env.Service(t, identity.FlowRegister)
	wins := race(4, func() error {
		_, err := svc.Register(ctx(t), meta("192.0.2.3"), identity.RegisterRequest{Email: "twice@example.org", Password: identitytest.Password, DisplayName: "Twice"})
		return err
	})
	if wins != 4 {
		t.Errorf("%d of 4 registrations answered accepted, want all (same answer)", wins)
	}
	if got := count(env, "auth.register"); got != 1 {
		t.Errorf("%d accounts created for one email", got)
	}
	if got := count(env, "auth.register.duplicate"); got != 3 {
		t.Errorf("%d duplicates audited, want 3", got)
	}
}
