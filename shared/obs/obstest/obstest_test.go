package obstest

import (
	"strings"
	"sync"
	"testing"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = b.Write([]byte("line\n"))
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 50 {
		t.Fatalf("%d whole lines, want 50", n)
	}
}
