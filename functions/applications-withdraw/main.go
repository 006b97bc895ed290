// Command applications-withdraw is the POST
// /v1/applications/{applicationId}/withdraw Lambda: an intern takes back a
// pending application.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "applications-withdraw"

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
	w, err := enrollment.NewWithdrawer(d.Store, d.Audit, d.Now)
	if err != nil {
		return fmt.Errorf("build withdrawer: %w", err)
	}
	h, err := NewHandler(w)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
