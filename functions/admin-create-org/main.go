// Command admin-create-org is the CLI-invoked Lambda that creates an
// organization and the invite of its first org admin, on behalf of a named
// platform admin:
//
//	aws lambda invoke --function-name <AdminCreateOrgFunction> \
//	  --cli-binary-format raw-in-base64-out \
//	  --payload '{"actorId":"usr_…","reason":"…","name":"Acme","adminEmail":"admin@acme.example"}' out.json
//
// out.json holds the invite code, shown this once: send it to the admin.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
	"github.com/vip-platform/backend/shared/programs"
)

const functionName = "admin-create-org"

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
	svc, err := programs.New(programs.Config{Store: d.Store, Audit: d.Audit, Now: d.Now})
	if err != nil {
		return fmt.Errorf("build programs service: %w", err)
	}
	h, err := NewHandler(svc, d.Log)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	lambda.Start(h.Handle)
	return nil
}
