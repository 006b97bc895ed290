package restapi

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/vip-platform/backend/infra/template"
)

// route is one method of one resource, as API Gateway deploys it.
type route struct {
	resource   string // template path, e.g. /v1/users/{userId}
	resourceID string
	method     string // upper case, "ANY" allowed
	function   string
	event      string
	auth       *authorizer // nil: public (Authorizer NONE or no default)
	throttle   *bucket     // nil: not throttled
}

// node is one resource of the API's resource tree. Intermediate path parts
// exist as resources even without methods, as in API Gateway.
type node struct {
	resource   string
	resourceID string
	literals   map[string]*node
	// variable is the single {param} or {param+} child API Gateway allows
	// per resource; greedy marks the {param+} form.
	variable *node
	varName  string
	greedy   bool
	methods  map[string]*route
	// corsMethods is the Access-Control-Allow-Methods value SAM computes
	// for this path when Cors has no AllowMethods.
	corsMethods string
}

func newNode(resource string) *node {
	return &node{resource: resource, resourceID: derivedID("resource:"+resource, 6), literals: map[string]*node{}}
}

var paramName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// buildRoutes builds the resource tree from the template's Api events of
// the served API.
func buildRoutes(t *template.Template, api apiConfig, auths *authorizers, throttles *throttleSettings) (*node, error) {
	routes, err := t.Routes()
	if err != nil {
		return nil, fmt.Errorf("restapi: routes: %w", err)
	}
	root := newNode("/")
	for _, r := range routes {
		if (api.implicit && r.API != "") || (!api.implicit && r.API != api.LogicalID) {
			continue
		}
		where := fmt.Sprintf("restapi: function %s event %s (%s %s)", r.Function, r.Event, r.Method, r.Path)
		if !validMethod(r.Method) {
			return nil, fmt.Errorf("%s: unsupported method", where)
		}
		if _, err := t.Function(r.Function); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		n, err := root.insert(r.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if n.methods == nil {
			n.methods = map[string]*route{}
		}
		if prev, dup := n.methods[r.Method]; dup {
			return nil, fmt.Errorf("%s: method already declared by %s event %s", where, prev.function, prev.event)
		}
		az, err := auths.forRoute(r.Authorizer)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		rt := &route{
			resource:   n.resource,
			resourceID: n.resourceID,
			method:     r.Method,
			function:   r.Function,
			event:      r.Event,
			auth:       az,
		}
		if throttles != nil {
			rt.throttle = throttles.bucketFor(n.resource, r.Method)
		}
		n.methods[r.Method] = rt
	}
	return root, nil
}

func validMethod(m string) bool {
	switch m {
	case "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}

// insert returns the node for an API Gateway path template, creating the
// resources on the way and rejecting what API Gateway rejects.
func (n *node) insert(path string) (*node, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q must start with /", path)
	}
	if path == "/" {
		return n, nil
	}
	parts := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	cur := n
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("path %q has an empty segment", path)
		}
		resource := "/" + strings.Join(parts[:i+1], "/")
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			name := p[1 : len(p)-1]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if !paramName.MatchString(name) {
				return nil, fmt.Errorf("path %q: bad parameter %q", path, p)
			}
			if greedy && i != len(parts)-1 {
				return nil, fmt.Errorf("path %q: greedy parameter %q must be the last segment", path, p)
			}
			if seen[name] {
				return nil, fmt.Errorf("path %q: parameter %q appears twice", path, name)
			}
			seen[name] = true
			if cur.variable != nil {
				if cur.varName != name || cur.greedy != greedy {
					return nil, fmt.Errorf("path %q: %q conflicts with sibling %q (API Gateway allows one variable path part per resource)", path, p, cur.variable.resource)
				}
			} else {
				cur.variable = newNode(resource)
				cur.varName = name
				cur.greedy = greedy
			}
			cur = cur.variable
			continue
		}
		if strings.ContainsAny(p, "{}") {
			return nil, fmt.Errorf("path %q: segment %q mixes text and a parameter", path, p)
		}
		child, ok := cur.literals[p]
		if !ok {
			child = newNode(resource)
			cur.literals[p] = child
		}
		cur = child
	}
	return cur, nil
}

// match finds the resource for the request path's raw (still escaped)
// segments. Literal parts win over {param}, which wins over {proxy+}; when
// a more specific branch cannot consume the rest of the path, the next one
// is tried. Path parameter values are URL-decoded.
func (n *node) match(segs []string) (*node, map[string]string) {
	if len(segs) == 0 {
		return n, nil
	}
	seg, err := url.PathUnescape(segs[0])
	if err != nil {
		return nil, nil
	}
	if child, ok := n.literals[seg]; ok {
		if found, params := child.match(segs[1:]); found != nil {
			return found, params
		}
	}
	if n.variable == nil {
		return nil, nil
	}
	if n.greedy {
		vals := make([]string, len(segs))
		for i, s := range segs {
			v, err := url.PathUnescape(s)
			if err != nil {
				return nil, nil
			}
			vals[i] = v
		}
		return n.variable, map[string]string{n.varName: strings.Join(vals, "/")}
	}
	found, params := n.variable.match(segs[1:])
	if found == nil {
		return nil, nil
	}
	if params == nil {
		params = map[string]string{}
	}
	params[n.varName] = seg
	return found, params
}

// splitPath splits an escaped request path into segments. API Gateway
// ignores one trailing slash; empty segments never match a resource.
func splitPath(escaped string) ([]string, bool) {
	if !strings.HasPrefix(escaped, "/") {
		return nil, false
	}
	p := strings.TrimSuffix(escaped[1:], "/")
	if p == "" {
		return nil, true
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" {
			return nil, false
		}
	}
	return segs, true
}

// lookup returns the route for an HTTP method, falling back to ANY.
func (n *node) lookup(method string) *route {
	if rt, ok := n.methods[method]; ok {
		return rt
	}
	return n.methods["ANY"]
}

// walk visits every node that declares at least one method.
func (n *node) walk(fn func(*node)) {
	if len(n.methods) > 0 {
		fn(n)
	}
	keys := make([]string, 0, len(n.literals))
	for k := range n.literals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n.literals[k].walk(fn)
	}
	if n.variable != nil {
		n.variable.walk(fn)
	}
}
