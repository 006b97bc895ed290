package lambdart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"time"
)

// BuildSpec says which function to build and where, as sam build passes it to
// a BuildMethod: makefile function.
type BuildSpec struct {
	// LogicalID names the make target: build-<LogicalID>.
	LogicalID string
	// CodeDir is the function's CodeUri, where the Makefile is.
	CodeDir string
	// ArtifactsDir receives the bootstrap; it is created if missing.
	ArtifactsDir string
	// Output, if set, receives make's output as it runs.
	Output io.Writer
}

// logicalIDPattern is CloudFormation's logical ID alphabet; it also keeps a
// make target from looking like an option or a variable assignment.
var logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)

// buildTailBytes is how much of make's output a failed build's error carries.
const buildTailBytes = 4096

// Build runs `make -C <CodeDir> build-<LogicalID> ARTIFACTS_DIR=<dir>` the way
// sam build does, with LAMBDA_GOOS and LAMBDA_GOARCH set to this machine's so
// the binary runs locally, and returns the path of <ArtifactsDir>/bootstrap.
// make inherits the environment (the Go toolchain needs it); only the
// functions run isolated. A failed build's error ends with the tail of make's
// output, where the compiler's message is.
func Build(ctx context.Context, spec BuildSpec) (string, error) {
	if !logicalIDPattern.MatchString(spec.LogicalID) {
		return "", fmt.Errorf("build %q: logical ID must be letters and digits", spec.LogicalID)
	}
	if spec.CodeDir == "" || spec.ArtifactsDir == "" {
		return "", fmt.Errorf("build %s: code dir and artifacts dir are required", spec.LogicalID)
	}
	codeDir, err := filepath.Abs(spec.CodeDir)
	if err != nil {
		return "", fmt.Errorf("build %s: code dir: %w", spec.LogicalID, err)
	}
	// make -C changes directory, so a relative ARTIFACTS_DIR would land
	// inside CodeDir.
	artifacts, err := filepath.Abs(spec.ArtifactsDir)
	if err != nil {
		return "", fmt.Errorf("build %s: artifacts dir: %w", spec.LogicalID, err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", spec.LogicalID, err)
	}

	tail := &tailBuffer{max: buildTailBytes}
	var out io.Writer = tail
	if spec.Output != nil {
		out = io.MultiWriter(spec.Output, tail)
	}
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", codeDir,
		"build-"+spec.LogicalID,
		"ARTIFACTS_DIR="+artifacts,
		"LAMBDA_GOOS="+runtime.GOOS,
		"LAMBDA_GOARCH="+runtime.GOARCH,
	)
	cmd.Stdout = out
	cmd.Stderr = out
	// The compiler make started may outlive a cancelled make and hold the
	// pipe; do not wait for it forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s: make build-%s: %w; output:\n%s", spec.LogicalID, spec.LogicalID, err, tail.String())
	}

	bootstrap := filepath.Join(artifacts, "bootstrap")
	info, err := os.Stat(bootstrap)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("build %s: make build-%s succeeded but wrote no %s", spec.LogicalID, spec.LogicalID, bootstrap)
	case err != nil:
		return "", fmt.Errorf("build %s: %w", spec.LogicalID, err)
	case !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("build %s: %s is not an executable file", spec.LogicalID, bootstrap)
	}
	return bootstrap, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*t.max+1 {
		// One byte more than shown, to tell whether the tail starts a line.
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max-1:]...)
	}
	return len(b), nil
}

// String returns the tail; when output was cut it starts at a line boundary,
// so the first line shown is a whole one.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) <= t.max {
		return string(t.buf)
	}
	start := len(t.buf) - t.max
	b := t.buf[start:]
	if t.buf[start-1] != '\n' {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "...\n" + string(b)
}
