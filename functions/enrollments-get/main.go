// Command enrollments-get is the GET /v1/enrollments/{enrollmentId} Lambda:
// an enrollment with per-task progress, for its intern, its mentor and its
// organization's admins.
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

const functionName = "enrollments-get"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start; StartHTTP serves
// invocations and does not return. No cursor sealer: this route does not
// page (and its template entry has no cursor key).
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	reader, err := enrollment.NewEnrollmentReader(d.Store, d.Audit, nil)
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
