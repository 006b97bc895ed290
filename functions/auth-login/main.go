// Command auth-login is the POST /v1/auth/login Lambda: the password step of
// a login, answering tokens or an MFA challenge (shared/identity).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "auth-login"

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
	issuer, err := d.Issuer()
	if err != nil {
		return fmt.Errorf("token issuer: %w", err)
	}
	limiter, err := d.Limiter(ctx, identity.RateLimitPolicies())
	if err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	svc, err := identity.New(identity.Deps{
		Store: d.Store, Auditor: d.Audit, Hasher: hasher, Issuer: issuer, Limiter: limiter, Clock: d.Now,
	}, identity.FlowLogin)
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
