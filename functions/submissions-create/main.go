// Command submissions-create is the POST
// /v1/enrollments/{enrollmentId}/tasks/{taskId}/submissions Lambda: the
// enrolled intern submits work on a task.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
	"github.com/vip-platform/backend/shared/work"
)

const functionName = "submissions-create"

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
	idem, err := idempotency.New(d.Dynamo, idempotency.Config{
		Table: d.Config.TableName, Clock: d.Now,
		// A submission's replayable answer can exceed the 64 KiB default:
		// 20,000 four-byte characters plus links. DynamoDB items hold 400 KB.
		MaxResponseBytes: 256 << 10,
	})
	if err != nil {
		return fmt.Errorf("build idempotency store: %w", err)
	}
	svc, err := work.NewSubmitter(d.Store, idem, d.Audit, d.Log, d.Now)
	if err != nil {
		return fmt.Errorf("build submitter: %w", err)
	}
	h, err := NewHandler(svc)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
