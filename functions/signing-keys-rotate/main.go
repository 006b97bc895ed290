// Command signing-keys-rotate is the Secrets Manager rotation function of
// the access-token signing key ring (SigningKeysRotateFunction). Secrets
// Manager invokes it four times per rotation (createSecret, setSecret,
// testSecret, finishSecret); the secret comes from each event, so the
// function needs no secret ID of its own.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/awsclient"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "signing-keys-rotate"

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
	h, err := NewHandler(Config{
		SecretsManager: awsclient.SecretsManager(d.AWS),
		Audit:          d.Audit,
		Log:            d.Log,
		Now:            d.Now,
	})
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
