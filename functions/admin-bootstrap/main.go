// Command admin-bootstrap is the CLI-invoked Lambda that creates the first
// platform admin (with TOTP already enabled) and refuses once one exists:
//
//	aws lambda invoke --function-name <AdminBootstrapFunction> \
//	  --cli-binary-format raw-in-base64-out \
//	  --payload '{"email":"…","password":"…","displayName":"…"}' out.json
//
// out.json holds the TOTP secret, shown this once.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/account"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "admin-bootstrap"

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
	env, err := d.Envelope()
	if err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	hasher, err := password.NewHasher(password.DefaultParams)
	if err != nil {
		return fmt.Errorf("password hasher: %w", err)
	}
	b, err := account.NewBootstrapper(d.Store, hasher, PasswordViolation, env, d.Audit)
	if err != nil {
		return fmt.Errorf("build bootstrapper: %w", err)
	}
	h, err := NewHandler(b, d.Log)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	lambda.Start(h.Handle)
	return nil
}
