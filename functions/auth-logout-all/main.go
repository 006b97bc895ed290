// Command auth-logout-all is the POST /v1/auth/logout-all Lambda: revokes every session of the caller (shared/identity).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/identity"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "auth-logout-all"

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
	svc, err := identity.New(identity.Deps{Store: d.Store, Auditor: d.Audit, Clock: d.Now}, identity.FlowLogout)
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
