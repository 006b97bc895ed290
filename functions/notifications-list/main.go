// Command notifications-list is the GET /v1/notifications Lambda: the
// caller's inbox, newest first.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/notify"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "notifications-list"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start (reading the cursor key
// secret once); StartHTTP serves invocations and does not return.
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	cursors, err := d.CursorSealer(ctx)
	if err != nil {
		return fmt.Errorf("build cursor sealer: %w", err)
	}
	svc, err := notify.NewLister(d.Store, cursors)
	if err != nil {
		return fmt.Errorf("build inbox: %w", err)
	}
	h, err := NewHandler(svc)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
