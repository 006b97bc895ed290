// Command crash is a devstack test function: ?mode=exit exits the process
// mid-invocation, ?mode=panic panics, anything else answers 200.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.QueryStringParameters["mode"] {
	case "exit":
		os.Exit(3)
	case "panic":
		panic("test panic")
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"pid":` + itoa(os.Getpid()) + `}`}, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func main() { lambda.Start(handle) }
