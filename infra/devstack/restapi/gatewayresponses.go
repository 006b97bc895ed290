package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/vip-platform/backend/infra/template"
)

// gatewayError is an answer API Gateway generates itself, with its gateway
// response type and default status and body.
type gatewayError struct {
	// typ is the gateway response type; "" for errors that only the
	// DEFAULT_4XX/DEFAULT_5XX customizations apply to.
	typ     string
	status  int
	message *string // $context.error.message; nil renders as null
	body    string  // the default body
	// errorType is API Gateway's x-amzn-ErrorType header.
	errorType string
}

func msg(s string) *string { return &s }

// The answers API Gateway gives, body for body.
var (
	errMissingToken = gatewayError{typ: "MISSING_AUTHENTICATION_TOKEN", status: http.StatusForbidden,
		message: msg("Missing Authentication Token"), body: `{"message":"Missing Authentication Token"}`,
		errorType: "MissingAuthenticationTokenException"}
	errUnauthorized = gatewayError{typ: "UNAUTHORIZED", status: http.StatusUnauthorized,
		message: msg("Unauthorized"), body: `{"message":"Unauthorized"}`, errorType: "UnauthorizedException"}
	errAccessDenied = gatewayError{typ: "ACCESS_DENIED", status: http.StatusForbidden,
		message: msg("User is not authorized to access this resource"),
		body:    `{"message":"User is not authorized to access this resource"}`, errorType: "AccessDeniedException"}
	errAccessDeniedExplicit = gatewayError{typ: "ACCESS_DENIED", status: http.StatusForbidden,
		message: msg("User is not authorized to access this resource with an explicit deny"),
		body:    `{"message":"User is not authorized to access this resource with an explicit deny"}`, errorType: "AccessDeniedException"}
	errAuthorizerConfig = gatewayError{typ: "AUTHORIZER_CONFIGURATION_ERROR", status: http.StatusInternalServerError,
		body: `{"message":null}`, errorType: "AuthorizerConfigurationException"}
	errTooLarge = gatewayError{typ: "REQUEST_TOO_LARGE", status: http.StatusRequestEntityTooLarge,
		message: msg("Request Too Long"), body: `{"message":"Request Too Long"}`}
	errThrottled = gatewayError{typ: "THROTTLED", status: http.StatusTooManyRequests,
		message: msg("Too Many Requests"), body: `{"message":"Too Many Requests"}`, errorType: "TooManyRequestsException"}
	errBadGateway = gatewayError{status: http.StatusBadGateway,
		message: msg("Internal server error"), body: `{"message": "Internal server error"}`, errorType: "InternalServerErrorException"}
	errIntegrationTimeout = gatewayError{typ: "INTEGRATION_TIMEOUT", status: http.StatusGatewayTimeout,
		message: msg("Endpoint request timed out"), body: `{"message": "Endpoint request timed out"}`}
)

// gatewayResponseTypes are the types API Gateway accepts in GatewayResponses.
var gatewayResponseTypes = map[string]bool{
	"ACCESS_DENIED": true, "API_CONFIGURATION_ERROR": true, "AUTHORIZER_CONFIGURATION_ERROR": true,
	"AUTHORIZER_FAILURE": true, "BAD_REQUEST_PARAMETERS": true, "BAD_REQUEST_BODY": true,
	"DEFAULT_4XX": true, "DEFAULT_5XX": true, "EXPIRED_TOKEN": true, "INTEGRATION_FAILURE": true,
	"INTEGRATION_TIMEOUT": true, "INVALID_API_KEY": true, "INVALID_SIGNATURE": true,
	"MISSING_AUTHENTICATION_TOKEN": true, "QUOTA_EXCEEDED": true, "REQUEST_TOO_LARGE": true,
	"RESOURCE_NOT_FOUND": true, "THROTTLED": true, "UNAUTHORIZED": true,
	"UNSUPPORTED_MEDIA_TYPE": true, "WAF_FILTERED": true,
}

// headerParam is one ResponseParameters.Headers entry: a quoted literal or
// a method.request.{header,querystring,path}.NAME mapping.
type headerParam struct {
	name    string
	literal string
	source  string // "" for a literal
	key     string
}

type gatewayResponse struct {
	status    int // 0 keeps the type's status
	headers   []headerParam
	templates map[string]string
}

type gatewayResponses map[string]*gatewayResponse

func parseGatewayResponses(t *template.Template, api apiConfig, env template.Env) (gatewayResponses, error) {
	raw, ok := api.Properties["GatewayResponses"]
	if !ok {
		return nil, nil
	}
	resolved, err := t.Resolve(raw, env)
	if err != nil {
		return nil, fmt.Errorf("restapi: api %s GatewayResponses: %w", api.LogicalID, err)
	}
	m, ok := resolved.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("restapi: api %s GatewayResponses is not a mapping", api.LogicalID)
	}
	out := gatewayResponses{}
	for typ, v := range m {
		where := fmt.Sprintf("restapi: api %s GatewayResponses.%s", api.LogicalID, typ)
		if !gatewayResponseTypes[typ] {
			return nil, fmt.Errorf("%s: unknown gateway response type", where)
		}
		spec, _ := v.(map[string]any)
		gr := &gatewayResponse{}
		if sc, ok := spec["StatusCode"]; ok {
			s := strings.Trim(fmt.Sprint(sc), "'")
			n, err := strconv.Atoi(s)
			if err != nil || n < 100 || n > 599 {
				return nil, fmt.Errorf("%s: StatusCode %v is not an HTTP status", where, sc)
			}
			gr.status = n
		}
		params, _ := spec["ResponseParameters"].(map[string]any)
		for k := range params {
			if k != "Headers" {
				return nil, fmt.Errorf("%s: ResponseParameters.%s is not supported by the devstack", where, k)
			}
		}
		hdrs, _ := params["Headers"].(map[string]any)
		names := make([]string, 0, len(hdrs))
		for name := range hdrs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s, ok := hdrs[name].(string)
			if !ok {
				return nil, fmt.Errorf("%s: header %s value is not a string", where, name)
			}
			hp, err := parseHeaderParam(name, s)
			if err != nil {
				return nil, fmt.Errorf("%s: header %s: %w", where, name, err)
			}
			gr.headers = append(gr.headers, hp)
		}
		if tm, ok := spec["ResponseTemplates"].(map[string]any); ok {
			gr.templates = map[string]string{}
			for ct, body := range tm {
				s, ok := body.(string)
				if !ok {
					return nil, fmt.Errorf("%s: ResponseTemplates %s is not a string", where, ct)
				}
				gr.templates[ct] = s
			}
		}
		out[typ] = gr
	}
	return out, nil
}

func parseHeaderParam(name, v string) (headerParam, error) {
	if lit, ok := unquote(v); ok {
		return headerParam{name: name, literal: lit}, nil
	}
	for _, src := range []string{"header", "querystring", "path"} {
		if key, ok := strings.CutPrefix(v, "method.request."+src+"."); ok && key != "" {
			return headerParam{name: name, source: src, key: key}, nil
		}
	}
	return headerParam{}, fmt.Errorf("value %q is neither a 'quoted' literal nor a method.request mapping", v)
}

// unquote strips the single quotes API Gateway requires around static
// parameter values ("'no-store'" → no-store).
func unquote(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// find returns the customization that applies: the specific type's, or
// else DEFAULT_4XX/DEFAULT_5XX (a specific one replaces the default whole,
// as in API Gateway).
func (gr gatewayResponses) find(e *gatewayError) *gatewayResponse {
	if e.typ != "" {
		if c, ok := gr[e.typ]; ok {
			return c
		}
	}
	if e.status >= 500 {
		return gr["DEFAULT_5XX"]
	}
	return gr["DEFAULT_4XX"]
}

// writeGatewayError answers with an API Gateway generated response, with
// the API's GatewayResponses customizations applied.
func (g *Gateway) writeGatewayError(w http.ResponseWriter, in *inbound, params map[string]string, resource string, e *gatewayError) int {
	h := w.Header()
	status, body := e.status, e.body
	if c := g.responses.find(e); c != nil {
		if c.status != 0 {
			status = c.status
		}
		for _, hp := range c.headers {
			v := hp.literal
			switch hp.source {
			case "header":
				v = headerValue(in, hp.key)
			case "querystring":
				v = in.query[hp.key]
			case "path":
				v = params[hp.key]
			}
			if v != "" {
				h.Set(hp.name, v)
			}
		}
		if tpl, ok := c.templates["application/json"]; ok {
			body = g.renderTemplate(tpl, in, resource, e)
		}
	}
	h.Set("Content-Type", "application/json")
	if e.errorType != "" {
		h["x-amzn-ErrorType"] = []string{e.errorType}
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
	return status
}

// renderTemplate substitutes the $context variables gateway response
// templates use; like VTL, an unknown reference is left as written.
func (g *Gateway) renderTemplate(tpl string, in *inbound, resource string, e *gatewayError) string {
	message, quoted := "", "null"
	if e.message != nil {
		message = *e.message
		b, _ := json.Marshal(*e.message)
		quoted = string(b)
	}
	r := strings.NewReplacer(
		"$context.error.messageString", quoted,
		"$context.error.message", message,
		"$context.error.responseType", e.typ,
		"$context.extendedRequestId", in.extendedID,
		"$context.requestId", in.requestID,
		"$context.stage", g.stage,
		"$context.apiId", g.apiID,
		"$context.resourcePath", resource,
		"$context.httpMethod", in.method,
		"$context.path", "/"+g.stage+in.path,
		"$context.identity.sourceIp", in.sourceIP,
	)
	return r.Replace(tpl)
}
