// Command applications-create is the POST /v1/programs/{programId}/applications
// Lambda: an intern applies to an open program.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "applications-create"

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
	idem, err := idempotency.New(d.Dynamo, idempotency.Config{Table: d.Config.TableName, Clock: d.Now})
	if err != nil {
		return fmt.Errorf("build idempotency store: %w", err)
	}
	applier, err := enrollment.NewApplier(d.Store, d.Audit, idem, d.Now, d.Log)
	if err != nil {
		return fmt.Errorf("build applier: %w", err)
	}
	h, err := NewHandler(applier)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
