// Command applications-decide is the POST
// /v1/applications/{applicationId}/decision Lambda: an org admin accepts
// (with a mentor, creating the enrollment) or rejects an application.
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

const functionName = "applications-decide"

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
	dec, err := enrollment.NewDecider(d.Store, d.Audit, d.Now)
	if err != nil {
		return fmt.Errorf("build decider: %w", err)
	}
	h, err := NewHandler(dec)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
