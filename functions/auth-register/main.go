// Command auth-register is the POST /v1/auth/register Lambda: intern
// self-registration (shared/identity). It is one of the few functions that
// import the password policy, whose dictionaries cost a little at cold
// start.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/identity/pwpolicy"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "auth-register"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start; StartHTTP serves
// invocations and does not return.
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	hasher, err := password.NewHasher(password.DefaultParams)
	if err != nil {
		return fmt.Errorf("hasher: %w", err)
	}
	limiter, err := d.Limiter(ctx, identity.RateLimitPolicies())
	if err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	svc, err := identity.New(identity.Deps{
		Store: d.Store, Auditor: d.Audit, Hasher: hasher, Policy: pwpolicy.Policy{}, Limiter: limiter, Clock: d.Now,
	}, identity.FlowRegister)
	if err != nil {
		return err
	}
	h, err := NewHandler(svc)
	if err != nil {
		return err
	}
	d.StartHTTP(h.Handle)
	return nil
}
