// Package contract checks real HTTP responses against api-docs/openapi.yaml,
// the authoritative REST contract: status codes a route may answer, response
// headers and body schemas (additionalProperties: false, so an undocumented
// member — a leaked internal field — fails). End-to-end tests wrap their
// HTTP client with Transport so every response they see is checked.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Contract is a loaded, validated OpenAPI document.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
}

// Load reads and validates the OpenAPI document at path.
func Load(path string) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	// Match requests by path alone: tests run on random local ports.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &Contract{doc: doc, router: router}, nil
}

// ErrUndocumentedRoute is returned for a request no documented operation matches.
var ErrUndocumentedRoute = errors.New("contract: route not documented")

// CheckResponse validates one response (status, headers, body) to req.
func (c *Contract) CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrUndocumentedRoute, req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("contract: %s %s -> %d: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

// Transport is an http.RoundTripper that checks every response against the
// contract and records violations (it never alters the response).
type Transport struct {
	Base     http.RoundTripper
	Contract *Contract

	mu         sync.Mutex
	violations []error
	checked    int
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	// Gateway-generated answers (unknown route 403, authorizer 401/403,
	// throttling 429) are API Gateway's, documented by AWS, not by us.
	if resp.Header.Get("X-Amzn-Errortype") != "" {
		return resp, nil
	}
	verr := t.Contract.CheckResponse(req, resp.StatusCode, resp.Header, body)
	t.mu.Lock()
	t.checked++
	if verr != nil {
		t.violations = append(t.violations, verr)
	}
	t.mu.Unlock()
	return resp, nil
}

// Report returns how many responses were checked and the violations found.
func (t *Transport) Report() (checked int, violations []error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checked, append([]error(nil), t.violations...)
}

// Summary renders violations for a test failure message.
func Summary(violations []error) string {
	var b strings.Builder
	for _, v := range violations {
		b.WriteString("\n  - " + v.Error())
	}
	return b.String()
}
