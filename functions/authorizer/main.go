// Command authorizer is the REST API's Lambda REQUEST authorizer
// (AuthorizerFunction): it verifies the caller's access token and that the
// token's session and user are still live, and hands handlers the principal
// in the authorizer context (sub, role, org, sid).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/platform"
)

const functionName = "authorizer"

func main() {
	if err := realMain(context.Background()); err != nil {
		obs.New(os.Stdout, functionName, slog.LevelInfo).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// realMain wires the function once per cold start: the verifier (whose key
// ring source caches the Secrets Manager secret and refreshes it on an
// unknown kid) and the store are reused by every invocation.
func realMain(ctx context.Context) error {
	d, err := platform.Load(ctx, functionName)
	if err != nil {
		return err
	}
	v, err := d.Verifier()
	if err != nil {
		return fmt.Errorf("token verifier: %w", err)
	}
	h, err := NewHandler(Config{Verifier: v, Sessions: d.Store, Audit: d.Audit, Log: d.Log, Now: d.Now})
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
