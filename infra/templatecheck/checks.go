// Package templatecheck holds the checks that keep template.yaml, the function
// folders, the sample events and api-docs/ consistent, and the template's IAM
// and storage settings safe. Each check returns problems rather than failing,
// so tests can show a check catches a mutation (a removed folder, a removed
// route, a wildcard action) as well as pass on the real repository.
//
// No check keeps its own list of functions or routes: everything is derived
// from the template (rule 7 of the project: one source of truth).
package templatecheck

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vip-platform/backend/infra/template"
)

// Problem is one finding of a check.
type Problem struct {
	Check   string // which check found it
	Subject string // logical ID, folder, route or file concerned
	Message string
}

func (p Problem) String() string { return p.Check + ": " + p.Subject + ": " + p.Message }

// Repo is what the checks look at: a parsed template and the repository root
// holding functions/, events/ and api-docs/.
type Repo struct {
	Template *template.Template
	Root     string
}

// Load reads the template at root/template.yaml.
func Load(root string) (*Repo, error) {
	t, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	return &Repo{Template: t, Root: root}, nil
}

// All runs every check.
func (r *Repo) All() []Problem {
	var out []Problem
	for _, c := range []func() []Problem{
		r.FunctionFolders, r.FunctionSettings, r.SampleEvents, r.Routes,
		r.OpenAPI, r.Authorization, r.IAM, r.AuditAppendOnly, r.Storage,
	} {
		out = append(out, c()...)
	}
	return out
}

// FunctionFolders checks that every template function has its folder with a
// main.go and every folder under functions/ has its template function, by the
// naming convention DirName/LogicalIDFor (which the Makefile relies on).
func (r *Repo) FunctionFolders() []Problem {
	const check = "function-folders"
	var out []Problem
	fns, err := r.Template.Functions()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	declared := map[string]bool{}
	for _, f := range fns {
		dir := template.DirName(f.LogicalID)
		declared[dir] = true
		if template.LogicalIDFor(dir) != f.LogicalID {
			out = append(out, Problem{check, f.LogicalID, fmt.Sprintf("logical ID must be PascalCase of its folder plus %q (folder %q maps back to %q)", "Function", dir, template.LogicalIDFor(dir))})
		}
		if _, err := os.Stat(filepath.Join(r.Root, "functions", dir, "main.go")); err != nil {
			out = append(out, Problem{check, f.LogicalID, fmt.Sprintf("folder functions/%s with main.go is missing", dir)})
		}
	}
	entries, err := os.ReadDir(filepath.Join(r.Root, "functions"))
	if err != nil {
		return append(out, Problem{check, "functions/", err.Error()})
	}
	for _, e := range entries {
		if e.IsDir() && !declared[e.Name()] {
			out = append(out, Problem{check, "functions/" + e.Name(), fmt.Sprintf("folder has no template function %s", template.LogicalIDFor(e.Name()))})
		}
	}
	return out
}

// FunctionSettings checks each function builds and runs the way the Makefile
// and the devstack assume: makefile build, CodeUri ".", provided.al2023 on
// arm64, handler bootstrap, an API-backed timeout under API Gateway's 29 s.
func (r *Repo) FunctionSettings() []Problem {
	const check = "function-settings"
	var out []Problem
	fns, err := r.Template.Functions()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	for _, f := range fns {
		bad := func(msg string) { out = append(out, Problem{check, f.LogicalID, msg}) }
		if f.BuildMethod != "makefile" {
			bad("Metadata.BuildMethod must be makefile")
		}
		if f.CodeURI != "." {
			bad("CodeUri must be . (the module root, where the Makefile is)")
		}
		if f.Runtime != "provided.al2023" {
			bad("Runtime must be provided.al2023")
		}
		if f.Handler != "bootstrap" {
			bad("Handler must be bootstrap")
		}
		if !slices.Equal(f.Architectures, []string{"arm64"}) {
			bad("Architectures must be [arm64]")
		}
		for _, e := range f.Events {
			if e.Type == "Api" && f.Timeout > 29e9 {
				bad("an API-backed function's Timeout must not exceed API Gateway's 29 s")
			}
		}
	}
	return out
}

// SampleEvents checks every function has at least one sample event under
// events/<folder>/ (usable with sam local invoke -e and make invoke).
func (r *Repo) SampleEvents() []Problem {
	const check = "sample-events"
	var out []Problem
	fns, err := r.Template.Functions()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	for _, f := range fns {
		dir := filepath.Join(r.Root, "events", template.DirName(f.LogicalID))
		matches, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(matches) == 0 {
			out = append(out, Problem{check, f.LogicalID, fmt.Sprintf("no sample event in events/%s/*.json", template.DirName(f.LogicalID))})
		}
	}
	return out
}

// Routes checks every route belongs to a declared API, is unique, lives under
// /v1/, and names an authorizer the API defines (or NONE).
func (r *Repo) Routes() []Problem {
	const check = "routes"
	var out []Problem
	routes, err := r.Template.Routes()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	apis := map[string]template.API{}
	for _, a := range r.Template.APIs() {
		apis[a.LogicalID] = a
	}
	seen := map[string]string{}
	for _, rt := range routes {
		subject := rt.Method + " " + rt.Path
		api, ok := apis[rt.API]
		if !ok {
			out = append(out, Problem{check, subject, fmt.Sprintf("RestApiId must !Ref a declared AWS::Serverless::Api (got %q)", rt.API)})
			continue
		}
		if other, dup := seen[subject]; dup {
			out = append(out, Problem{check, subject, fmt.Sprintf("declared by both %s and %s", other, rt.Function)})
		}
		seen[subject] = rt.Function
		if !strings.HasPrefix(rt.Path, "/v1/") {
			out = append(out, Problem{check, subject, "paths are versioned: must start with /v1/"})
		}
		if rt.Authorizer != "" && rt.Authorizer != "NONE" {
			auths, err := api.Authorizers()
			if err != nil {
				out = append(out, Problem{check, subject, err.Error()})
				continue
			}
			if !slices.ContainsFunc(auths, func(a template.Authorizer) bool { return a.Name == rt.Authorizer }) {
				out = append(out, Problem{check, subject, fmt.Sprintf("authorizer %q is not defined on %s", rt.Authorizer, rt.API)})
			}
		}
	}
	return out
}

// IsPublic reports whether a route runs without an authorizer.
func (r *Repo) IsPublic(rt template.Route) bool {
	if rt.Authorizer == "NONE" {
		return true
	}
	if rt.Authorizer != "" {
		return false
	}
	for _, a := range r.Template.APIs() {
		if a.LogicalID == rt.API {
			return a.DefaultAuthorizer() == ""
		}
	}
	return true
}

type openAPIDoc struct {
	Security []map[string][]string           `yaml:"security"`
	Paths    map[string]map[string]openAPIOp `yaml:"paths"`
}

type openAPIOp struct {
	OperationID string                 `yaml:"operationId"`
	Security    *[]map[string][]string `yaml:"security"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// OpenAPI checks api-docs/openapi.yaml documents exactly the template's
// routes, and that an operation is public (security: []) exactly when its
// route has no authorizer.
func (r *Repo) OpenAPI() []Problem {
	const check = "openapi"
	raw, err := os.ReadFile(filepath.Join(r.Root, "api-docs", "openapi.yaml"))
	if err != nil {
		return []Problem{{check, "api-docs/openapi.yaml", err.Error()}}
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return []Problem{{check, "api-docs/openapi.yaml", err.Error()}}
	}
	routes, err := r.Template.Routes()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	var out []Problem
	documented := map[string]openAPIOp{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if slices.Contains(httpMethods, method) {
				documented[strings.ToUpper(method)+" "+path] = op
			}
		}
	}
	inTemplate := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		inTemplate[key] = true
		op, ok := documented[key]
		if !ok {
			out = append(out, Problem{check, key, "route in template.yaml is not documented in api-docs/openapi.yaml"})
			continue
		}
		docPublic := op.Security != nil && len(*op.Security) == 0
		if op.Security == nil {
			docPublic = len(doc.Security) == 0
		}
		if tplPublic := r.IsPublic(rt); tplPublic != docPublic {
			out = append(out, Problem{check, key, fmt.Sprintf("template public=%v but openapi public=%v", tplPublic, docPublic)})
		}
	}
	keys := make([]string, 0, len(documented))
	for k := range documented {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !inTemplate[k] {
			out = append(out, Problem{check, k, "documented in api-docs/openapi.yaml but no template function serves it"})
		}
	}
	return out
}

// actionsWithoutResources are the IAM actions AWS does not scope to a
// resource, so "Resource: *" is the only form they accept.
var actionsWithoutResources = map[string]bool{
	"xray:PutTraceSegments":    true,
	"xray:PutTelemetryRecords": true,
	"cloudwatch:PutMetricData": true,
	"kms:GenerateRandom":       true,
}

// IAM checks every function policy statement: explicit inline documents only
// (no managed policies or SAM policy templates, whose breadth is invisible
// here), no wildcard action, and no wildcard resource where a specific one
// exists.
func (r *Repo) IAM() []Problem {
	const check = "iam"
	var out []Problem
	fns, err := r.Template.Functions()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	for _, f := range fns {
		stmts, others := f.Statements()
		for _, o := range others {
			out = append(out, Problem{check, f.LogicalID, fmt.Sprintf("policy %q is a managed policy or SAM policy template: write explicit statements", o)})
		}
		for i, s := range stmts {
			subject := fmt.Sprintf("%s statement %d", f.LogicalID, i)
			if len(s.Actions) == 0 || len(s.Resources) == 0 {
				out = append(out, Problem{check, subject, "statement needs Action and Resource"})
			}
			resourceFree := true
			for _, a := range s.Actions {
				if a == "*" || strings.HasSuffix(a, ":*") || strings.Contains(a, "*") {
					out = append(out, Problem{check, subject, fmt.Sprintf("wildcard action %q", a)})
				}
				resourceFree = resourceFree && actionsWithoutResources[a]
			}
			for _, res := range s.Resources {
				if problem := wildcardResource(res); problem != "" && !resourceFree {
					out = append(out, Problem{check, subject, problem})
				}
			}
		}
	}
	return out
}

// wildcardResource explains what is too broad about a statement resource, or
// returns "". A wildcard is allowed only as the trailing part of a resource
// that is otherwise specific (a table's /index/*, a bucket's prefix/*).
func wildcardResource(res any) string {
	switch v := res.(type) {
	case string:
		if v == "*" || strings.HasSuffix(v, ":*") || strings.Contains(v, ":*:") {
			return fmt.Sprintf("wildcard resource %q", v)
		}
	case template.Intrinsic:
		if v.Fn == "Fn::Sub" {
			s, _ := v.Arg.(string)
			if l, ok := v.Arg.([]any); ok && len(l) > 0 {
				s, _ = l[0].(string)
			}
			if !strings.Contains(s, "${") && strings.Contains(s, "*") {
				return fmt.Sprintf("wildcard resource %q names no specific resource", s)
			}
			if strings.Contains(s, ":*") {
				return fmt.Sprintf("wildcard resource %q", s)
			}
		}
	default:
		return fmt.Sprintf("unrecognised resource %v", res)
	}
	return ""
}

// auditMutations are the DynamoDB actions that could change or remove an
// existing audit item.
var auditMutations = []string{
	"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
	"dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable",
	"dynamodb:UpdateTable", "dynamodb:RestoreTableFromBackup", "dynamodb:ImportTable",
}

// AuditAppendOnly checks no function may update or delete audit items: audit
// writers get PutItem (always conditional on attribute_not_exists in code)
// and Query only.
func (r *Repo) AuditAppendOnly() []Problem {
	const check = "audit-append-only"
	var out []Problem
	audits := r.Template.ResourcesOfType(template.TypeTable)
	auditIDs := map[string]bool{}
	for _, t := range audits {
		if strings.Contains(strings.ToLower(t.LogicalID), "audit") {
			auditIDs[t.LogicalID] = true
		}
	}
	if len(auditIDs) == 0 {
		return []Problem{{check, "template", "no audit table declared"}}
	}
	fns, err := r.Template.Functions()
	if err != nil {
		return []Problem{{check, "template", err.Error()}}
	}
	for _, f := range fns {
		stmts, _ := f.Statements()
		for _, s := range stmts {
			if !touches(s.Resources, auditIDs) {
				continue
			}
			for _, a := range s.Actions {
				if slices.Contains(auditMutations, a) {
					out = append(out, Problem{check, f.LogicalID, fmt.Sprintf("%s on the audit table", a)})
				}
			}
		}
	}
	return out
}

// touches reports whether any resource refers to one of the logical IDs.
func touches(resources []any, ids map[string]bool) bool {
	for _, res := range resources {
		in, ok := res.(template.Intrinsic)
		if !ok {
			continue
		}
		switch in.Fn {
		case "Ref":
			if s, _ := in.Arg.(string); ids[s] {
				return true
			}
		case "Fn::GetAtt":
			if l, ok := in.Arg.([]any); ok && len(l) == 2 {
				if s, _ := l[0].(string); ids[s] {
					return true
				}
			}
		case "Fn::Sub":
			s, _ := in.Arg.(string)
			for id := range ids {
				if strings.Contains(s, "${"+id+".") || strings.Contains(s, "${"+id+"}") {
					return true
				}
			}
		}
	}
	return false
}

// Storage checks tables, keys and buckets are protected the way DESIGN.md
// requires: tables with PITR, deletion protection and SSE under a
// customer-managed key; KMS keys rotating; buckets KMS-encrypted with public
// access blocked.
func (r *Repo) Storage() []Problem {
	const check = "storage"
	var out []Problem
	for _, t := range r.Template.ResourcesOfType(template.TypeTable) {
		p := t.Properties
		bad := func(msg string) { out = append(out, Problem{check, t.LogicalID, msg}) }
		if get(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
			bad("point-in-time recovery must be on")
		}
		if p["DeletionProtectionEnabled"] != true {
			bad("deletion protection must be on")
		}
		if get(p, "SSESpecification", "SSEEnabled") != true || get(p, "SSESpecification", "SSEType") != "KMS" {
			bad("SSE must be enabled with SSEType KMS")
		}
		if _, ok := get(p, "SSESpecification", "KMSMasterKeyId").(template.Intrinsic); !ok {
			bad("SSE must use a customer-managed key (KMSMasterKeyId: !Ref <key>)")
		}
		if t.DeletionPolicy != "Retain" {
			bad("DeletionPolicy must be Retain")
		}
	}
	for _, k := range r.Template.ResourcesOfType(template.TypeKMSKey) {
		if k.Properties["EnableKeyRotation"] != true {
			out = append(out, Problem{check, k.LogicalID, "EnableKeyRotation must be true"})
		}
	}
	for _, b := range r.Template.ResourcesOfType(template.TypeBucket) {
		p := b.Properties
		pab, _ := p["PublicAccessBlockConfiguration"].(map[string]any)
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if pab[k] != true {
				out = append(out, Problem{check, b.LogicalID, "PublicAccessBlockConfiguration." + k + " must be true"})
			}
		}
		rules, _ := get(p, "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)
		kms := false
		for _, rule := range rules {
			if get(rule, "ServerSideEncryptionByDefault", "SSEAlgorithm") == "aws:kms" {
				kms = true
			}
		}
		if !kms {
			out = append(out, Problem{check, b.LogicalID, "BucketEncryption must default to aws:kms"})
		}
		if _, ok := p["WebsiteConfiguration"]; ok {
			out = append(out, Problem{check, b.LogicalID, "buckets are never websites"})
		}
	}
	return out
}

func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// ErrNotRepoRoot is returned by FindRoot when no template.yaml is found.
var ErrNotRepoRoot = errors.New("template.yaml not found in any parent directory")

// FindRoot walks up from dir to the directory holding template.yaml and go.mod.
func FindRoot(dir string) (string, error) {
	for {
		if fileExists(filepath.Join(dir, "template.yaml")) && fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotRepoRoot
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
