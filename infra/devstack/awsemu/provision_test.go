package awsemu

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/vip-platform/backend/infra/template"
)

// TestProvision provisions each template and checks, through the SDK, that
// every table, bucket, key, alias and secret it defines exists as defined.
func TestProvision(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		params   map[string]string
		tables   map[string][]string // logical ID → GSI names
		buckets  []string
		keys     []string
		aliases  map[string]string // alias logical ID → key logical ID
		secrets  []string
		versions []string // buckets with versioning on
		absent   []string // buckets whose Condition is false
	}{
		{
			name:    "repo template",
			path:    repoTemplate,
			tables:  map[string][]string{"MainTable": {"GSI1", "GSI2"}, "AuditTable": nil},
			keys:    []string{"DataKey", "SecretsKey"},
			aliases: map[string]string{"DataKeyAlias": "DataKey", "SecretsKeyAlias": "SecretsKey"},
			secrets: []string{"SigningKeysSecret"},
		},
		{
			name:     "test template",
			path:     testTemplate,
			tables:   map[string][]string{"ItemsTable": {"ByOwner"}, "UnnamedTable": nil},
			buckets:  []string{"UploadsBucket", "ArchiveBucket"},
			keys:     []string{"FilesKey"},
			aliases:  map[string]string{"FilesKeyAlias": "FilesKey"},
			secrets:  []string{"ApiKeySecret", "DatabaseSecret", "FixedSecret"},
			versions: []string{"ArchiveBucket"},
			absent:   []string{"ExtraBucket"},
		},
		{
			name:    "test template with the conditional bucket",
			path:    testTemplate,
			params:  map[string]string{"WithExtras": "yes", "Stage": "prod"},
			tables:  map[string][]string{"ItemsTable": {"ByOwner"}},
			buckets: []string{"UploadsBucket", "ArchiveBucket", "ExtraBucket"},
			keys:    []string{"FilesKey"},
			secrets: []string{"FixedSecret"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, tpl, env := provisioned(t, tc.path, tc.params, Options{})
			c := e.Clients()
			ctx := t.Context()
			for id, gsis := range tc.tables {
				name := ref(t, env, id)
				out, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
				if err != nil {
					t.Fatalf("DescribeTable %s: %v", name, err)
				}
				var got []string
				for _, g := range out.Table.GlobalSecondaryIndexes {
					got = append(got, aws.ToString(g.IndexName))
				}
				slices.Sort(got)
				if !slices.Equal(got, gsis) {
					t.Errorf("table %s GSIs = %v, want %v", name, got, gsis)
				}
				if out.Table.TableStatus != ddbtypes.TableStatusActive {
					t.Errorf("table %s status %q, want ACTIVE", name, out.Table.TableStatus)
				}
			}
			for _, id := range tc.buckets {
				if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(ref(t, env, id))}); err != nil {
					t.Errorf("HeadBucket %s: %v", id, err)
				}
			}
			for _, id := range tc.absent {
				name := ref(t, env, id)
				if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
					t.Errorf("bucket %s exists although its condition is false", name)
				}
			}
			for _, id := range tc.versions {
				out, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(ref(t, env, id))})
				if err != nil || out.Status != "Enabled" {
					t.Errorf("bucket %s versioning = %v, %v; want Enabled", id, out, err)
				}
			}
			for _, id := range tc.keys {
				keyID := ref(t, env, id)
				out, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
				if err != nil {
					t.Fatalf("DescribeKey %s: %v", id, err)
				}
				arn, _ := env.GetAtt(id, "Arn")
				if aws.ToString(out.KeyMetadata.Arn) != arn || out.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
					t.Errorf("key %s: arn %s state %s, want %s Enabled", id, aws.ToString(out.KeyMetadata.Arn), out.KeyMetadata.KeyState, arn)
				}
				if desc := tpl.Resources[id].Properties["Description"]; desc != nil && aws.ToString(out.KeyMetadata.Description) != desc {
					t.Errorf("key %s description %q, want %q", id, aws.ToString(out.KeyMetadata.Description), desc)
				}
			}
			for aliasID, keyID := range tc.aliases {
				out, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref(t, env, aliasID))})
				if err != nil {
					t.Fatalf("DescribeKey alias %s: %v", aliasID, err)
				}
				if got, want := aws.ToString(out.KeyMetadata.KeyId), ref(t, env, keyID); got != want {
					t.Errorf("alias %s targets %s, want %s", aliasID, got, want)
				}
			}
			for _, id := range tc.secrets {
				arn := ref(t, env, id)
				d, err := c.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
				if err != nil {
					t.Fatalf("DescribeSecret %s: %v", id, err)
				}
				if aws.ToString(d.ARN) != arn {
					t.Errorf("secret %s ARN %s, want %s", id, aws.ToString(d.ARN), arn)
				}
				if kmsRef, ok := tpl.Resources[id].Properties["KmsKeyId"]; ok {
					want, _ := tpl.ResolveString(kmsRef, env)
					if aws.ToString(d.KmsKeyId) != want {
						t.Errorf("secret %s KmsKeyId %q, want %q", id, aws.ToString(d.KmsKeyId), want)
					}
				}
				v, err := c.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: d.Name})
				if err != nil || aws.ToString(v.SecretString) == "" {
					t.Errorf("GetSecretValue %s: %v (empty value: %v)", id, err, v == nil || v.SecretString == nil)
				}
			}
		})
	}
}

func TestProvisionSecretValues(t *testing.T) {
	e := start(t, Options{})
	tpl := load(t, testTemplate)
	env, err := NewResourceEnv(tpl, nil, e.Region(), e.AccountID())
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	values := SecretValues{"ApiKeySecret": func() (string, error) { calls++; return "generated-for-dev", nil }}
	if err := e.Provision(t.Context(), tpl, env, values); err != nil {
		t.Fatal(err)
	}
	sm := e.Clients().SecretsManager
	get := func(id string) string {
		t.Helper()
		out, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref(t, env, id))})
		if err != nil {
			t.Fatalf("GetSecretValue %s: %v", id, err)
		}
		return aws.ToString(out.SecretString)
	}
	if got := get("ApiKeySecret"); got != "generated-for-dev" {
		t.Errorf("ApiKeySecret = %q, want the SecretValues generator's value", got)
	}
	if got := get("FixedSecret"); got != "not-a-real-secret" {
		t.Errorf("FixedSecret = %q, want its template SecretString", got)
	}
	var db map[string]string
	if err := json.Unmarshal([]byte(get("DatabaseSecret")), &db); err != nil {
		t.Fatalf("DatabaseSecret is not the JSON of SecretStringTemplate: %v", err)
	}
	if db["username"] != "app" || len(db["password"]) != 24 || strings.ContainsAny(db["password"], `"@/\`) {
		t.Errorf("DatabaseSecret = username %q, password of %d chars (excluded chars present: %v)",
			db["username"], len(db["password"]), strings.ContainsAny(db["password"], `"@/\`))
	}

	// A second Provision keeps what exists, including a changed value.
	if _, err := sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(ref(t, env, "ApiKeySecret")), SecretString: aws.String("rotated"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.Provision(t.Context(), tpl, env, values); err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if got := get("ApiKeySecret"); got != "rotated" || calls != 1 {
		t.Errorf("after second Provision: value %q, generator calls %d; want rotated, 1", got, calls)
	}
}

func TestProvisionErrors(t *testing.T) {
	e := start(t, Options{})
	tpl := load(t, testTemplate)
	tests := []struct {
		name    string
		region  string
		values  SecretValues
		wantErr string
	}{
		{"env for another region", "eu-central-1", nil, "pass the same region"},
		{"generator for a non-secret", e.Region(), SecretValues{"ItemsTable": func() (string, error) { return "x", nil }}, "not an AWS::SecretsManager::Secret"},
		{"failing generator", e.Region(), SecretValues{"ApiKeySecret": func() (string, error) { return "", errors.New("no entropy") }}, "no entropy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := NewResourceEnv(tpl, nil, tc.region, e.AccountID())
			if err != nil {
				t.Fatal(err)
			}
			err = e.Provision(t.Context(), tpl, env, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestProvisionTableWithoutThroughput(t *testing.T) {
	e := start(t, Options{})
	tpl, err := template.Parse([]byte(`
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
`))
	if err != nil {
		t.Fatal(err)
	}
	env, err := NewResourceEnv(tpl, nil, e.Region(), e.AccountID())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Provision(t.Context(), tpl, env, nil); err == nil || !strings.Contains(err.Error(), "ProvisionedThroughput") {
		t.Fatalf("err = %v, want CloudFormation's ProvisionedThroughput requirement", err)
	}
}

// TestProvisionRestart restarts over the same data dir: KMS keys persist
// (old ciphertext still decrypts) and Provision succeeds again.
func TestProvisionRestart(t *testing.T) {
	dir := t.TempDir()
	tpl := load(t, repoTemplate)
	run := func(plaintext, ciphertext []byte) []byte {
		e, err := Start(t.Context(), Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := e.Close(); err != nil {
				t.Error(err)
			}
		}()
		env, err := NewResourceEnv(tpl, nil, e.Region(), e.AccountID())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Provision(t.Context(), tpl, env, nil); err != nil {
			t.Fatalf("Provision: %v", err)
		}
		k := e.Clients().KMS
		if ciphertext != nil {
			out, err := k.Decrypt(t.Context(), &kms.DecryptInput{CiphertextBlob: ciphertext})
			if err != nil || string(out.Plaintext) != string(plaintext) {
				t.Fatalf("decrypt after restart: %v", err)
			}
			return nil
		}
		out, err := k.Encrypt(t.Context(), &kms.EncryptInput{KeyId: aws.String("alias/vip-dev-data"), Plaintext: plaintext})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob
	}
	pt := []byte("survives a restart")
	ct := run(pt, nil)
	run(pt, ct)
}
