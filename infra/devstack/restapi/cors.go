package restapi

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/vip-platform/backend/infra/template"
)

// corsConfig is the API's Cors property. SAM turns it into a MOCK OPTIONS
// method on every path, answering 200 with these headers whatever the
// request carries; values are already unquoted.
type corsConfig struct {
	origin      string
	methods     string // "" when SAM computes them per path
	headers     string
	maxAge      string
	credentials bool
}

func parseCORS(t *template.Template, api apiConfig, env template.Env) (*corsConfig, error) {
	raw, ok := api.Properties["Cors"]
	if !ok || raw == nil {
		return nil, nil
	}
	where := fmt.Sprintf("restapi: api %s Cors", api.LogicalID)
	resolved, err := t.Resolve(raw, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	c := &corsConfig{}
	quoted := func(field string, v any) (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s.%s is not a string", where, field)
		}
		u, ok := unquote(s)
		if !ok {
			return "", fmt.Errorf("%s.%s %q must be quoted like \"'value'\"", where, field, s)
		}
		return u, nil
	}
	switch x := resolved.(type) {
	case string:
		// The short form is the AllowOrigin value alone.
		if c.origin, err = quoted("AllowOrigin", x); err != nil {
			return nil, err
		}
	case map[string]any:
		v, ok := x["AllowOrigin"]
		if !ok {
			return nil, fmt.Errorf("%s: AllowOrigin is required", where)
		}
		if c.origin, err = quoted("AllowOrigin", v); err != nil {
			return nil, err
		}
		for field, dst := range map[string]*string{"AllowMethods": &c.methods, "AllowHeaders": &c.headers, "MaxAge": &c.maxAge} {
			if v, ok := x[field]; ok {
				if *dst, err = quoted(field, v); err != nil {
					return nil, err
				}
			}
		}
		if v, ok := x["AllowCredentials"]; ok {
			switch b := v.(type) {
			case bool:
				c.credentials = b
			case string:
				c.credentials = strings.EqualFold(strings.Trim(b, "'"), "true")
			default:
				return nil, fmt.Errorf("%s.AllowCredentials is not a boolean", where)
			}
		}
		if c.credentials && c.origin == "*" {
			// SAM refuses this combination, as browsers do.
			return nil, fmt.Errorf("%s: AllowOrigin '*' cannot be combined with AllowCredentials", where)
		}
	default:
		return nil, fmt.Errorf("%s is neither a string nor a mapping", where)
	}
	return c, nil
}

// allMethods is what SAM lists for an ANY method.
var allMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// fillMethods computes, when AllowMethods is not set, each path's
// Access-Control-Allow-Methods as SAM does: the path's methods plus OPTIONS.
func (c *corsConfig) fillMethods(root *node) {
	if c.methods != "" {
		return
	}
	root.walk(func(n *node) {
		set := map[string]bool{"OPTIONS": true}
		for m := range n.methods {
			if m == "ANY" {
				for _, a := range allMethods {
					set[a] = true
				}
				continue
			}
			set[m] = true
		}
		list := make([]string, 0, len(set))
		for m := range set {
			list = append(list, m)
		}
		sort.Strings(list)
		n.corsMethods = strings.Join(list, ",")
	})
}

func (c *corsConfig) write(w http.ResponseWriter, n *node) {
	h := w.Header()
	if c.headers != "" {
		h.Set("Access-Control-Allow-Headers", c.headers)
	}
	methods := c.methods
	if methods == "" {
		methods = n.corsMethods
	}
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Origin", c.origin)
	if c.maxAge != "" {
		h.Set("Access-Control-Max-Age", c.maxAge)
	}
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
}
