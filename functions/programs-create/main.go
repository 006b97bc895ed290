// Command programs-create is the POST /v1/orgs/{orgId}/programs Lambda: create a draft program.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
	"github.com/vip-platform/backend/shared/programs"
)

const functionName = "programs-create"

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
	svc, err := programs.New(programs.Config{Store: d.Store, Audit: d.Audit, Now: d.Now, Idempotency: idem})
	if err != nil {
		return fmt.Errorf("build programs service: %w", err)
	}
	h, err := NewHandler(svc)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
