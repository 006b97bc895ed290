// Command auth-mfa-totp is the POST /v1/auth/mfa/totp Lambda: start TOTP enrolment.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/account"
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
	mfa, err := account.NewMFA(d.Store, env, d.Audit, d.Now)
	if err != nil {
		return fmt.Errorf("build mfa: %w", err)
	}
	h, err := NewHandler(mfa)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
