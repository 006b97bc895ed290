// Command hello is the benchmark floor: the smallest API Gateway proxy
// Lambda, built exactly like the real functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"hello":"world"}`}, nil
}

func main() { lambda.Start(handle) }
