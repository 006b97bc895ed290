// Command auth-mfa-totp is the POST /v1/auth/mfa/totp Lambda: start TOTP
// enrolment after re-verifying the current password.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "auth-mfa-totp"

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
	env, err := d.Envelope()
	if err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	hasher, err := password.NewHasher(password.DefaultParams)
	if err != nil {
		return fmt.Errorf("hasher: %w", err)
	}
	// The identity policies, so wrong passwords here share the password
	// change's counter (identity.ScopePasswordChange).
	limiter, err := d.Limiter(ctx, identity.RateLimitPolicies())
	if err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	enroller, err := account.NewTOTPEnroller(d.Store, env, hasher, limiter, d.Audit)
	if err != nil {
		return fmt.Errorf("build enroller: %w", err)
	}
	h, err := NewHandler(enroller)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
