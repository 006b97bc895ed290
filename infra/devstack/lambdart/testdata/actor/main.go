// Command actor is a test function whose event says what to do, so one
// binary covers every behaviour the lambdart tests need from a real
// aws-lambda-go function.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action  string `json:"action"`
	MS      int    `json:"ms"`
	Size    int    `json:"size"`
	Message string `json:"message"`
}

// failingReader is an io.Reader response whose Read fails: aws-lambda-go
// then reports the error in the /response trailers. It has no exported
// fields so it encodes as {}, which makes aws-lambda-go stream it.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("reader broke") }

func handle(ctx context.Context, ev event) (any, error) {
	out := map[string]any{"pid": os.Getpid()}
	switch ev.Action {
	case "pid":
	case "sleep":
		// Ignores ctx on purpose: the runtime API must cut it off.
		time.Sleep(time.Duration(ev.MS) * time.Millisecond)
	case "fail":
		return nil, errors.New(ev.Message)
	case "panic":
		panic(ev.Message)
	case "exit":
		fmt.Fprintln(os.Stderr, "exiting mid-invocation")
		os.Exit(3)
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		out["env"] = env
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		out["requestId"] = lc.AwsRequestID
		out["arn"] = lc.InvokedFunctionArn
		out["deadlineMs"] = deadline.UnixMilli()
		out["traceId"] = os.Getenv("_X_AMZN_TRACE_ID")
	case "big":
		out["blob"] = strings.Repeat("x", ev.Size)
	case "readerfail":
		return failingReader{}, nil
	case "log":
		fmt.Println("to stdout")
		fmt.Fprintln(os.Stderr, "to stderr")
		fmt.Print("no newline yet...")
		fmt.Println(" done")
	default:
		return nil, fmt.Errorf("unknown action %q", ev.Action)
	}
	return out, nil
}

func main() {
	lambda.Start(handle)
}
