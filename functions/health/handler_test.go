package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/awsclient"
	"github.com/vip-platform/backend/shared/obs"
)

const (
	testTable = "vip-dev-main"
	// leak is an internal error text that must never reach a client.
	leak = "operation error DynamoDB: GetItem, https response error StatusCode: 400, ResourceNotFoundException: arn:aws:dynamodb:eu-west-1:123456789012:table/vip-dev-main"
)

// fakeDB records GetItem calls and answers with out/err, or waits for the
// context when hang is set.
type fakeDB struct {
	mu    sync.Mutex
	calls []*dynamodb.GetItemInput
	out   *dynamodb.GetItemOutput
	err   error
	hang  bool
}

func (f *fakeDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	f.mu.Unlock()
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.out, f.err
}

func newWrapped(t *testing.T, db DynamoDB, timeout time.Duration, logs *bytes.Buffer) apigw.LambdaHandler {
	t.Helper()
	h, err := NewHandler(db, testTable, "1.2.3", timeout)
	if err != nil {
		t.Fatal(err)
	}
	return apigw.Wrap(functionName, obs.New(logs, functionName, slog.LevelInfo), h.Handle,
		apigw.WithAllowedOrigins([]string{"http://localhost:5173"}))
}

func TestHandle(t *testing.T) {
	present := &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "HEALTH"}}}
	tests := []struct {
		name       string
		method     string
		db         *fakeDB
		wantStatus int
		wantBody   string
		wantCalls  int
		wantLogged string // substring of the single error log, "" for none
	}{
		{"sentinel absent is healthy", http.MethodGet, &fakeDB{out: &dynamodb.GetItemOutput{}}, 200, `{"status":"ok","version":"1.2.3"}`, 1, ""},
		{"sentinel present", http.MethodGet, &fakeDB{out: present}, 200, `{"status":"ok","version":"1.2.3"}`, 1, ""},
		{"table error", http.MethodGet, &fakeDB{err: errors.New(leak)}, 503, `{"status":"unavailable","version":"1.2.3"}`, 1, "ResourceNotFoundException"},
		{"table hangs", http.MethodGet, &fakeDB{hang: true}, 503, `{"status":"unavailable","version":"1.2.3"}`, 1, "context deadline exceeded"},
		{"post not allowed", http.MethodPost, &fakeDB{}, 405, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newWrapped(t, tt.db, 50*time.Millisecond, &logs)
			resp, err := h(context.Background(), apigwtest.NewRequest(tt.method, "/v1/health", ""))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			apigwtest.AssertSecurityHeaders(t, resp)
			if tt.wantBody != "" && resp.Body != tt.wantBody {
				t.Errorf("body = %s, want %s", resp.Body, tt.wantBody)
			}
			if tt.wantStatus == 405 {
				if eb := apigwtest.DecodeError(t, resp); eb.Code != "method_not_allowed" || resp.Headers["Allow"] != "GET" {
					t.Errorf("405 = %+v, Allow %q", eb, resp.Headers["Allow"])
				}
			}
			for _, bad := range []string{"arn:", "DynamoDB", "vip-dev-main", "deadline", "amazonaws"} {
				if strings.Contains(resp.Body, bad) {
					t.Errorf("body %s reveals %q", resp.Body, bad)
				}
			}
			if len(tt.db.calls) != tt.wantCalls {
				t.Fatalf("GetItem calls = %d, want %d", len(tt.db.calls), tt.wantCalls)
			}
			if tt.wantCalls == 1 {
				in := tt.db.calls[0]
				pk, _ := in.Key["PK"].(*types.AttributeValueMemberS)
				sk, _ := in.Key["SK"].(*types.AttributeValueMemberS)
				if aws.ToString(in.TableName) != testTable || pk == nil || pk.Value != "HEALTH" || sk == nil || sk.Value != "HEALTH" || len(in.Key) != 2 {
					t.Errorf("GetItem input = table %q key %v", aws.ToString(in.TableName), in.Key)
				}
			}
			errorLines := strings.Count(logs.String(), `"level":"ERROR"`)
			if tt.wantLogged == "" {
				if errorLines != 0 {
					t.Errorf("unexpected error log: %s", logs.String())
				}
			} else if errorLines != 1 || !strings.Contains(logs.String(), tt.wantLogged) {
				t.Errorf("want the cause logged once with %q, got:\n%s", tt.wantLogged, logs.String())
			}
		})
	}
}

func TestNewHandlerRejects(t *testing.T) {
	tests := []struct {
		name    string
		db      DynamoDB
		table   string
		timeout time.Duration
	}{
		{"nil db", nil, testTable, time.Second},
		{"no table", &fakeDB{}, "", time.Second},
		{"no timeout", &fakeDB{}, testTable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewHandler(tt.db, tt.table, "v", tt.timeout); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestSampleEvents runs every events/health/*.json (the files `sam local
// invoke -e` and `make invoke` use) through the wrapped handler.
func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, filepath.Join("..", "..", "events", "health")) {
		t.Run(ev.Name, func(t *testing.T) {
			db := &fakeDB{out: &dynamodb.GetItemOutput{}}
			resp, err := newWrapped(t, db, time.Second, &bytes.Buffer{})(context.Background(), ev.Request)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Body != `{"status":"ok","version":"1.2.3"}` {
				t.Fatalf("%s: %d %s", ev.Path, resp.StatusCode, resp.Body)
			}
			apigwtest.AssertSecurityHeaders(t, resp)
			origin := apigw.Header(ev.Request, "Origin")
			if got := resp.Headers["Access-Control-Allow-Origin"]; got != origin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q (the event's allowed Origin)", got, origin)
			}
			if ev.Request.RequestContext.RequestID == "" || ev.Request.HTTPMethod != http.MethodGet || ev.Request.Resource != "/v1/health" {
				t.Errorf("sample %s is not a GET /v1/health proxy event with a request ID", ev.Path)
			}
		})
	}
}

// TestAgainstMinidyn wires the handler exactly as main does (awsclient.Load
// with AWS_ENDPOINT_URL_DYNAMODB, as the devstack injects) against a real
// DynamoDB wire protocol.
func TestAgainstMinidyn(t *testing.T) {
	srv := httptest.NewServer(server.NewServer())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION":                  "eu-west-1",
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_DYNAMODB":   srv.URL,
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := awsclient.DynamoDB(cfg)
	call := func() events.APIGatewayProxyResponse {
		t.Helper()
		resp, err := newWrapped(t, db, 2*time.Second, &bytes.Buffer{})(ctx, apigwtest.NewRequest(http.MethodGet, "/v1/health", ""))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	if resp := call(); resp.StatusCode != 503 {
		t.Fatalf("no table: %d %s, want 503", resp.StatusCode, resp.Body)
	}
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(testTable),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp := call(); resp.StatusCode != 200 || resp.Body != `{"status":"ok","version":"1.2.3"}` {
		t.Fatalf("with table: %d %s, want 200", resp.StatusCode, resp.Body)
	}
}
