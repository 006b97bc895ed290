// Command admin-reinstate-user is the CLI-invoked Lambda that reinstates a
// suspended user, on behalf of a named platform admin:
//
//	aws lambda invoke --function-name <AdminReinstateUserFunction> \
//	  --cli-binary-format raw-in-base64-out \
//	  --payload '{"actorId":"usr_…","userId":"usr_…","reason":"…"}' out.json
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "admin-reinstate-user"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start; lambda.Start serves
// invocations and does not return.
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	admin, err := account.NewAdmin(d.Store, d.Audit)
	if err != nil {
		return fmt.Errorf("build admin service: %w", err)
	}
	h, err := NewHandler(admin, d.Log)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	lambda.Start(h.Handle)
	return nil
}
