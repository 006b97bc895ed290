// Package repotest finds files of this repository from any test's working
// directory, so tests in functions/<name> and shared/<pkg> can read
// template.yaml, api-docs/ and events/ without fragile relative paths.
package repotest

import (
	"os"
	"path/filepath"
	"testing"
)

// File returns the path of a file at the repository root (the directory
// holding go.mod), found by walking up from the working directory.
func File(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("repotest: no go.mod above %s", dir)
		}
		dir = parent
	}
}
