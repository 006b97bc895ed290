// Command sleep is a devstack test function that outlives its 1 s timeout
// unless ?ms= asks for a shorter sleep.
package main

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	d := 10 * time.Second
	if ms, err := strconv.Atoi(req.QueryStringParameters["ms"]); err == nil {
		d = time.Duration(ms) * time.Millisecond
	}
	time.Sleep(d) // deliberately ignores ctx: the runtime must cut it off
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"pid":` + strconv.Itoa(os.Getpid()) + `}`}, nil
}

func main() { lambda.Start(handle) }
