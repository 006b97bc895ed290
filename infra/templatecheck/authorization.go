package templatecheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"
)

// Rule is one route entry of api-docs/authorization.yaml.
type Rule struct {
	Method     string   `yaml:"method"`
	Path       string   `yaml:"path"`
	Roles      []string `yaml:"roles"`
	Ownership  string   `yaml:"ownership"`
	NotVisible int      `yaml:"notVisible"`
}

// AuthorizationMatrix is api-docs/authorization.yaml.
type AuthorizationMatrix struct {
	Version int    `yaml:"version"`
	Routes  []Rule `yaml:"routes"`
	CLI     []struct {
		Function string `yaml:"function"`
		Actor    string `yaml:"actor"`
	} `yaml:"cli"`
}

// Roles are the platform's roles.
var Roles = []string{"intern", "mentor", "org_admin", "admin"}

// LoadAuthorization reads api-docs/authorization.yaml under root, strictly.
func LoadAuthorization(root string) (*AuthorizationMatrix, error) {
	f, err := os.Open(filepath.Join(root, "api-docs", "authorization.yaml"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var m AuthorizationMatrix
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("api-docs/authorization.yaml: %w", err)
	}
	return &m, nil
}

// Authorization checks the matrix covers exactly the template's routes, that
// public rules match routes without an authorizer (and only those), and that
// every rule names known roles and an ownership rule.
func (r *Repo) Authorization() []Problem {
	const check = "authorization"
	m, err := LoadAuthorization(r.Root)
	if err != nil {
		return []Problem{{check, "api-docs/authorization.yaml", err.Error()}}
	}
	routes, err := r.Template.Routes()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	var out []Problem
	rules := map[string]Rule{}
	for _, rule := range m.Routes {
		key := rule.Method + " " + rule.Path
		if _, dup := rules[key]; dup {
			out = append(out, Problem{check, key, "listed twice"})
		}
		rules[key] = rule
		for _, role := range rule.Roles {
			if !slices.Contains(Roles, role) {
				out = append(out, Problem{check, key, fmt.Sprintf("unknown role %q", role)})
			}
		}
		if rule.Ownership == "" {
			out = append(out, Problem{check, key, "ownership rule missing"})
		}
		if rule.Ownership == "public" && len(rule.Roles) > 0 {
			out = append(out, Problem{check, key, "a public route lists no roles"})
		}
		if rule.Ownership != "public" && len(rule.Roles) == 0 {
			out = append(out, Problem{check, key, "no role may call it: remove the route or list roles"})
		}
	}
	inTemplate := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		inTemplate[key] = true
		rule, ok := rules[key]
		if !ok {
			out = append(out, Problem{check, key, "route has no rule in api-docs/authorization.yaml (denied by default)"})
			continue
		}
		if public := r.IsPublic(rt); public != (rule.Ownership == "public") {
			out = append(out, Problem{check, key, fmt.Sprintf("template public=%v but authorization.yaml ownership %q", public, rule.Ownership)})
		}
	}
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !inTemplate[k] {
			out = append(out, Problem{check, k, "rule for a route the template does not declare"})
		}
	}
	return out
}
