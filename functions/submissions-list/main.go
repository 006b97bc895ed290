// Command submissions-list is the GET
// /v1/enrollments/{enrollmentId}/submissions Lambda: every submission
// version of an enrollment, with its review, for the parties of the
// enrollment.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
	"github.com/vip-platform/backend/shared/work"
)

const functionName = "submissions-list"

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
	svc, err := work.NewLister(d.Store, d.Audit)
	if err != nil {
		return fmt.Errorf("build lister: %w", err)
	}
	h, err := NewHandler(svc)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
