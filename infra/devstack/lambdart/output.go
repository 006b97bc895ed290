package lambdart

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds a line kept in memory; a longer one is passed on in pieces
// so a process printing without newlines cannot grow the buffer forever.
const maxLine = 64 * 1024

// lineWriter passes a process's output on line by line, each line prefixed
// with the function's name, in a single Write so lines of concurrent
// processes never interleave.
type lineWriter struct {
	mu     sync.Mutex
	dst    io.Writer
	prefix string
	buf    []byte
}

var _ io.Writer = (*lineWriter)(nil)

func newLineWriter(dst io.Writer, prefix string) *lineWriter {
	return &lineWriter{dst: dst, prefix: prefix}
}

// Write never fails: an error here would break the process's pipe and kill
// it with SIGPIPE over a logging problem.
func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.buf = append(w.buf, b...)
			if len(w.buf) >= maxLine {
				w.emit()
			}
			break
		}
		w.buf = append(w.buf, b[:i]...)
		w.emit()
		b = b[i+1:]
	}
	return n, nil
}

// Flush passes on a last line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit()
	}
}

func (w *lineWriter) emit() {
	line := make([]byte, 0, len(w.prefix)+len(w.buf)+1)
	line = append(line, w.prefix...)
	line = append(line, bytes.TrimSuffix(w.buf, []byte("\r"))...)
	line = append(line, '\n')
	_, _ = w.dst.Write(line)
	w.buf = w.buf[:0]
}
