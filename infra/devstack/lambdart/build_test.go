package lambdart

import (
	"context"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		logicalID string
		wantErr   []string // substrings of the error, all of them
	}{
		{name: "makefile target builds a runnable bootstrap", logicalID: "EchoFunction"},
		{name: "compile error reaches the developer", logicalID: "BrokenFunction",
			wantErr: []string{"make build-BrokenFunction", "exit status", "broken/main.go", "cannot use"}},
		{name: "target that writes no bootstrap", logicalID: "HollowFunction",
			wantErr: []string{"succeeded but wrote no", "bootstrap"}},
		{name: "missing target", logicalID: "MissingFunction",
			wantErr: []string{"make build-MissingFunction", "No rule to make target"}},
		{name: "logical ID that could pass as a make option", logicalID: "-j1",
			wantErr: []string{"logical ID must be letters and digits"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out safeBuffer
			bootstrap, err := Build(context.Background(), BuildSpec{
				LogicalID:    tc.logicalID,
				CodeDir:      "testdata",
				ArtifactsDir: t.TempDir(),
				Output:       &out,
			})
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("build succeeded (%s), want an error", bootstrap)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			if !strings.Contains(out.String(), "go build") {
				t.Errorf("make's output was not passed on: %q", out.String())
			}
			m, _ := newManager(t, Options{})
			register(t, m, FunctionSpec{Name: tc.logicalID, Bootstrap: bootstrap})
			res, err := m.Invoke(context.Background(), tc.logicalID, []byte(`"built"`))
			if err != nil || string(res.Payload) != `"built"` {
				t.Fatalf("invoke the built function: %+v, %v", res, err)
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		max    int
		want   string
	}{
		{name: "short output is kept whole", writes: []string{"a\n", "b\n"}, max: 10, want: "a\nb\n"},
		{name: "long output keeps whole last lines", writes: []string{"line1\n", "line2\n", "line3\n"}, max: 10, want: "...\nline3\n"},
		{name: "trimming across many writes", writes: []string{strings.Repeat("x\n", 50), "end\n"}, max: 6, want: "...\nx\nend\n"},
		{name: "a cut line is dropped", writes: []string{"abcdefgh\n", "end\n"}, max: 6, want: "...\nend\n"},
		{name: "exactly max is whole", writes: []string{"abcde\n"}, max: 6, want: "abcde\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := &tailBuffer{max: tc.max}
			for _, w := range tc.writes {
				_, _ = tb.Write([]byte(w))
			}
			if got := tb.String(); got != tc.want {
				t.Errorf("tail = %q, want %q", got, tc.want)
			}
		})
	}
}
