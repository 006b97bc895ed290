package domain

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/vip-platform/backend"

// TestNoAWSImports proves the domain stays free of AWS: its files, and those
// of every package of this module it imports (transitively), import only the
// standard library and this module. Test files are exempt.
func TestNoAWSImports(t *testing.T) {
	root := moduleRoot(t)
	seen := map[string]bool{}
	var visit func(pkg string, chain []string)
	visit = func(pkg string, chain []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/")))
		for _, imp := range packageImports(t, dir) {
			next := append(append([]string(nil), chain...), imp)
			switch {
			case imp == modulePath || strings.HasPrefix(imp, modulePath+"/"):
				visit(imp, next)
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				t.Errorf("domain depends on non-standard package %s via %s", imp, strings.Join(next, " → "))
			}
		}
	}
	visit(modulePath+"/shared/domain", []string{"shared/domain"})
	if len(seen) < 2 {
		t.Fatalf("import walk visited only %v; the test is not looking at the package", seen)
	}
}

// TestImportCheckDetectsAWS makes sure the parser-based check would notice an
// AWS import, so TestNoAWSImports cannot pass by reading nothing.
func TestImportCheckDetectsAWS(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\nimport _ \"github.com/aws/aws-sdk-go-v2/service/dynamodb\"\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got := packageImports(t, dir)
	if len(got) != 1 || got[0] != "github.com/aws/aws-sdk-go-v2/service/dynamodb" {
		t.Fatalf("imports = %v", got)
	}
}

func packageImports(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var out []string
	fset := token.NewFileSet()
	files := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		files++
		for _, is := range f.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				t.Fatalf("%s: bad import %s", name, is.Path.Value)
			}
			out = append(out, p)
		}
	}
	if files == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod of " + modulePath + " not found")
		}
		dir = parent
	}
}
