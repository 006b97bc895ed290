// Command test-auth is the devstack tests' REQUEST authorizer:
// "Bearer allow-<user>" allows with a context, "Bearer deny" denies,
// "Bearer broken" fails, anything else is Unauthorized.
package main

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	token := strings.TrimPrefix(req.Headers["Authorization"], "Bearer ")
	if req.Headers["authorization"] != "" {
		token = strings.TrimPrefix(req.Headers["authorization"], "Bearer ")
	}
	policy := func(effect, principal string) events.APIGatewayCustomAuthorizerResponse {
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: principal,
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Version: "2012-10-17",
				Statement: []events.IAMPolicyStatement{{
					Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{req.MethodArn},
				}},
			},
			Context: map[string]any{"sub": principal, "role": "intern"},
		}
	}
	switch {
	case strings.HasPrefix(token, "allow-"):
		return policy("Allow", strings.TrimPrefix(token, "allow-")), nil
	case token == "deny":
		return policy("Deny", "denied"), nil
	case token == "broken":
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("authorizer broke")
	}
	return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
}

func main() { lambda.Start(handle) }
