// Command health is the GET /v1/health Lambda: liveness plus a check that
// the main DynamoDB table is reachable.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/awsclient"
	"github.com/vip-platform/backend/shared/config"
	"github.com/vip-platform/backend/shared/obs"
)

const functionName = "health"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start; lambda.Start serves
// invocations and does not return.
func realMain(ctx context.Context) error {
	l := config.NewLoader()
	base := config.LoadBase(l)
	timeout := l.Duration("HEALTH_CHECK_TIMEOUT", DefaultCheckTimeout)
	if err := l.Err(); err != nil {
		return err
	}
	logger := obs.New(os.Stdout, functionName, base.LogLevel)

	awsCfg, err := awsclient.Load(ctx)
	if err != nil {
		return err
	}
	h, err := NewHandler(awsclient.DynamoDB(awsCfg), base.TableName, obs.Version, timeout)
	if err != nil {
		return fmt.Errorf("build handler: %w", err)
	}
	lambda.Start(apigw.Wrap(functionName, logger, h.Handle, apigw.WithAllowedOrigins(base.AllowedOrigins)))
	return nil
}
