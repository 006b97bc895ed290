// Package restapi is the devstack's API Gateway REST API (v1): it serves the
// routes template.yaml declares, with Lambda proxy integration, Lambda
// REQUEST/TOKEN authorizers (with result caching), CORS preflight, gateway
// responses and method throttling, answering the way API Gateway answers so
// that what passes locally behaves the same once deployed.
//
// Like `sam local start-api`, paths carry no stage prefix
// (http://127.0.0.1:3000/v1/health); the stage shows in requestContext.path
// and in the authorizer's methodArn.
package restapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
	"github.com/vip-platform/backend/infra/template"
)

// Limits API Gateway enforces and the devstack reproduces.
const (
	// MaxBodyBytes is API Gateway's request payload limit (10 MB).
	MaxBodyBytes = 10 << 20
	// DefaultIntegrationTimeout is API Gateway's default (and, for REST APIs
	// without a quota raise, maximum) integration timeout.
	DefaultIntegrationTimeout = 29 * time.Second
)

// Invoker runs a function synchronously; *lambdart.Manager implements it.
// function is the function's logical ID, payload the event JSON.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) (*lambdart.Result, error)
}

// Config configures a Gateway.
type Config struct {
	// Template is the parsed SAM template; routes, authorizers, CORS,
	// gateway responses, binary media types and throttling come from it.
	Template *template.Template
	// Env resolves intrinsics in the API's properties (!Sub in Cors, !Ref in
	// StageName, ...).
	Env template.Env
	// Invoker runs the route and authorizer functions.
	Invoker Invoker
	// Logger gets one line per request; nil discards.
	Logger *slog.Logger
	// API is the logical ID of the AWS::Serverless::Api to serve. Empty
	// selects the template's only one (or SAM's implicit API when routes
	// have no RestApiId).
	API string
	// Stage is the stage name; empty resolves the API's StageName.
	Stage string
	// Region and AccountID appear in the request context and methodArn;
	// they default to SAM local's us-east-1 and 123456789012.
	Region    string
	AccountID string
	// APIID is the REST API ID in events and methodArn; empty derives a
	// stable 10-character ID from the API's logical ID.
	APIID string
	// IntegrationTimeout cuts off an invocation with 504, as API Gateway
	// does after 29 s; zero means DefaultIntegrationTimeout.
	IntegrationTimeout time.Duration
	// DisableThrottling ignores MethodSettings throttling limits, for load
	// tests that want to measure the functions rather than hit 429s.
	DisableThrottling bool
	// Now replaces time.Now in tests (authorizer cache TTL, throttling,
	// requestTime).
	Now func() time.Time
}

// Gateway is an http.Handler serving one REST API. It is safe for
// concurrent use.
type Gateway struct {
	invoker   Invoker
	log       *slog.Logger
	now       func() time.Time
	timeout   time.Duration
	apiName   string
	apiID     string
	stage     string
	region    string
	accountID string

	root          *node
	cors          *corsConfig
	preflightAuth *authorizer
	binaryTypes   []string
	responses     gatewayResponses
	cache         *authCache
}

var _ http.Handler = (*Gateway)(nil)

// New builds a Gateway from the template. It fails on anything API Gateway
// or SAM would reject at deploy time that the gateway depends on: malformed
// or conflicting path templates, duplicate routes, unknown authorizer names
// or authorizer functions, unquoted CORS or gateway-response values.
func New(cfg Config) (*Gateway, error) {
	if cfg.Template == nil {
		return nil, errors.New("restapi: no template")
	}
	if cfg.Invoker == nil {
		return nil, errors.New("restapi: no invoker")
	}
	g := &Gateway{
		invoker:   cfg.Invoker,
		log:       cfg.Logger,
		now:       cfg.Now,
		timeout:   cfg.IntegrationTimeout,
		region:    cfg.Region,
		accountID: cfg.AccountID,
		cache:     newAuthCache(),
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.timeout <= 0 {
		g.timeout = DefaultIntegrationTimeout
	}
	if g.region == "" {
		g.region = "us-east-1"
	}
	if g.accountID == "" {
		g.accountID = "123456789012"
	}
	api, err := selectAPI(cfg.Template, cfg.API)
	if err != nil {
		return nil, err
	}
	g.apiName = api.LogicalID
	g.apiID = cfg.APIID
	if g.apiID == "" {
		g.apiID = derivedID("restapi:"+api.LogicalID, 10)
	}
	g.stage = cfg.Stage
	if g.stage == "" {
		if g.stage, err = stageName(cfg.Template, api, cfg.Env); err != nil {
			return nil, err
		}
	}
	if g.binaryTypes, err = binaryMediaTypes(cfg.Template, api, cfg.Env); err != nil {
		return nil, err
	}
	if g.responses, err = parseGatewayResponses(cfg.Template, api, cfg.Env); err != nil {
		return nil, err
	}
	if g.cors, err = parseCORS(cfg.Template, api, cfg.Env); err != nil {
		return nil, err
	}
	auths, err := parseAuthorizers(cfg.Template, api)
	if err != nil {
		return nil, err
	}
	var throttles *throttleSettings
	if !cfg.DisableThrottling {
		if throttles, err = parseMethodSettings(cfg.Template, api, cfg.Env); err != nil {
			return nil, err
		}
	}
	if g.root, err = buildRoutes(cfg.Template, api, auths, throttles); err != nil {
		return nil, err
	}
	if g.cors != nil {
		g.cors.fillMethods(g.root)
		if auths.defaultName != "" && auths.corsPreflight {
			g.preflightAuth = auths.byName[auths.defaultName]
		}
	}
	return g, nil
}

// apiConfig is the API the gateway serves: an explicit AWS::Serverless::Api
// or SAM's implicit one (empty LogicalID, Globals.Api properties only).
type apiConfig struct {
	LogicalID  string
	Properties map[string]any
	implicit   bool
}

func selectAPI(t *template.Template, want string) (apiConfig, error) {
	apis := t.APIs()
	if want != "" {
		for _, a := range apis {
			if a.LogicalID == want {
				return apiConfig{LogicalID: a.LogicalID, Properties: a.Properties}, nil
			}
		}
		return apiConfig{}, fmt.Errorf("restapi: no AWS::Serverless::Api %q in template", want)
	}
	routes, err := t.Routes()
	if err != nil {
		return apiConfig{}, fmt.Errorf("restapi: routes: %w", err)
	}
	implicit := false
	for _, r := range routes {
		if r.API == "" {
			implicit = true
		}
	}
	switch {
	case len(apis) == 1 && !implicit:
		return apiConfig{LogicalID: apis[0].LogicalID, Properties: apis[0].Properties}, nil
	case len(apis) == 0 && implicit:
		return apiConfig{LogicalID: "ServerlessRestApi", Properties: t.APIGlobals, implicit: true}, nil
	case len(apis) == 0:
		return apiConfig{}, errors.New("restapi: template declares no REST API and no Api events")
	}
	return apiConfig{}, errors.New("restapi: template has several REST APIs (explicit ones, or one plus SAM's implicit API); set Config.API")
}

func stageName(t *template.Template, api apiConfig, env template.Env) (string, error) {
	v, ok := api.Properties["StageName"]
	if !ok || api.implicit {
		// SAM's implicit API deploys to stage "Prod".
		return "Prod", nil
	}
	s, err := t.ResolveString(v, env)
	if err != nil {
		return "", fmt.Errorf("restapi: api %s StageName: %w", api.LogicalID, err)
	}
	if s == "" {
		return "", fmt.Errorf("restapi: api %s StageName is empty", api.LogicalID)
	}
	return s, nil
}
