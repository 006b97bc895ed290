package awsemu

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/vip-platform/backend/infra/template"
)

var (
	uuidRE       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

func TestNewResourceEnvRepoTemplate(t *testing.T) {
	tpl := load(t, repoTemplate)
	env, err := NewResourceEnv(tpl, nil, "eu-west-1", "111122223333")
	if err != nil {
		t.Fatalf("NewResourceEnv: %v", err)
	}
	dataKey := KeyID("DataKey")
	tests := []struct {
		name string
		expr any
		want string // exact value, or a regexp when it starts with ^
	}{
		{"table ref is its TableName", template.Intrinsic{Fn: "Ref", Arg: "MainTable"}, "vip-dev-main"},
		{"table arn", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"MainTable", "Arn"}}, "arn:aws:dynamodb:eu-west-1:111122223333:table/vip-dev-main"},
		{"stream arn of a table with a stream", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"AuditTable", "StreamArn"}}, `^arn:aws:dynamodb:eu-west-1:111122223333:table/vip-dev-audit/stream/.+$`},
		{"key ref is a UUID", template.Intrinsic{Fn: "Ref", Arg: "DataKey"}, dataKey},
		{"key arn", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"DataKey", "Arn"}}, "arn:aws:kms:eu-west-1:111122223333:key/" + dataKey},
		{"alias ref is its name", template.Intrinsic{Fn: "Ref", Arg: "DataKeyAlias"}, "alias/vip-dev-data"},
		{"secret ref is its ARN", template.Intrinsic{Fn: "Ref", Arg: "SigningKeysSecret"}, `^arn:aws:secretsmanager:eu-west-1:111122223333:secret:vip/dev/signing-keys-[A-Za-z0-9]{6}$`},
		{"log group ref", template.Intrinsic{Fn: "Ref", Arg: "AccessLogGroup"}, "/vip/dev/api-access"},
		{"log group arn", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"AccessLogGroup", "Arn"}}, "arn:aws:logs:eu-west-1:111122223333:log-group:/vip/dev/api-access:*"},
		{"function ref is a generated name", template.Intrinsic{Fn: "Ref", Arg: "HealthFunction"}, `^vip-local-HealthFunction-[A-Z0-9]{12}$`},
		{"function arn", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"HealthFunction", "Arn"}}, `^arn:aws:lambda:eu-west-1:111122223333:function:vip-local-HealthFunction-[A-Z0-9]{12}$`},
		{"rest api ref is an id", template.Intrinsic{Fn: "Ref", Arg: "RestApi"}, `^[a-z0-9]{10}$`},
		{"pseudo parameters", template.Intrinsic{Fn: "Fn::Sub", Arg: "${AWS::Partition}|${AWS::Region}|${AWS::AccountId}|${AWS::StackName}|${AWS::URLSuffix}"}, "aws|eu-west-1|111122223333|vip-local|amazonaws.com"},
		{"parameter default", tpl.Resources["RestApi"].Properties["StageName"], "dev"},
		{"sub over a resource attribute", template.Intrinsic{Fn: "Fn::Sub", Arg: "${DataKey.Arn}"}, "arn:aws:kms:eu-west-1:111122223333:key/" + dataKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tpl.ResolveString(tc.expr, env)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if strings.HasPrefix(tc.want, "^") {
				if !regexp.MustCompile(tc.want).MatchString(got) {
					t.Fatalf("got %q, want match %s", got, tc.want)
				}
			} else if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	if !uuidRE.MatchString(dataKey) {
		t.Errorf("KeyID %q is not UUID-shaped", dataKey)
	}
	if KeyID("DataKey") == KeyID("SecretsKey") {
		t.Error("different logical IDs got the same key ID")
	}
}

func TestNewResourceEnvErrors(t *testing.T) {
	tpl := load(t, repoTemplate)
	env, err := NewResourceEnv(tpl, nil, DefaultRegion, DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		expr any
	}{
		{"stream arn of a table without a stream", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"MainTable", "StreamArn"}}},
		{"unknown attribute", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"DataKey", "Nope"}}},
		{"unknown resource", template.Intrinsic{Fn: "Fn::GetAtt", Arg: []any{"NoSuchThing", "Arn"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tpl.ResolveString(tc.expr, env)
			if !errors.Is(err, template.ErrUnresolvable) {
				t.Fatalf("err = %v, want ErrUnresolvable", err)
			}
		})
	}
	if _, err := env.Ref("NoSuchThing"); !errors.Is(err, ErrUnknownResource) {
		t.Errorf("Ref of unknown resource: err = %v, want ErrUnknownResource", err)
	}
}

func TestNewResourceEnvParams(t *testing.T) {
	tpl := load(t, repoTemplate)
	tests := []struct {
		name    string
		params  map[string]string
		region  string
		want    string // Ref MainTable
		wantErr string
	}{
		{name: "default stage", params: nil, region: DefaultRegion, want: "vip-dev-main"},
		{name: "prod stage", params: map[string]string{"Stage": "prod"}, region: DefaultRegion, want: "vip-prod-main"},
		{name: "value outside AllowedValues", params: map[string]string{"Stage": "staging"}, region: DefaultRegion, wantErr: "AllowedValues"},
		{name: "undeclared parameter", params: map[string]string{"Nope": "x"}, region: DefaultRegion, wantErr: "not declared"},
		{name: "no region", params: nil, region: "", wantErr: "region and account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := NewResourceEnv(tpl, tc.params, tc.region, DefaultAccountID)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ref(t, env, "MainTable"); got != tc.want {
				t.Fatalf("Ref MainTable = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewResourceEnvGeneratedNames(t *testing.T) {
	tpl := load(t, testTemplate)
	env1, err := NewResourceEnv(tpl, nil, DefaultRegion, DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	env2, err := NewResourceEnv(tpl, nil, DefaultRegion, DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ArchiveBucket", "UnnamedTable", "FilesKey", "ApiKeySecret"} {
		if a, b := ref(t, env1, id), ref(t, env2, id); a != b {
			t.Errorf("%s: names differ between envs: %q vs %q", id, a, b)
		}
	}
	if b := ref(t, env1, "ArchiveBucket"); !bucketNameRE.MatchString(b) || !strings.HasPrefix(b, "vip-local-archivebucket-") {
		t.Errorf("generated bucket name %q is not a valid, stack-prefixed bucket name", b)
	}
	if got, want := ref(t, env1, "UploadsBucket"), "test-dev-uploads-"+DefaultAccountID; got != want {
		t.Errorf("Ref UploadsBucket = %q, want %q", got, want)
	}
	if got := ref(t, env1, "UnnamedTable"); !strings.HasPrefix(got, "vip-local-UnnamedTable-") {
		t.Errorf("generated table name %q", got)
	}
}

func TestNewResourceEnvCycle(t *testing.T) {
	tpl, err := template.Parse([]byte(`
Resources:
  A:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${B}-a"
  B:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${A}-b"
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewResourceEnv(tpl, nil, DefaultRegion, DefaultAccountID); err == nil || !strings.Contains(err.Error(), "depends on itself") {
		t.Fatalf("err = %v, want a cycle error", err)
	}
}

func TestNewResourceEnvNameFromOtherResource(t *testing.T) {
	tpl, err := template.Parse([]byte(`
Resources:
  Z:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${A}-copy"
  A:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: first
  Unknown:
    Type: AWS::SQS::Queue
`))
	if err != nil {
		t.Fatal(err)
	}
	env, err := NewResourceEnv(tpl, nil, DefaultRegion, DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ref(t, env, "Z"); got != "first-copy" {
		t.Errorf("Ref Z = %q, want first-copy", got)
	}
	if _, err := env.Ref("Unknown"); !errors.Is(err, template.ErrUnresolvable) {
		t.Errorf("Ref of an unsupported type: err = %v, want ErrUnresolvable", err)
	}
}
