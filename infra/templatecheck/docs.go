package templatecheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	// testRef matches `path/to/pkg: TestA, TestB` in a Markdown code span.
	testRef = regexp.MustCompile("`((?:shared|functions|infra)/[A-Za-z0-9_./-]+): ((?:Test[A-Za-z0-9_]+(?:, )?)+)`")
	// pathRef matches `shared/...`, `functions/...`, `infra/...`, `docs/...`
	// or `api-docs/...` paths in a code span (an optional trailing word such
	// as a type name after a space is ignored).
	pathRef = regexp.MustCompile("`((?:shared|functions|infra|docs|api-docs)/[A-Za-z0-9_./-]+)(?: [A-Za-z]+)?`")
)

// DocReferences checks that every package path and test function a
// traceability document cites exists, so the document stays true.
func (r *Repo) DocReferences(doc string) []Problem {
	const check = "doc-references"
	raw, err := os.ReadFile(filepath.Join(r.Root, doc))
	if err != nil {
		return []Problem{{check, doc, err.Error()}}
	}
	text := string(raw)
	var out []Problem
	tests := map[string]string{} // dir -> concatenated test sources
	for _, m := range testRef.FindAllStringSubmatch(text, -1) {
		dir := m[1]
		src, ok := tests[dir]
		if !ok {
			files, _ := filepath.Glob(filepath.Join(r.Root, dir, "*_test.go"))
			var b strings.Builder
			for _, f := range files {
				c, err := os.ReadFile(f)
				if err == nil {
					b.Write(c)
				}
			}
			src = b.String()
			tests[dir] = src
		}
		if src == "" {
			out = append(out, Problem{check, doc, fmt.Sprintf("cites tests in %s, which has no test files", dir)})
			continue
		}
		for _, name := range strings.Split(m[2], ", ") {
			if !strings.Contains(src, "func "+name+"(") {
				out = append(out, Problem{check, doc, fmt.Sprintf("cites %s: %s, which does not exist", dir, name)})
			}
		}
	}
	for _, m := range pathRef.FindAllStringSubmatch(text, -1) {
		p := strings.TrimSuffix(m[1], "/")
		if _, err := os.Stat(filepath.Join(r.Root, p)); err != nil {
			out = append(out, Problem{check, doc, fmt.Sprintf("cites %s, which does not exist", p)})
		}
	}
	return out
}
