package templatecheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestRepository runs every check on the real repository: it must be clean.
func TestRepository(t *testing.T) {
	repo, err := Load(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range repo.All() {
		t.Error(p)
	}
}

// copyRepo copies what the checks read into a temp dir so a test can break it.
func copyRepo(t *testing.T) string {
	t.Helper()
	src := repoRoot(t)
	dst := t.TempDir()
	for _, rel := range []string{"template.yaml", "go.mod", "api-docs", "events", "functions"} {
		copyTree(t, filepath.Join(src, rel), filepath.Join(dst, rel))
	}
	return dst
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChecksCatchMutations proves each check fails when the thing it guards
// is broken: the checks are not vacuous.
func TestChecksCatchMutations(t *testing.T) {
	cases := []struct {
		name      string
		mutate    func(t *testing.T, root string)
		wantCheck string
		wantText  string
	}{
		{
			name:      "function folder removed",
			mutate:    func(t *testing.T, root string) { mustRemove(t, filepath.Join(root, "functions", "health")) },
			wantCheck: "function-folders",
			wantText:  "functions/health with main.go is missing",
		},
		{
			name: "folder without a template function",
			mutate: func(t *testing.T, root string) {
				dir := filepath.Join(root, "functions", "orphan-thing")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantCheck: "function-folders",
			wantText:  "no template function OrphanThingFunction",
		},
		{
			name: "route removed from the template",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "template.yaml"), "Path: /v1/health", "Path: /v1/healthz")
			},
			wantCheck: "openapi",
			wantText:  "documented in api-docs/openapi.yaml but no template function serves it",
		},
		{
			name: "route removed from api-docs",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "api-docs", "openapi.yaml"), "  /v1/health:", "  /v1/old-health:")
			},
			wantCheck: "openapi",
			wantText:  "not documented in api-docs/openapi.yaml",
		},
		{
			name: "route missing from the authorization matrix",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "api-docs", "authorization.yaml"), `path: "/v1/me/sessions",`, `path: "/v1/me/sessionz",`)
			},
			wantCheck: "authorization",
			wantText:  "route has no rule",
		},
		{
			name: "public route made private in the template only",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "template.yaml"), "Path: /v1/health\n            Method: GET\n            Auth:\n              Authorizer: NONE", "Path: /v1/health\n            Method: GET")
			},
			wantCheck: "authorization",
			wantText:  "template public=false",
		},
		{
			name: "sample events removed",
			mutate: func(t *testing.T, root string) {
				mustRemove(t, filepath.Join(root, "events", "health"))
			},
			wantCheck: "sample-events",
			wantText:  "no sample event",
		},
		{
			name: "wildcard action",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "template.yaml"), "Action: [dynamodb:GetItem]", "Action: [\"dynamodb:*\"]")
			},
			wantCheck: "iam",
			wantText:  "wildcard action",
		},
		{
			name: "wildcard resource",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "template.yaml"), "Resource: !GetAtt MainTable.Arn", "Resource: \"*\"")
			},
			wantCheck: "iam",
			wantText:  "wildcard resource",
		},
		{
			name: "audit table made mutable",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "template.yaml"),
					"Action: [dynamodb:GetItem]\n              Resource: !GetAtt MainTable.Arn",
					"Action: [dynamodb:GetItem, dynamodb:DeleteItem]\n              Resource: !GetAtt AuditTable.Arn")
			},
			wantCheck: "audit-append-only",
			wantText:  "dynamodb:DeleteItem on the audit table",
		},
		{
			name: "point-in-time recovery off",
			mutate: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "template.yaml"), "PointInTimeRecoveryEnabled: true", "PointInTimeRecoveryEnabled: false")
			},
			wantCheck: "storage",
			wantText:  "point-in-time recovery",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := copyRepo(t)
			tc.mutate(t, root)
			repo, err := Load(root)
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, p := range repo.All() {
				if p.Check == tc.wantCheck && strings.Contains(p.Message, tc.wantText) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s problem containing %q; got %v", tc.wantCheck, tc.wantText, repo.All())
			}
		})
	}
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

// TestSecurityDocReferences keeps docs/security.md (and the other docs that
// cite code) true: every code path and test they cite must exist.
func TestSecurityDocReferences(t *testing.T) {
	repo, err := Load(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"docs/security.md", "docs/architecture.md", "docs/performance.md", "docs/data-model.md", "README.md"} {
		for _, p := range repo.DocReferences(doc) {
			t.Error(p)
		}
	}
}

func TestDocReferencesCatchStaleCitations(t *testing.T) {
	root := copyRepo(t)
	if err := os.MkdirAll(filepath.Join(root, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "| x | `shared/nowhere/file.go` | `infra/templatecheck: TestRepository, TestDoesNotExist` |\n"
	if err := os.WriteFile(filepath.Join(root, "docs", "x.md"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(repoRoot(t), "infra", "templatecheck"), filepath.Join(root, "infra", "templatecheck"))
	repo, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(repo.DocReferences("docs/x.md"))
	for _, want := range []string{"shared/nowhere/file.go", "TestDoesNotExist"} {
		if !strings.Contains(got, want) {
			t.Errorf("stale citation %s not reported: %s", want, got)
		}
	}
	if strings.Contains(got, "TestRepository,") || strings.Contains(got, ": TestRepository") {
		t.Errorf("existing test reported as missing: %s", got)
	}
}

// TestFunctionsLinkNoDevstackModules keeps the emulators, YAML and OpenAPI
// tooling out of every function binary (smaller cold starts, smaller attack
// surface): only infra/ may use them.
func TestFunctionsLinkNoDevstackModules(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./functions/...")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, forbidden := range []string{"github.com/truora/minidyn", "github.com/johannesboyne/gofakes3", "github.com/nsmithuk/local-kms", "gopkg.in/yaml", "github.com/getkin/kin-openapi", "/infra/"} {
		for _, pkg := range strings.Split(string(out), "\n") {
			if strings.Contains(pkg, forbidden) {
				t.Errorf("a function links %s", pkg)
				break
			}
		}
	}
}
