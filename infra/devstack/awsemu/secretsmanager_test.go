package awsemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const (
	tokenA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	tokenB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	tokenC = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

func newSecret(t *testing.T, sm *secretsmanager.Client, name, value string) *secretsmanager.CreateSecretOutput {
	t.Helper()
	out, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(tokenA),
		Description: aws.String("test secret"), KmsKeyId: aws.String("alias/test"),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	return out
}

func stages(t *testing.T, sm *secretsmanager.Client, id string) map[string][]string {
	t.Helper()
	d, err := sm.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeSecret: %v", err)
	}
	for _, s := range d.VersionIdsToStages {
		slices.Sort(s)
	}
	return d.VersionIdsToStages
}

func value(t *testing.T, sm *secretsmanager.Client, id, versionID, stage string) (string, error) {
	t.Helper()
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	out, err := sm.GetSecretValue(t.Context(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SecretString), nil
}

func equalStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestSecretsManagerCreateAndGet(t *testing.T) {
	e := start(t, Options{})
	sm := e.Clients().SecretsManager
	ctx := t.Context()
	created := newSecret(t, sm, "app/db", "v1")
	arn := aws.ToString(created.ARN)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:"+e.Region()+":"+e.AccountID()+":secret:app/db-") || len(arn) != len("arn:aws:secretsmanager:"+e.Region()+":"+e.AccountID()+":secret:app/db-")+6 {
		t.Fatalf("ARN %s", arn)
	}
	if aws.ToString(created.VersionId) != tokenA {
		t.Errorf("VersionId %s, want the ClientRequestToken", aws.ToString(created.VersionId))
	}
	for _, id := range []string{"app/db", arn, strings.TrimSuffix(arn, arn[len(arn)-7:])} {
		t.Run("get by "+id, func(t *testing.T) {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
			if err != nil {
				t.Fatalf("GetSecretValue: %v", err)
			}
			if aws.ToString(out.SecretString) != "v1" || aws.ToString(out.ARN) != arn || !slices.Equal(out.VersionStages, []string{StageCurrent}) ||
				out.CreatedDate == nil || out.CreatedDate.IsZero() {
				t.Fatalf("GetSecretValue = %+v", out)
			}
		})
	}

	bin, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/bin"), SecretBinary: []byte{0, 1, 2, 255}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: bin.ARN})
	if err != nil || !bytes.Equal(got.SecretBinary, []byte{0, 1, 2, 255}) || got.SecretString != nil {
		t.Errorf("binary secret = %v, %v", got, err)
	}

	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/db")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Description) != "test secret" || aws.ToString(d.KmsKeyId) != "alias/test" || aws.ToBool(d.RotationEnabled) ||
		d.RotationEnabled == nil || len(d.Tags) != 1 || d.CreatedDate == nil || d.LastAccessedDate == nil ||
		!equalStages(d.VersionIdsToStages, map[string][]string{tokenA: {StageCurrent}}) {
		t.Errorf("DescribeSecret = %+v", d)
	}
}

func TestSecretsManagerErrors(t *testing.T) {
	e := start(t, Options{})
	sm := e.Clients().SecretsManager
	ctx := t.Context()
	newSecret(t, sm, "app/db", "v1")
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"create existing", func() error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("x")})
			return err
		}, "ResourceExistsException"},
		{"invalid name", func() error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("x")})
			return err
		}, "InvalidParameterException"},
		{"string and binary", func() error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("x"), SecretBinary: []byte("y")})
			return err
		}, "InvalidParameterException"},
		{"get unknown secret", func() error { _, err := value(t, sm, "nope", "", ""); return err }, "ResourceNotFoundException"},
		{"get unknown ARN", func() error {
			_, err := value(t, sm, "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-abcdef", "", "")
			return err
		}, "ResourceNotFoundException"},
		{"get unknown stage", func() error { _, err := value(t, sm, "app/db", "", "AWSPENDING"); return err }, "ResourceNotFoundException"},
		{"get unknown version", func() error { _, err := value(t, sm, "app/db", tokenB, ""); return err }, "ResourceNotFoundException"},
		{"version and stage disagree", func() error { _, err := value(t, sm, "app/db", tokenA, StagePrevious); return err }, "ResourceNotFoundException"},
		{"put without a value", func() error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db")})
			return err
		}, "InvalidRequestException"},
		{"put to unknown secret", func() error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")})
			return err
		}, "ResourceNotFoundException"},
		{"describe unknown", func() error {
			_, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"unsupported operation", func() error {
			_, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("app/db")})
			return err
		}, "UnknownOperationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code := errorCode(tc.call()); code != tc.code {
				t.Fatalf("error code = %q, want %q", code, tc.code)
			}
		})
	}
}

func TestSecretsManagerPutSecretValue(t *testing.T) {
	e := start(t, Options{})
	sm := e.Clients().SecretsManager
	ctx := t.Context()
	newSecret(t, sm, "app/key", "v1")
	put := func(token, val string, stages ...string) (*secretsmanager.PutSecretValueOutput, error) {
		return sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("app/key"), ClientRequestToken: aws.String(token), SecretString: aws.String(val), VersionStages: stages,
		})
	}

	out, err := put(tokenB, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.VersionStages, []string{StageCurrent}) || aws.ToString(out.VersionId) != tokenB {
		t.Errorf("put v2 = %+v", out)
	}
	want := map[string][]string{tokenA: {StagePrevious}, tokenB: {StageCurrent}}
	if got := stages(t, sm, "app/key"); !equalStages(got, want) {
		t.Fatalf("stages after default put = %v, want %v", got, want)
	}

	t.Run("same token, same value is idempotent", func(t *testing.T) {
		if _, err := put(tokenB, "v2"); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if got := stages(t, sm, "app/key"); !equalStages(got, want) {
			t.Fatalf("stages after retry = %v, want %v", got, want)
		}
	})
	t.Run("same token, other value is refused", func(t *testing.T) {
		_, err := put(tokenB, "v2-changed")
		if code := errorCode(err); code != "ResourceExistsException" {
			t.Fatalf("error code %q, want ResourceExistsException", code)
		}
		if v, _ := value(t, sm, "app/key", "", ""); v != "v2" {
			t.Fatalf("current value %q after refused put", v)
		}
	})
	t.Run("explicit AWSPENDING leaves AWSCURRENT alone", func(t *testing.T) {
		if _, err := put(tokenC, "v3", StagePending); err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{tokenA: {StagePrevious}, tokenB: {StageCurrent}, tokenC: {StagePending}}
		if got := stages(t, sm, "app/key"); !equalStages(got, want) {
			t.Fatalf("stages = %v, want %v", got, want)
		}
		cases := []struct{ version, stage, want string }{
			{"", "", "v2"},
			{"", StagePrevious, "v1"},
			{"", StagePending, "v3"},
			{tokenA, "", "v1"},
			{tokenC, StagePending, "v3"},
		}
		for _, c := range cases {
			if got, err := value(t, sm, "app/key", c.version, c.stage); err != nil || got != c.want {
				t.Errorf("GetSecretValue(version %q, stage %q) = %q, %v; want %q", c.version, c.stage, got, err, c.want)
			}
		}
	})
	t.Run("token length is checked", func(t *testing.T) {
		_, err := put("short", "x")
		if code := errorCode(err); code != "InvalidParameterException" {
			t.Fatalf("error code %q", code)
		}
	})
}

func TestSecretsManagerUpdateSecretVersionStage(t *testing.T) {
	e := start(t, Options{})
	sm := e.Clients().SecretsManager
	ctx := t.Context()
	newSecret(t, sm, "app/key", "v1") // tokenA current
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("app/key"), ClientRequestToken: aws.String(tokenB), SecretString: aws.String("v2"), VersionStages: []string{StagePending},
	}); err != nil {
		t.Fatal(err)
	}
	update := func(stage, move, remove string) error {
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("app/key"), VersionStage: aws.String(stage)}
		if move != "" {
			in.MoveToVersionId = aws.String(move)
		}
		if remove != "" {
			in.RemoveFromVersionId = aws.String(remove)
		}
		_, err := sm.UpdateSecretVersionStage(ctx, in)
		return err
	}
	steps := []struct {
		name               string
		stage, move, remov string
		code               string
		want               map[string][]string
	}{
		{"moving AWSCURRENT needs RemoveFromVersionId", StageCurrent, tokenB, "", "InvalidParameterException",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePending}}},
		{"RemoveFromVersionId must hold the label", StageCurrent, tokenB, tokenB, "InvalidParameterException",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePending}}},
		{"unknown target version", StageCurrent, tokenC, tokenA, "ResourceNotFoundException",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePending}}},
		{"AWSCURRENT cannot just be removed", StageCurrent, "", tokenA, "InvalidParameterException",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePending}}},
		{"move AWSCURRENT: AWSPREVIOUS goes to the old version", StageCurrent, tokenB, tokenA, "",
			map[string][]string{tokenA: {StagePrevious}, tokenB: {StageCurrent, StagePending}}},
		{"moving it again onto the holder is a no-op", StageCurrent, tokenB, tokenB, "",
			map[string][]string{tokenA: {StagePrevious}, tokenB: {StageCurrent, StagePending}}},
		{"remove AWSPENDING", StagePending, "", tokenB, "",
			map[string][]string{tokenA: {StagePrevious}, tokenB: {StageCurrent}}},
		{"roll back to the previous version", StageCurrent, tokenA, tokenB, "",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePrevious}}},
		{"custom label onto a version", "BLUE", tokenB, "", "",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePrevious, "BLUE"}}},
		{"neither move nor remove", "BLUE", "", "", "InvalidParameterException",
			map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePrevious, "BLUE"}}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if code := errorCode(update(s.stage, s.move, s.remov)); code != s.code {
				t.Fatalf("error code %q, want %q", code, s.code)
			}
			if got := stages(t, sm, "app/key"); !equalStages(got, s.want) {
				t.Fatalf("stages = %v, want %v", got, s.want)
			}
		})
	}
	if v, err := value(t, sm, "app/key", "", ""); err != nil || v != "v1" {
		t.Errorf("current after rollback = %q, %v", v, err)
	}
}

func TestSecretsManagerListSecretVersionIds(t *testing.T) {
	e := start(t, Options{})
	sm := e.Clients().SecretsManager
	ctx := t.Context()
	newSecret(t, sm, "app/key", "v1")
	for i, tok := range []string{tokenB, tokenC} {
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("app/key"), ClientRequestToken: aws.String(tok), SecretString: aws.String(fmt.Sprint("v", i+2)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	// tokenA is now deprecated (no labels), tokenB previous, tokenC current.
	tests := []struct {
		name       string
		deprecated bool
		want       []string
	}{
		{"labelled versions only", false, []string{tokenC, tokenB}},
		{"with deprecated", true, []string{tokenC, tokenB, tokenA}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := secretsmanager.NewListSecretVersionIdsPaginator(sm, &secretsmanager.ListSecretVersionIdsInput{
				SecretId: aws.String("app/key"), IncludeDeprecated: aws.Bool(tc.deprecated), MaxResults: aws.Int32(1),
			})
			var got []string
			for pages := 0; p.HasMorePages(); pages++ {
				if pages > 5 {
					t.Fatal("paginator does not end")
				}
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range out.Versions {
					got = append(got, aws.ToString(v.VersionId))
					if v.CreatedDate == nil || (aws.ToString(v.VersionId) == tokenC && !slices.Equal(v.VersionStages, []string{StageCurrent})) {
						t.Errorf("entry %+v", v)
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("versions = %v, want %v", got, tc.want)
			}
		})
	}
}

// rotationLambda performs the four steps of AWS's rotation function template
// through the SDK, as the devstack's rotation Lambda will.
type rotationLambda struct {
	sm       *secretsmanager.Client
	newValue string
	failAt   string
	mu       sync.Mutex
	calls    []string
}

func (l *rotationLambda) rotate(ctx context.Context, arn, token string) error {
	l.mu.Lock()
	l.calls = append(l.calls, token)
	l.mu.Unlock()
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		if step == l.failAt {
			return errors.New(step + " failed")
		}
		if err := l.step(ctx, step, arn, token); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}
	return nil
}

func (l *rotationLambda) step(ctx context.Context, step, arn, token string) error {
	d, err := l.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		return err
	}
	if !aws.ToBool(d.RotationEnabled) {
		return errors.New("rotation not enabled")
	}
	st, ok := d.VersionIdsToStages[token]
	if !ok {
		return errors.New("token has no stage")
	}
	if slices.Contains(st, StageCurrent) {
		return nil
	}
	if !slices.Contains(st, StagePending) {
		return errors.New("token not AWSPENDING")
	}
	switch step {
	case "createSecret":
		if _, err := l.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(StageCurrent)}); err != nil {
			return err
		}
		// A retried rotation finds the value it already put.
		_, err := l.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(token), VersionStage: aws.String(StagePending)})
		if err == nil {
			return nil
		}
		if errorCode(err) != "ResourceNotFoundException" {
			return fmt.Errorf("pending version before createSecret: %w", err)
		}
		_, err = l.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(arn), ClientRequestToken: aws.String(token), SecretString: aws.String(l.newValue), VersionStages: []string{StagePending},
		})
		return err
	case "setSecret", "testSecret":
		_, err := l.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(token), VersionStage: aws.String(StagePending)})
		return err
	case "finishSecret":
		var current string
		for id, s := range d.VersionIdsToStages {
			if slices.Contains(s, StageCurrent) {
				current = id
			}
		}
		_, err := l.sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(arn), VersionStage: aws.String(StageCurrent), MoveToVersionId: aws.String(token), RemoveFromVersionId: aws.String(current),
		})
		return err
	}
	return nil
}

func TestSecretsManagerRotateSecret(t *testing.T) {
	lambda := &rotationLambda{newValue: "v2"}
	e := start(t, Options{OnRotate: lambda.rotate})
	sm := e.Clients().SecretsManager
	lambda.sm = sm
	ctx := t.Context()
	created := newSecret(t, sm, "app/signing", "v1")
	const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:vip-local-rotate"
	rotate := func(token string) (*secretsmanager.RotateSecretOutput, error) {
		return sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
			SecretId: created.ARN, ClientRequestToken: aws.String(token), RotationLambdaARN: aws.String(fnARN),
			RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
		})
	}

	out, err := rotate(tokenB)
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	if aws.ToString(out.VersionId) != tokenB || aws.ToString(out.ARN) != aws.ToString(created.ARN) {
		t.Errorf("RotateSecret = %+v", out)
	}
	if v, _ := value(t, sm, "app/signing", "", ""); v != "v2" {
		t.Errorf("AWSCURRENT = %q, want the rotated value", v)
	}
	if v, _ := value(t, sm, "app/signing", "", StagePrevious); v != "v1" {
		t.Errorf("AWSPREVIOUS = %q, want the old value", v)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/signing")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != fnARN || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 ||
		d.LastRotatedDate == nil || d.NextRotationDate == nil {
		t.Errorf("DescribeSecret after rotation = %+v", d)
	}

	t.Run("a second rotation moves the labels again", func(t *testing.T) {
		lambda.newValue = "v3"
		if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("app/signing")}); err != nil {
			t.Fatalf("RotateSecret with stored configuration: %v", err)
		}
		if v, _ := value(t, sm, "app/signing", "", ""); v != "v3" {
			t.Errorf("AWSCURRENT = %q", v)
		}
		if v, _ := value(t, sm, "app/signing", "", StagePrevious); v != "v2" {
			t.Errorf("AWSPREVIOUS = %q", v)
		}
	})

	t.Run("a failed rotation blocks others; retrying it completes it", func(t *testing.T) {
		lambda.failAt, lambda.newValue = "testSecret", "v4"
		_, err := rotate(tokenC)
		if code := errorCode(err); code != "InvalidRequestException" {
			t.Fatalf("failed rotation error code %q", code)
		}
		if v, _ := value(t, sm, "app/signing", "", ""); v != "v3" {
			t.Errorf("AWSCURRENT after failed rotation = %q", v)
		}
		lambda.failAt = ""
		_, err = rotate("dddddddd-dddd-4ddd-8ddd-dddddddddddd")
		if code := errorCode(err); code != "InvalidRequestException" || !strings.Contains(err.Error(), "previous rotation") {
			t.Fatalf("rotation during an unfinished one: %v", err)
		}
		if _, err := rotate(tokenC); err != nil {
			t.Fatalf("retry of the failed rotation: %v", err)
		}
		if v, _ := value(t, sm, "app/signing", "", ""); v != "v4" {
			t.Errorf("AWSCURRENT after retry = %q", v)
		}
	})

	t.Run("clearing AWSPENDING of a failed rotation unblocks a new one", func(t *testing.T) {
		const failed, next = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee", "ffffffff-ffff-4fff-8fff-ffffffffffff"
		lambda.failAt = "createSecret"
		if _, err := rotate(failed); errorCode(err) != "InvalidRequestException" {
			t.Fatalf("failing rotation: %v", err)
		}
		if _, err := value(t, sm, "app/signing", failed, ""); errorCode(err) != "ResourceNotFoundException" {
			t.Fatalf("the failed rotation's empty version has a value: %v", err)
		}
		if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String("app/signing"), VersionStage: aws.String(StagePending), RemoveFromVersionId: aws.String(failed),
		}); err != nil {
			t.Fatal(err)
		}
		lambda.failAt, lambda.newValue = "", "v5"
		if _, err := rotate(next); err != nil {
			t.Fatalf("rotation after clearing AWSPENDING: %v", err)
		}
		if v, _ := value(t, sm, "app/signing", "", ""); v != "v5" {
			t.Errorf("AWSCURRENT = %q", v)
		}
		if v, _ := value(t, sm, "app/signing", "", StagePrevious); v != "v4" {
			t.Errorf("AWSPREVIOUS = %q", v)
		}
	})
}

func TestSecretsManagerRotateSecretConfiguration(t *testing.T) {
	called := 0
	e := start(t, Options{OnRotate: func(context.Context, string, string) error { called++; return nil }})
	sm := e.Clients().SecretsManager
	ctx := t.Context()
	newSecret(t, sm, "app/a", "v1")

	_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("app/a")})
	if code := errorCode(err); code != "InvalidRequestException" {
		t.Fatalf("rotation without a Lambda ARN: code %q", code)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String("app/a"), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f"),
		RotateImmediately: aws.Bool(false), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)},
	}); err != nil {
		t.Fatal(err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/a")})
	if err != nil {
		t.Fatal(err)
	}
	if called != 0 || !aws.ToBool(d.RotationEnabled) || len(d.VersionIdsToStages) != 1 {
		t.Errorf("RotateImmediately=false: hook calls %d, describe %+v", called, d)
	}
	_, err = sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String("app/a"), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(5000)},
	})
	if code := errorCode(err); code != "InvalidParameterException" {
		t.Fatalf("out-of-range rotation rules: code %q", code)
	}

	noHook := start(t, Options{})
	sm2 := noHook.Clients().SecretsManager
	newSecret(t, sm2, "app/b", "v1")
	_, err = sm2.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("app/b"), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f")})
	if code := errorCode(err); code != "InvalidRequestException" {
		t.Fatalf("rotation without OnRotate: code %q", code)
	}
}

// TestLogsCarryNoSecrets runs secret and KMS operations with debug logging
// on and checks the log names operations but never values.
func TestLogsCarryNoSecrets(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, _, env := provisioned(t, repoTemplate, nil, Options{Logger: log})
	c := e.Clients()
	ctx := t.Context()
	const canary = "canary-secret-value-5f3a"
	newSecret(t, c.SecretsManager, "app/canary", canary)
	if _, err := value(t, c.SecretsManager, "app/canary", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KMS.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(ref(t, env, "DataKey")), Plaintext: []byte(canary)}); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	if strings.Contains(logs, canary) {
		t.Fatal("a secret value reached the log")
	}
	for _, want := range []string{"secretsmanager.GetSecretValue", "Encryption called", "TrentService.Encrypt"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
