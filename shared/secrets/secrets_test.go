package secrets

import (
	"context"
	"encoding/base64"
	"encoding/json/v2"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

const secretValue = "ed25519-private-key-material-do-not-leak"

// smServer speaks just enough of Secrets Manager's awsJson1.1 protocol for
// GetSecretValue: POST /, X-Amz-Target secretsmanager.GetSecretValue, JSON
// in and out, errors as 400 {"__type","message"}.
type smServer struct {
	mu       sync.Mutex
	versions map[string]map[string]smVersion // secret -> stage -> version
	requests []map[string]string
	failWith int // when non-zero, answer with this status
}

type smVersion struct {
	id     string
	str    *string
	binary []byte
}

func (s *smServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeSMError(w, http.StatusBadRequest, "InvalidRequestException", "unexpected request shape")
		return
	}
	b, _ := io.ReadAll(r.Body)
	var in map[string]string
	if err := json.Unmarshal(b, &in); err != nil {
		writeSMError(w, http.StatusBadRequest, "InvalidRequestException", "bad json")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, in)
	if s.failWith != 0 {
		writeSMError(w, s.failWith, "InternalServiceError", "try again")
		return
	}
	stage := in["VersionStage"]
	if stage == "" {
		stage = StageCurrent
	}
	stages, ok := s.versions[in["SecretId"]]
	if !ok {
		writeSMError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	v, ok := stages[stage]
	if !ok {
		writeSMError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+stage)
		return
	}
	out := map[string]any{
		"ARN":           "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + in["SecretId"] + "-AbCdEf",
		"Name":          in["SecretId"],
		"VersionId":     v.id,
		"VersionStages": []string{stage},
		"CreatedDate":   1.7e9,
	}
	if v.str != nil {
		out["SecretString"] = *v.str
	}
	if v.binary != nil {
		out["SecretBinary"] = base64.StdEncoding.EncodeToString(v.binary)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.MarshalWrite(w, out)
}

func writeSMError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.MarshalWrite(w, map[string]string{"__type": typ, "message": msg})
}

func newTestManager(t *testing.T, srv *smServer) *Manager {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		BaseEndpoint:     aws.String(hs.URL),
		RetryMaxAttempts: 1,
	})
	m, err := NewManager(client)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManager(t *testing.T) {
	cur, prev := secretValue, "old-"+secretValue
	srv := &smServer{versions: map[string]map[string]smVersion{
		"vip/dev/signing-keys": {
			StageCurrent:  {id: "v2", str: &cur},
			StagePrevious: {id: "v1", str: &prev},
		},
		"vip/dev/binary": {StageCurrent: {id: "b1", binary: []byte{0, 1, 2, 255}}},
	}}
	m := newTestManager(t, srv)
	ctx := context.Background()

	tests := []struct {
		name    string
		id      string
		stage   string // "" calls Secret
		want    string
		wantErr error
	}{
		{"current by default", "vip/dev/signing-keys", "", cur, nil},
		{"previous", "vip/dev/signing-keys", StagePrevious, prev, nil},
		{"binary", "vip/dev/binary", StageCurrent, "\x00\x01\x02\xff", nil},
		{"pending absent", "vip/dev/signing-keys", StagePending, "", ErrNotFound},
		{"unknown secret", "vip/dev/nope", StageCurrent, "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			var err error
			if tt.stage == "" {
				got, err = m.Secret(ctx, tt.id)
			} else {
				got, err = m.SecretStage(ctx, tt.id, tt.stage)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secretValue) {
					t.Fatalf("error leaks the value: %v", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	srv.mu.Lock()
	first := srv.requests[0]
	srv.mu.Unlock()
	if first["SecretId"] != "vip/dev/signing-keys" || first["VersionStage"] != StageCurrent {
		t.Fatalf("request = %v, want SecretId and VersionStage AWSCURRENT", first)
	}
}

func TestManagerServiceError(t *testing.T) {
	m := newTestManager(t, &smServer{failWith: http.StatusInternalServerError})
	_, err := m.Secret(context.Background(), "vip/dev/signing-keys")
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want a service error", err)
	}
	if !strings.Contains(err.Error(), "vip/dev/signing-keys") {
		t.Fatalf("error does not name the secret: %v", err)
	}
}

func TestManagerThroughCache(t *testing.T) {
	v := secretValue
	srv := &smServer{versions: map[string]map[string]smVersion{"k": {StageCurrent: {id: "1", str: &v}}}}
	c, err := NewCache(newTestManager(t, srv), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := c.Secret(context.Background(), "k"); err != nil || string(got) != secretValue {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.requests) != 1 {
		t.Fatalf("GetSecretValue calls = %d, want 1", len(srv.requests))
	}
}

func TestNewManagerRejectsNil(t *testing.T) {
	if _, err := NewManager(nil); err == nil {
		t.Fatal("nil client accepted")
	}
}
