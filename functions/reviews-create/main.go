// Command reviews-create is the POST /v1/submissions/{submissionId}/reviews
// Lambda: the enrollment's mentor reviews a submission version, once.
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

const functionName = "reviews-create"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start; StartHTTP serves
// invocations and does not return. Completed enrollments go to the logging
// completion hook until certificate issuance replaces it.
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	svc, err := work.NewReviewer(d.Store, d.Audit, work.LogCompletionHook{Log: d.Log}, d.Log, d.Now)
	if err != nil {
		return fmt.Errorf("build reviewer: %w", err)
	}
	h, err := NewHandler(svc)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	d.StartHTTP(h.Handle)
	return nil
}
