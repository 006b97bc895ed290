// Command me-enrollments-list is the GET /v1/me/enrollments Lambda: an
// intern's own enrollments, a mentor's assigned ones.
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

const functionName = "me-enrollments-list"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start (the cursor key is read
// here); StartHTTP serves invocations and does not return.
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	sealer, err := d.CursorSealer(ctx)
	if err != nil {
		return fmt.Errorf("build cursor sealer: %w", err)
	}
	reader, err := enrollment.NewEnrollmentReader(d.Store, d.Audit, sealer)
	if err != nil {
		return fmt.Errorf("build reader: %w", err)
	}
	h, err := NewHandler(reader)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
