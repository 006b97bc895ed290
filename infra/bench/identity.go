package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/devstack/stack"
	"github.com/vip-platform/backend/shared/auth/password"
)

// identityBench measures what issue 3 asks for, all in this run: login
// latency split into the argon2id verification (timed in-process with the
// production parameters) and everything else, and the REST authorizer's
// warm latency with a valid token (invoked directly, then through the
// gateway as part of GET /v1/me).
func identityBench(ctx context.Context, out io.Writer, s *stack.Stack, n int) error {
	const pw = "quiet orbit lantern 4242 meadow"
	email := fmt.Sprintf("load.%d@example.org", time.Now().UnixNano())
	if _, err := postJSON(s.APIURL+"/v1/auth/register", map[string]string{"email": email, "password": pw, "displayName": "Bench"}, ""); err != nil {
		return err
	}
	var logins []time.Duration
	var access string
	for i := range n {
		start := time.Now()
		body, err := postJSON(s.APIURL+"/v1/auth/login", map[string]string{"email": email, "password": pw}, "")
		if err != nil {
			return err
		}
		if i > 0 { // the first one is a cold start
			logins = append(logins, time.Since(start))
		}
		var tk struct{ AccessToken string }
		if err := json.Unmarshal(body, &tk); err != nil || tk.AccessToken == "" {
			return fmt.Errorf("login answered %s", body)
		}
		access = tk.AccessToken
	}

	before := s.Emulators.DynamoDBCalls()
	if _, err := postJSON(s.APIURL+"/v1/auth/login", map[string]string{"email": email, "password": pw}, ""); err != nil {
		return err
	}
	after := s.Emulators.DynamoDBCalls()
	var calls []string
	for op, n := range after {
		if d := n - before[op]; d > 0 {
			calls = append(calls, fmt.Sprintf("%s×%d", op, d))
		}
	}
	sort.Strings(calls)
	fmt.Fprintf(out, "\nDynamoDB calls of one successful login: %s\n", strings.Join(calls, ", "))

	hasher := &password.Hasher{Params: password.DefaultParams}
	encoded, err := hasher.Hash(pw)
	if err != nil {
		return err
	}
	var verifies []time.Duration
	for range n {
		start := time.Now()
		if ok, err := hasher.Verify(pw, encoded); err != nil || !ok {
			return fmt.Errorf("verify: %v", err)
		}
		verifies = append(verifies, time.Since(start))
	}
	loginP50, hashP50 := pct(logins, 50), pct(verifies, 50)
	rest := loginP50 - hashP50
	fmt.Fprintf(out, "Login through the devstack (warm, n=%d): p50 %.1f ms = argon2id verify p50 %.1f ms + everything else %.1f ms (%.0f%% of the hash time; target < 15%%)\n",
		len(logins), ms(loginP50), ms(hashP50), ms(rest), 100*ratio(rest, hashP50))

	event, err := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:       "REQUEST",
		MethodArn:  "arn:aws:execute-api:us-east-1:123456789012:bench/dev/GET/v1/me",
		Resource:   "/v1/me",
		Path:       "/v1/me",
		HTTPMethod: http.MethodGet,
		Headers:    map[string]string{"Authorization": "Bearer " + access},
	})
	if err != nil {
		return err
	}
	var authz, me []time.Duration
	for i := range n + 1 {
		start := time.Now()
		res, err := s.Invoke(ctx, "AuthorizerFunction", event)
		if err != nil {
			return err
		}
		if res.FunctionError != nil {
			return fmt.Errorf("authorizer refused the bench token: %s", res.FunctionError.ErrorMessage)
		}
		if i > 0 {
			authz = append(authz, time.Since(start))
		}
		start = time.Now()
		if _, err := get(s.APIURL+"/v1/me", access); err != nil {
			return err
		}
		if i > 0 {
			me = append(me, time.Since(start))
		}
	}
	fmt.Fprintf(out, "Authorizer warm (valid token, verify + 1 BatchGetItem): p50 %.2f ms, p99 %.2f ms; GET /v1/me through the gateway (authorizer + handler): p50 %.2f ms\n",
		ms(pct(authz, 50)), ms(pct(authz, 99)), ms(pct(me, 50)))
	return nil
}

func postJSON(url string, body any, bearer string) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(req)
}

func get(url, bearer string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(req)
}

func do(req *http.Request) ([]byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return b, fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return b, nil
}
