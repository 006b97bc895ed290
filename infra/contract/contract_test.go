package contract

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func load(t *testing.T) *Contract {
	t.Helper()
	c, err := Load("../../api-docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCheckResponse proves the checker rejects what the contract forbids, so
// the end-to-end contract checks cannot pass vacuously.
func TestCheckResponse(t *testing.T) {
	c := load(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name    string
		method  string
		path    string
		status  int
		body    string
		wantErr string
	}{
		{"documented health", "GET", "/v1/health", 200, `{"status":"ok","version":"v1"}`, ""},
		{"undocumented member", "GET", "/v1/health", 200, `{"status":"ok","version":"v1","table":"vip-prod-main"}`, "additional"},
		{"wrong enum", "GET", "/v1/health", 200, `{"status":"fine","version":"v1"}`, "status"},
		{"undocumented status", "GET", "/v1/health", 418, `{}`, "418"},
		{"undocumented route", "GET", "/v1/nope", 200, `{}`, "not documented"},
		{"error envelope", "POST", "/v1/auth/login", 401, `{"error":{"code":"invalid_credentials","message":"email or password is incorrect","requestId":"r1"}}`, ""},
		{"error envelope leaking a member", "POST", "/v1/auth/login", 401, `{"error":{"code":"x","message":"m","requestId":"r","stack":"..."}}`, "additional"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:3000"+tc.path, nil)
			err := c.CheckResponse(req, tc.status, jsonHeader, []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected violation: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want a violation mentioning %q", err, tc.wantErr)
			}
		})
	}
}
