// Command echo is a devstack test function: it answers with the proxy event
// it received and the environment the devstack gave it, so the end-to-end
// tests can check both. POST /strict decodes its body with the shared strict
// decoder and answers with the project's error envelope.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/obs"
)

type echo struct {
	Event events.APIGatewayProxyRequest `json:"event"`
	Env   map[string]string             `json:"env"`
}

// strictBody is what POST /strict accepts, strictly.
type strictBody struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

var strict = apigw.Wrap("echo-strict", obs.New(os.Stderr, "echo", nil), func(_ context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	var b strictBody
	if err := apigw.Decode(req, &b); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, b)
})

func handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if req.Resource == "/strict" {
		return strict(ctx, req)
	}
	env := map[string]string{}
	for _, k := range []string{"TABLE_NAME", "GREETING", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_CA_BUNDLE", "DEVSTACK_TEST_LEAK"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	b, err := json.Marshal(echo{Event: req, Env: env})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode:        http.StatusOK,
		Headers:           map[string]string{"Content-Type": "application/json"},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Body:              string(b),
	}, nil
}

func main() { lambda.Start(handle) }
