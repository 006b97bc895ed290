// Package template reads the SAM template (template.yaml), the single source of
// truth for functions, routes, tables, buckets, keys and secrets. The devstack,
// the template checks, the authorization tests and the IAM checks all read the
// template through this package, so no second list of routes or resources
// exists anywhere in the repository.
//
// It parses plain YAML (gopkg.in/yaml.v3) rather than goformation because
// goformation resolves !Ref to other resources into "" and does not merge
// Globals; both are exactly what the devstack needs to see.
package template

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Resource types the project uses.
const (
	TypeFunction   = "AWS::Serverless::Function"
	TypeAPI        = "AWS::Serverless::Api"
	TypeWebSocket  = "AWS::ApiGatewayV2::Api"
	TypeTable      = "AWS::DynamoDB::Table"
	TypeBucket     = "AWS::S3::Bucket"
	TypeKMSKey     = "AWS::KMS::Key"
	TypeKMSAlias   = "AWS::KMS::Alias"
	TypeSecret     = "AWS::SecretsManager::Secret"
	TypeLogGroup   = "AWS::Logs::LogGroup"
	functionSuffix = "Function"
)

// Intrinsic is a CloudFormation intrinsic function call kept unresolved, so a
// consumer can resolve it against its own environment (the devstack against
// local names, the IAM checks against logical IDs).
type Intrinsic struct {
	// Fn is the long name: "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", ...
	Fn string
	// Arg is the argument, itself a parsed value (string, []any, map, Intrinsic).
	Arg any
}

// Resource is one entry of the template's Resources section.
type Resource struct {
	LogicalID      string
	Type           string
	Properties     map[string]any
	Metadata       map[string]any
	DeletionPolicy string
	Condition      string
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Name          string
	Type          string
	Default       any
	AllowedValues []any
}

// Template is a parsed SAM template.
type Template struct {
	// Path is the file the template was read from; Dir its directory, against
	// which CodeUri paths are resolved (as sam build does).
	Path       string
	Dir        string
	Parameters map[string]Parameter
	Conditions map[string]any
	// FunctionGlobals is Globals.Function, merged into every function.
	FunctionGlobals map[string]any
	// APIGlobals is Globals.Api, merged into every AWS::Serverless::Api.
	APIGlobals map[string]any
	Resources  map[string]Resource
}

// Load reads and parses a SAM template file.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("template path: %w", err)
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	t.Path = abs
	t.Dir = filepath.Dir(abs)
	return t, nil
}

// Parse parses template YAML. CodeUri paths resolve against the working
// directory unless Load set Dir.
func Parse(raw []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("empty template")
	}
	v, err := decodeNode(root.Content[0])
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template root is not a mapping")
	}
	t := &Template{
		Dir:             ".",
		Parameters:      map[string]Parameter{},
		Conditions:      asMap(doc["Conditions"]),
		FunctionGlobals: asMap(asMap(doc["Globals"])["Function"]),
		APIGlobals:      asMap(asMap(doc["Globals"])["Api"]),
		Resources:       map[string]Resource{},
	}
	for name, pv := range asMap(doc["Parameters"]) {
		pm := asMap(pv)
		p := Parameter{Name: name, Default: pm["Default"]}
		p.Type, _ = pm["Type"].(string)
		p.AllowedValues, _ = pm["AllowedValues"].([]any)
		t.Parameters[name] = p
	}
	resources := asMap(doc["Resources"])
	if len(resources) == 0 {
		return nil, errors.New("template has no Resources")
	}
	for id, rv := range resources {
		rm := asMap(rv)
		r := Resource{LogicalID: id, Properties: asMap(rm["Properties"]), Metadata: asMap(rm["Metadata"])}
		r.Type, _ = rm["Type"].(string)
		r.DeletionPolicy, _ = rm["DeletionPolicy"].(string)
		r.Condition, _ = rm["Condition"].(string)
		if r.Type == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		t.Resources[id] = r
	}
	return t, nil
}

// decodeNode turns a YAML node into plain Go values, keeping intrinsic
// functions (short "!Ref" tags and long "Fn::X" keys) as Intrinsic values.
func decodeNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0])
	case yaml.AliasNode:
		return decodeNode(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && n.Tag != "!!str" && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			cv, err := decodeNode(c)
			if err != nil {
				return nil, err
			}
			list = append(list, cv)
		}
		v = list
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			cv, err := decodeNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, key)
			}
			m[key] = cv
		}
		if len(m) == 1 {
			for k, a := range m {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return Intrinsic{Fn: k, Arg: a}, nil
				}
			}
		}
		v = m
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		name := strings.TrimPrefix(tag, "!")
		fn := "Fn::" + name
		switch name {
		case "Ref", "Condition":
			fn = name
		case "GetAtt":
			// !GetAtt A.B is shorthand for [A, B].
			if s, ok := v.(string); ok {
				a, b, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
				}
				v = []any{a, b}
			}
		}
		return Intrinsic{Fn: fn, Arg: v}, nil
	}
	return v, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// ResourcesOfType returns the resources of one type, sorted by logical ID.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// Function is an AWS::Serverless::Function with Globals merged in.
type Function struct {
	LogicalID     string
	CodeURI       string
	Handler       string
	Runtime       string
	BuildMethod   string
	Architectures []string
	Timeout       time.Duration
	MemoryMB      int
	// Environment is Globals.Function.Environment.Variables merged with the
	// function's own; values may be Intrinsic and need resolving.
	Environment map[string]any
	Events      []Event
	// Policies is the raw Policies property (documents, managed policy
	// names, SAM policy templates).
	Policies []any
	Resource Resource
}

// Event is one entry of a function's Events property.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Functions returns every function, sorted by logical ID.
func (t *Template) Functions() ([]Function, error) {
	var out []Function
	for _, r := range t.ResourcesOfType(TypeFunction) {
		f, err := t.function(r)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Function returns one function by logical ID.
func (t *Template) Function(logicalID string) (Function, error) {
	r, ok := t.Resources[logicalID]
	if !ok || r.Type != TypeFunction {
		return Function{}, fmt.Errorf("no function %q in template", logicalID)
	}
	return t.function(r)
}

func (t *Template) function(r Resource) (Function, error) {
	p := mergeProps(t.FunctionGlobals, r.Properties)
	f := Function{LogicalID: r.LogicalID, Resource: r, Timeout: 3 * time.Second, MemoryMB: 128}
	f.CodeURI, _ = p["CodeUri"].(string)
	f.Handler, _ = p["Handler"].(string)
	f.Runtime, _ = p["Runtime"].(string)
	f.BuildMethod, _ = r.Metadata["BuildMethod"].(string)
	for _, a := range asList(p["Architectures"]) {
		if s, ok := a.(string); ok {
			f.Architectures = append(f.Architectures, s)
		}
	}
	if n, ok := number(p["Timeout"]); ok {
		f.Timeout = time.Duration(n * float64(time.Second))
	}
	if n, ok := number(p["MemorySize"]); ok {
		f.MemoryMB = int(n)
	}
	f.Environment = map[string]any{}
	for k, v := range asMap(asMap(t.FunctionGlobals["Environment"])["Variables"]) {
		f.Environment[k] = v
	}
	for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
		f.Environment[k] = v
	}
	f.Policies = asList(r.Properties["Policies"])
	evs := asMap(r.Properties["Events"])
	names := make([]string, 0, len(evs))
	for name := range evs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		em := asMap(evs[name])
		e := Event{Name: name, Properties: asMap(em["Properties"])}
		e.Type, _ = em["Type"].(string)
		f.Events = append(f.Events, e)
	}
	if f.CodeURI == "" {
		return f, fmt.Errorf("function %s has no CodeUri", r.LogicalID)
	}
	return f, nil
}

// mergeProps merges Globals into a resource's properties the way SAM does for
// the keys this project uses: resource values win; maps merge one level deep.
func mergeProps(globals, props map[string]any) map[string]any {
	out := make(map[string]any, len(globals)+len(props))
	for k, v := range globals {
		out[k] = v
	}
	for k, v := range props {
		gm, gok := out[k].(map[string]any)
		pm, pok := v.(map[string]any)
		if gok && pok {
			merged := make(map[string]any, len(gm)+len(pm))
			for gk, gv := range gm {
				merged[gk] = gv
			}
			for pk, pv := range pm {
				merged[pk] = pv
			}
			out[k] = merged
			continue
		}
		out[k] = v
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// DirName maps a function's logical ID to its folder name by the project's
// naming convention: "AuthLoginFunction" → "auth-login". The template checks
// enforce the convention, so the Makefile's build-<LogicalId> targets and the
// devstack find a function's code without a second list.
func DirName(logicalID string) string {
	base := strings.TrimSuffix(logicalID, functionSuffix)
	return strings.ToLower(camelBoundary.ReplaceAllString(base, "${1}-${2}"))
}

// LogicalIDFor is the inverse of DirName: "auth-login" → "AuthLoginFunction".
func LogicalIDFor(dir string) string {
	var b strings.Builder
	for _, part := range strings.Split(dir, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	b.WriteString(functionSuffix)
	return b.String()
}

// CodeDir is the directory sam build hands to the makefile builder for f: the
// function's CodeUri relative to the template.
func (t *Template) CodeDir(f Function) string {
	if filepath.IsAbs(f.CodeURI) {
		return f.CodeURI
	}
	return filepath.Join(t.Dir, f.CodeURI)
}

// Route is one REST API route: an Events entry of Type Api.
type Route struct {
	// API is the logical ID of the AWS::Serverless::Api (RestApiId), or ""
	// for SAM's implicit API.
	API      string
	Method   string // upper case; "ANY" allowed
	Path     string // API Gateway form, e.g. /v1/users/{userId}
	Function string // logical ID
	Event    string
	// Authorizer is the route's Auth.Authorizer: "" means the API's
	// DefaultAuthorizer applies, "NONE" means public.
	Authorizer string
}

// Routes returns every REST route, sorted by path then method.
func (t *Template) Routes() ([]Route, error) {
	fns, err := t.Functions()
	if err != nil {
		return nil, err
	}
	var out []Route
	for _, f := range fns {
		for _, e := range f.Events {
			if e.Type != "Api" {
				continue
			}
			r := Route{Function: f.LogicalID, Event: e.Name}
			r.Path, _ = e.Properties["Path"].(string)
			m, _ := e.Properties["Method"].(string)
			r.Method = strings.ToUpper(m)
			if ref, ok := e.Properties["RestApiId"].(Intrinsic); ok && ref.Fn == "Ref" {
				r.API, _ = ref.Arg.(string)
			}
			r.Authorizer, _ = asMap(e.Properties["Auth"])["Authorizer"].(string)
			if r.Path == "" || r.Method == "" {
				return nil, fmt.Errorf("function %s event %s: Api event needs Path and Method", f.LogicalID, e.Name)
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out, nil
}

// API is an AWS::Serverless::Api with Globals.Api merged in.
type API struct {
	LogicalID  string
	Properties map[string]any
}

// APIs returns every AWS::Serverless::Api, sorted by logical ID.
func (t *Template) APIs() []API {
	var out []API
	for _, r := range t.ResourcesOfType(TypeAPI) {
		out = append(out, API{LogicalID: r.LogicalID, Properties: mergeProps(t.APIGlobals, r.Properties)})
	}
	return out
}

// Authorizer is one entry of an API's Auth.Authorizers.
type Authorizer struct {
	Name string
	// Function is the logical ID behind FunctionArn (!GetAtt X.Arn).
	Function string
	// Type is "REQUEST" or "TOKEN" (FunctionPayloadType).
	Type string
	// IdentityHeaders are the headers that form the identity source (and the
	// cache key).
	IdentityHeaders []string
	// TTL is ReauthorizeEvery (0 disables result caching). SAM's default is
	// 300 s when unset.
	TTL time.Duration
}

// DefaultAuthorizer returns the API's Auth.DefaultAuthorizer name ("" when none).
func (a API) DefaultAuthorizer() string {
	s, _ := asMap(a.Properties["Auth"])["DefaultAuthorizer"].(string)
	return s
}

// Authorizers returns the API's Lambda authorizers, sorted by name.
func (a API) Authorizers() ([]Authorizer, error) {
	auths := asMap(asMap(a.Properties["Auth"])["Authorizers"])
	var out []Authorizer
	for name, v := range auths {
		m := asMap(v)
		az := Authorizer{Name: name, TTL: 300 * time.Second}
		if ga, ok := m["FunctionArn"].(Intrinsic); ok && ga.Fn == "Fn::GetAtt" {
			if l := asList(ga.Arg); len(l) == 2 {
				az.Function, _ = l[0].(string)
			}
		}
		if az.Function == "" {
			return nil, fmt.Errorf("api %s authorizer %s: FunctionArn must be !GetAtt <Function>.Arn", a.LogicalID, name)
		}
		az.Type, _ = m["FunctionPayloadType"].(string)
		if az.Type == "" {
			az.Type = "TOKEN"
		}
		id := asMap(m["Identity"])
		for _, h := range asList(id["Headers"]) {
			if s, ok := h.(string); ok {
				az.IdentityHeaders = append(az.IdentityHeaders, s)
			}
		}
		if az.Type == "TOKEN" {
			hdr, _ := id["Header"].(string)
			if hdr == "" {
				hdr = "Authorization"
			}
			az.IdentityHeaders = []string{hdr}
		}
		if n, ok := number(id["ReauthorizeEvery"]); ok {
			az.TTL = time.Duration(n) * time.Second
		}
		out = append(out, az)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
