package restapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/infra/template"
)

// authorizer is one Lambda authorizer of the API.
type authorizer struct {
	name     string
	function string
	typ      string // "REQUEST" or "TOKEN"
	headers  []string
	queries  []string
	ttl      time.Duration // 0: results are not cached
	// validation is a TOKEN authorizer's ValidationExpression: a token
	// that does not match is rejected with 401 without invoking.
	validation *regexp.Regexp
}

type authorizers struct {
	byName      map[string]*authorizer
	defaultName string
	// corsPreflight is SAM's AddDefaultAuthorizerToCorsPreflight (default
	// true): the default authorizer also guards the generated OPTIONS
	// methods.
	corsPreflight bool
}

func parseAuthorizers(t *template.Template, api apiConfig) (*authorizers, error) {
	ta := template.API{LogicalID: api.LogicalID, Properties: api.Properties}
	list, err := ta.Authorizers()
	if err != nil {
		return nil, fmt.Errorf("restapi: %w", err)
	}
	authProps, _ := api.Properties["Auth"].(map[string]any)
	rawAuths, _ := authProps["Authorizers"].(map[string]any)
	out := &authorizers{byName: map[string]*authorizer{}, defaultName: ta.DefaultAuthorizer(), corsPreflight: true}
	if v, ok := authProps["AddDefaultAuthorizerToCorsPreflight"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return nil, fmt.Errorf("restapi: api %s Auth.AddDefaultAuthorizerToCorsPreflight must be a boolean", api.LogicalID)
		}
		out.corsPreflight = b
	}
	for _, a := range list {
		where := fmt.Sprintf("restapi: api %s authorizer %s", api.LogicalID, a.Name)
		if _, err := t.Function(a.Function); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if a.Type != "REQUEST" && a.Type != "TOKEN" {
			return nil, fmt.Errorf("%s: FunctionPayloadType %q is not REQUEST or TOKEN", where, a.Type)
		}
		az := &authorizer{name: a.Name, function: a.Function, typ: a.Type, headers: a.IdentityHeaders, ttl: a.TTL}
		raw, _ := rawAuths[a.Name].(map[string]any)
		identity, _ := raw["Identity"].(map[string]any)
		if a.Type == "REQUEST" {
			qs, _ := identity["QueryStrings"].([]any)
			for _, q := range qs {
				s, ok := q.(string)
				if !ok {
					return nil, fmt.Errorf("%s: Identity.QueryStrings must be strings", where)
				}
				az.queries = append(az.queries, s)
			}
			for _, k := range []string{"StageVariables", "Context"} {
				if _, has := identity[k]; has {
					return nil, fmt.Errorf("%s: Identity.%s is not supported by the devstack", where, k)
				}
			}
		}
		if expr, ok := identity["ValidationExpression"].(string); ok && a.Type == "TOKEN" {
			// API Gateway matches the whole token against the expression.
			re, err := regexp.Compile("^(?:" + expr + ")$")
			if err != nil {
				return nil, fmt.Errorf("%s: ValidationExpression: %w", where, err)
			}
			az.validation = re
		}
		if az.ttl < 0 || az.ttl > time.Hour {
			return nil, fmt.Errorf("%s: ReauthorizeEvery must be 0..3600 seconds", where)
		}
		if len(az.headers)+len(az.queries) == 0 {
			// Without an identity source there is no cache key; caching
			// would hand one caller's policy to every other caller.
			az.ttl = 0
		}
		out.byName[a.Name] = az
	}
	if out.defaultName != "" {
		if _, ok := out.byName[out.defaultName]; !ok {
			return nil, fmt.Errorf("restapi: api %s DefaultAuthorizer %q is not in Auth.Authorizers", api.LogicalID, out.defaultName)
		}
	}
	return out, nil
}

// forRoute resolves a route's Auth.Authorizer to the authorizer guarding it
// (nil for a public route).
func (a *authorizers) forRoute(name string) (*authorizer, error) {
	switch name {
	case "":
		if a.defaultName == "" {
			return nil, nil
		}
		return a.byName[a.defaultName], nil
	case "NONE":
		return nil, nil
	case "AWS_IAM":
		return nil, errors.New("authorizer AWS_IAM is not supported by the devstack")
	}
	az, ok := a.byName[name]
	if !ok {
		return nil, fmt.Errorf("authorizer %q is not in the API's Auth.Authorizers", name)
	}
	return az, nil
}

// authResult is an authorizer's decoded answer, cached as a whole so that
// a cached policy is evaluated again against each request's methodArn.
type authResult struct {
	principalID string
	policy      []statement
	context     map[string]any
}

type cacheEntry struct {
	result  *authResult
	expires time.Time
}

// maxCacheEntries bounds the authorizer cache; past it expired entries are
// swept, and if that is not enough the cache starts over.
const maxCacheEntries = 4096

type authCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cacheEntry
}

func newAuthCache() *authCache { return &authCache{entries: map[[32]byte]cacheEntry{}} }

func (c *authCache) get(key [32]byte, now time.Time) *authResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return nil
	}
	return e.result
}

func (c *authCache) put(key [32]byte, r *authResult, expires time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = cacheEntry{result: r, expires: expires}
}

// cacheKey hashes the authorizer name and identity values (length-prefixed,
// so no two value lists collide); the cache holds no raw tokens.
func cacheKey(name string, values []string) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, v := range append([]string{name}, values...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// authOutcome is the result of running a route's authorizer.
type authOutcome struct {
	// authz is requestContext.authorizer for the handler's event.
	authz map[string]any
	// fail is set when the request must be answered by the gateway.
	fail    *gatewayError
	cached  bool
	invoked bool
	cold    bool
	// reason explains a failure for the log; it never holds identity values.
	reason string
}

// authorize runs az for the request as API Gateway does: identity sources
// first (401 without invoking when one is missing), then the cache, then
// the function, then the policy against this request's methodArn.
func (g *Gateway) authorize(ctx context.Context, az *authorizer, in *inbound, rt *route, params map[string]string) authOutcome {
	var values []string
	for _, h := range az.headers {
		v := headerValue(in, h)
		if v == "" {
			return authOutcome{fail: &errUnauthorized, reason: "identity source header missing"}
		}
		values = append(values, v)
	}
	for _, q := range az.queries {
		v := in.query[q]
		if v == "" {
			return authOutcome{fail: &errUnauthorized, reason: "identity source query string missing"}
		}
		values = append(values, v)
	}
	if az.validation != nil && !az.validation.MatchString(values[0]) {
		return authOutcome{fail: &errUnauthorized, reason: "token fails ValidationExpression"}
	}
	arn := g.methodArn(in.method, in.path)
	out := authOutcome{}
	var res *authResult
	var key [32]byte
	if az.ttl > 0 {
		key = cacheKey(az.name, values)
		res = g.cache.get(key, g.now())
		out.cached = res != nil
	}
	var latency int64
	if res == nil {
		var payload []byte
		var err error
		if az.typ == "TOKEN" {
			payload, err = json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: values[0], MethodArn: arn})
		} else {
			payload, err = json.Marshal(g.authorizerRequestEvent(in, rt, params, arn))
		}
		if err != nil {
			return authOutcome{fail: &errAuthorizerConfig, reason: "encode authorizer event: " + err.Error()}
		}
		ictx, cancel := context.WithTimeout(ctx, g.timeout)
		began := time.Now()
		r, err := g.invoker.Invoke(ictx, az.function, payload)
		cancel()
		latency = time.Since(began).Milliseconds()
		out.invoked = true
		if err != nil {
			out.fail, out.reason = &errAuthorizerConfig, "authorizer invoke: "+err.Error()
			return out
		}
		out.cold = r.Cold
		if fe := r.FunctionError; fe != nil {
			// API Gateway turns exactly this message into 401; any other
			// error is the authorizer's fault.
			if fe.ErrorMessage == "Unauthorized" {
				out.fail, out.reason = &errUnauthorized, "authorizer answered Unauthorized"
			} else {
				out.fail, out.reason = &errAuthorizerConfig, "authorizer function error "+fe.ErrorType
			}
			return out
		}
		if res, err = decodeAuthResult(r.Payload); err != nil {
			out.fail, out.reason = &errAuthorizerConfig, "authorizer response: "+err.Error()
			return out
		}
		if az.ttl > 0 {
			now := g.now()
			g.cache.put(key, res, now.Add(az.ttl), now)
		}
	}
	switch evaluate(res.policy, arn) {
	case denied:
		out.fail, out.reason = &errAccessDeniedExplicit, "policy denies "+arn
		return out
	case noMatch:
		out.fail, out.reason = &errAccessDenied, "policy does not allow "+arn
		return out
	}
	authz, err := authorizerContext(res, latency)
	if err != nil {
		out.fail, out.reason = &errAuthorizerConfig, "authorizer context: "+err.Error()
		return out
	}
	out.authz = authz
	return out
}

// headerValue looks a header up case-insensitively (in.headers holds
// canonical names).
func headerValue(in *inbound, name string) string {
	return in.headers[http.CanonicalHeaderKey(name)]
}

// decodeAuthResult reads an APIGatewayCustomAuthorizerResponse leniently in
// shape (Statement object or list, Action string or list) but strictly in
// content: principalId and policyDocument are required.
func decodeAuthResult(payload []byte) (*authResult, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("null response")
	}
	pid, ok := m["principalId"].(string)
	if !ok {
		return nil, errors.New("principalId missing or not a string")
	}
	stmts, err := parsePolicy(m["policyDocument"])
	if err != nil {
		return nil, err
	}
	res := &authResult{principalID: pid, policy: stmts}
	if c, has := m["context"]; has && c != nil {
		cm, ok := c.(map[string]any)
		if !ok {
			return nil, errors.New("context is not an object")
		}
		res.context = cm
	}
	return res, nil
}

// authorizerContext builds requestContext.authorizer: API Gateway passes
// the context's values stringified ("1", "true"; null stays null), adds
// principalId and integrationLatency, and fails the request with 500 when a
// value is an object or array.
func authorizerContext(res *authResult, latencyMS int64) (map[string]any, error) {
	out := make(map[string]any, len(res.context)+2)
	for k, v := range res.context {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			if x {
				out[k] = "true"
			} else {
				out[k] = "false"
			}
		case nil:
			out[k] = nil
		default:
			return nil, fmt.Errorf("context key %q holds an object or array", k)
		}
	}
	out["principalId"] = res.principalID
	out["integrationLatency"] = latencyMS
	return out, nil
}
