package repotest

import (
	"os"
	"testing"
)

func TestFileFindsTheTemplate(t *testing.T) {
	if _, err := os.Stat(File(t, "template.yaml")); err != nil {
		t.Fatalf("template.yaml not found from %s: %v", t.TempDir(), err)
	}
}
