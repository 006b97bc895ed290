// Package dyntest gives tests a real DynamoDB wire protocol: minidyn's HTTP
// server (github.com/truora/minidyn/server) on 127.0.0.1 and a real
// *dynamodb.Client pointed at it, with tables created from template.yaml's own
// definitions so tests exercise the key schema and GSIs that ship.
//
// minidyn's in-process client is deliberately not used: a missed GetItem
// returns an empty map and the last Query page carries an empty
// LastEvaluatedKey, which makes the SDK paginator loop forever.
//
// Known minidyn gaps tests must live with: items never expire (TTL is not
// applied, so readers filter on the expiry attribute, as they must on real
// DynamoDB too), DescribeTable reports an empty TableStatus, and
// contains/begins_with/size on a missing attribute raise a ValidationException.
package dyntest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/vip-platform/backend/infra/template"
)

// Region is the region the test client signs for; minidyn ignores it.
const Region = "us-east-1"

// New starts a fresh minidyn HTTP server for the test and returns a client
// for it. The server is closed when the test ends.
func New(t testing.TB) *dynamodb.Client {
	t.Helper()
	c, _ := NewWithURL(t)
	return c
}

// NewWithURL is New that also returns the server's base URL, for tests that
// hand the endpoint to code building its own client (e.g. via environment).
func NewWithURL(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	srv := httptest.NewServer(server.NewServer())
	t.Cleanup(srv.Close)
	return Client(srv.URL), srv.URL
}

// Client builds a DynamoDB client for a local endpoint. The aws.Config is
// assembled by hand because config.LoadDefaultConfig fails on machines that set
// AWS_CA_BUNDLE when a custom HTTP client is involved, and because a test must
// never pick up real credentials from the environment.
func Client(endpoint string) *dynamodb.Client {
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

var tableSeq atomic.Int64

var unsafeNameChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// CreateTableFromTemplate creates the AWS::DynamoDB::Table with logical ID
// logicalID from the SAM template at templatePath (key schema, attribute
// definitions, GSIs, LSIs, streams), under a table name unique to the test,
// and returns that name. It waits until DescribeTable sees the table.
func CreateTableFromTemplate(t testing.TB, client *dynamodb.Client, templatePath, logicalID string) string {
	t.Helper()
	tpl, err := template.Load(templatePath)
	if err != nil {
		t.Fatalf("dyntest: %v", err)
	}
	res, ok := tpl.Resources[logicalID]
	if !ok || res.Type != template.TypeTable {
		t.Fatalf("dyntest: no %s %q in %s", template.TypeTable, logicalID, templatePath)
	}
	name := uniqueName(t.Name(), logicalID)
	in, err := createTableInput(name, res.Properties)
	if err != nil {
		t.Fatalf("dyntest: table %s: %v", logicalID, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateTable(ctx, in); err != nil {
		t.Fatalf("dyntest: create table %s: %v", name, err)
	}
	if err := waitForTable(ctx, client, name); err != nil {
		t.Fatalf("dyntest: %v", err)
	}
	return name
}

// uniqueName derives a valid DynamoDB table name (3..255 of [a-zA-Z0-9_.-])
// from the test name; the counter keeps parallel and repeated calls apart.
func uniqueName(testName, logicalID string) string {
	base := unsafeNameChars.ReplaceAllString(testName, "_")
	if len(base) > 180 {
		base = base[:180]
	}
	return fmt.Sprintf("%s-%s-%d", base, logicalID, tableSeq.Add(1))
}

// waitForTable polls DescribeTable instead of using the SDK's TableExists
// waiter, which never finishes against minidyn (empty TableStatus).
func waitForTable(ctx context.Context, client *dynamodb.Client, name string) error {
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table != nil {
			switch out.Table.TableStatus {
			case "", types.TableStatusActive:
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s not ready: %w", name, errors.Join(ctx.Err(), err))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func createTableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, error) {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
	}
	for _, raw := range list(props["AttributeDefinitions"]) {
		m := mapOf(raw)
		n, typ := str(m["AttributeName"]), str(m["AttributeType"])
		if n == "" || typ == "" {
			return nil, errors.New("AttributeDefinitions entry needs AttributeName and AttributeType")
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(n), AttributeType: types.ScalarAttributeType(typ),
		})
	}
	ks, err := keySchema(props["KeySchema"])
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, errors.New("no KeySchema")
	}
	in.KeySchema = ks
	for _, raw := range list(props["GlobalSecondaryIndexes"]) {
		m := mapOf(raw)
		iks, err := keySchema(m["KeySchema"])
		if err != nil {
			return nil, fmt.Errorf("GSI %s: %w", str(m["IndexName"]), err)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(str(m["IndexName"])), KeySchema: iks, Projection: projection(m["Projection"]),
		})
	}
	for _, raw := range list(props["LocalSecondaryIndexes"]) {
		m := mapOf(raw)
		iks, err := keySchema(m["KeySchema"])
		if err != nil {
			return nil, fmt.Errorf("LSI %s: %w", str(m["IndexName"]), err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName: aws.String(str(m["IndexName"])), KeySchema: iks, Projection: projection(m["Projection"]),
		})
	}
	if s := mapOf(props["StreamSpecification"]); s != nil {
		if v := str(s["StreamViewType"]); v != "" {
			in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(v)}
		}
	}
	return in, nil
}

func keySchema(v any) ([]types.KeySchemaElement, error) {
	var out []types.KeySchemaElement
	for _, raw := range list(v) {
		m := mapOf(raw)
		n, kt := str(m["AttributeName"]), str(m["KeyType"])
		if n == "" || (kt != string(types.KeyTypeHash) && kt != string(types.KeyTypeRange)) {
			return nil, fmt.Errorf("bad KeySchema entry %v", m)
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(n), KeyType: types.KeyType(kt)})
	}
	return out, nil
}

func projection(v any) *types.Projection {
	m := mapOf(v)
	p := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	if pt := str(m["ProjectionType"]); pt != "" {
		p.ProjectionType = types.ProjectionType(pt)
	}
	for _, a := range list(m["NonKeyAttributes"]) {
		if s := str(a); s != "" {
			p.NonKeyAttributes = append(p.NonKeyAttributes, s)
		}
	}
	return p
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}
