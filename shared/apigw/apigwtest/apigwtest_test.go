package apigwtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// recordingTB captures Fatalf so the helpers' failure paths can be tested.
type recordingTB struct {
	testing.TB
	failed string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recordingTB in its own goroutine (Fatalf exits it) and
// returns the failure message, "" when f passed.
func run(t *testing.T, f func(tb testing.TB)) string {
	r := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failed
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadProxyEvents(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantFail bool
		wantN    int
	}{
		{"two events sorted", map[string]string{
			"b.json":    `{"httpMethod":"POST","path":"/b","body":"{}","requestContext":{"requestId":"r2"}}`,
			"a.json":    `{"httpMethod":"GET","path":"/a","body":null,"requestContext":{"requestId":"r1"}}`,
			"notes.txt": "ignored",
		}, false, 2},
		{"empty dir", nil, true, 0},
		{"misspelled member", map[string]string{"a.json": `{"httpMethod":"GET","pathParameter":{"id":"x"}}`}, true, 0},
		{"case mismatch", map[string]string{"a.json": `{"HttpMethod":"GET"}`}, true, 0},
		{"not json", map[string]string{"a.json": `{`}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, b := range tt.files {
				write(t, dir, n, b)
			}
			var got []ProxyEvent
			msg := run(t, func(tb testing.TB) { got = LoadProxyEvents(tb, dir) })
			if (msg != "") != tt.wantFail {
				t.Fatalf("failure = %q, want fail=%v", msg, tt.wantFail)
			}
			if tt.wantFail {
				return
			}
			if len(got) != tt.wantN || got[0].Name != "a" || got[0].Request.HTTPMethod != "GET" || got[1].Request.RequestContext.RequestID != "r2" {
				t.Fatalf("events = %+v", got)
			}
		})
	}
}

func TestNewRequestAndPrincipal(t *testing.T) {
	req := NewRequest("POST", "/v1/x", `{"a":1}`)
	if req.Headers["Content-Type"] != "application/json" || req.RequestContext.RequestID != RequestID {
		t.Fatalf("request = %+v", req)
	}
	if NewRequest("GET", "/v1/x", "").Headers["Content-Type"] != "" {
		t.Fatal("Content-Type set without a body")
	}
	p := NewPrincipal("mentor")
	if p.OrgID == "" || NewPrincipal("intern").OrgID != "" {
		t.Fatalf("org assignment wrong: %+v", p)
	}
	auth := WithPrincipal(req, p).RequestContext.Authorizer
	if auth["sub"] != p.UserID || auth["sid"] != p.SessionID || auth["org"] != p.OrgID || auth["role"] != "mentor" {
		t.Fatalf("authorizer = %v", auth)
	}
}
