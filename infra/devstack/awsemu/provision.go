package awsemu

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vip-platform/backend/infra/template"
)

// SecretValues maps a secret's logical ID to a generator of a fresh dev
// value. Secrets without an entry get their template SecretString, else a
// value built from GenerateSecretString, else 32 random bytes, base64url.
type SecretValues map[string]func() (string, error)

// tableReadyTimeout bounds the wait for a created table to answer
// DescribeTable with every index active.
const tableReadyTimeout = 10 * time.Second

// Provision creates, from the template's own definitions resolved through
// env (from NewResourceEnv with this emulator's region and account), every
// KMS key and alias, DynamoDB table, S3 bucket and Secrets Manager secret.
// Resources whose Condition is false are skipped. What already exists is
// left as it is, so a second Provision, or a restart over a kept KMS data
// dir, succeeds without touching data.
func (e *Emulators) Provision(ctx context.Context, t *template.Template, env template.Env, secrets SecretValues) error {
	if r, a := env.Pseudo["AWS::Region"], env.Pseudo["AWS::AccountId"]; r != e.opts.Region || a != e.opts.AccountID {
		return fmt.Errorf("provision: env is for %s/%s but the emulators serve %s/%s; pass the same region and account to NewResourceEnv and Start",
			r, a, e.opts.Region, e.opts.AccountID)
	}
	for id := range secrets {
		if r, ok := t.Resources[id]; !ok || r.Type != template.TypeSecret {
			return fmt.Errorf("provision: SecretValues names %q, which is not an %s in the template", id, template.TypeSecret)
		}
	}
	p := &provisioner{e: e, t: t, env: env, clients: e.Clients()}
	steps := []struct {
		typ string
		fn  func(context.Context, template.Resource) error
	}{
		{template.TypeKMSKey, p.key},
		{template.TypeKMSAlias, p.alias},
		{template.TypeTable, p.table},
		{template.TypeBucket, p.bucket},
		{template.TypeSecret, func(ctx context.Context, r template.Resource) error { return p.secret(r, secrets[r.LogicalID]) }},
	}
	for _, s := range steps {
		for _, r := range t.ResourcesOfType(s.typ) {
			on, err := p.enabled(r)
			if err != nil {
				return fmt.Errorf("provision %s: %w", r.LogicalID, err)
			}
			if !on {
				e.log.Debug("skipping resource: condition is false", "resource", r.LogicalID, "condition", r.Condition)
				continue
			}
			if err := s.fn(ctx, r); err != nil {
				return fmt.Errorf("provision %s %s: %w", s.typ, r.LogicalID, err)
			}
		}
	}
	return nil
}

type provisioner struct {
	e       *Emulators
	t       *template.Template
	env     template.Env
	clients Clients
}

func (p *provisioner) enabled(r template.Resource) (bool, error) {
	if r.Condition == "" {
		return true, nil
	}
	v, err := p.t.Resolve(template.Intrinsic{Fn: "Condition", Arg: r.Condition}, p.env)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is not boolean", r.Condition)
	}
	return b, nil
}

// props resolves all of r's properties through env.
func (p *provisioner) props(r template.Resource) (map[string]any, error) {
	v, err := p.t.Resolve(r.Properties, p.env)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

func (p *provisioner) key(_ context.Context, r template.Resource) error {
	props, err := p.props(r)
	if err != nil {
		return err
	}
	id, err := p.env.Ref(r.LogicalID)
	if err != nil {
		return err
	}
	if spec := str(props["KeySpec"]); spec != "" && spec != "SYMMETRIC_DEFAULT" {
		return fmt.Errorf("KeySpec %s: only SYMMETRIC_DEFAULT keys are provisioned locally", spec)
	}
	if usage := str(props["KeyUsage"]); usage != "" && usage != "ENCRYPT_DECRYPT" {
		return fmt.Errorf("KeyUsage %s: only ENCRYPT_DECRYPT keys are provisioned locally", usage)
	}
	spec := keySpec{ID: id, Description: str(props["Description"]), Rotation: boolean(props["EnableKeyRotation"])}
	if v, ok := props["Enabled"]; ok && !boolean(v) {
		spec.Disabled = true
	}
	if pol, ok := props["KeyPolicy"]; ok {
		if s, isStr := pol.(string); isStr {
			spec.Policy = s
		} else {
			b, err := json.Marshal(pol)
			if err != nil {
				return fmt.Errorf("KeyPolicy: %w", err)
			}
			spec.Policy = string(b)
		}
	}
	created, err := p.e.kms.ensureKey(spec)
	if err != nil {
		return err
	}
	p.e.log.Debug("KMS key ready", "resource", r.LogicalID, "key_id", id, "created", created)
	return nil
}

func (p *provisioner) alias(_ context.Context, r template.Resource) error {
	props, err := p.props(r)
	if err != nil {
		return err
	}
	name := str(props["AliasName"])
	target := str(props["TargetKeyId"])
	if i := strings.LastIndex(target, ":key/"); i >= 0 {
		target = target[i+len(":key/"):]
	}
	if name == "" || target == "" {
		return errors.New("AliasName and TargetKeyId are required")
	}
	if err := p.e.kms.ensureAlias(name, target); err != nil {
		return err
	}
	p.e.log.Debug("KMS alias ready", "resource", r.LogicalID, "alias", name, "key_id", target)
	return nil
}

func (p *provisioner) table(ctx context.Context, r template.Resource) error {
	props, err := p.props(r)
	if err != nil {
		return err
	}
	name, err := p.env.Ref(r.LogicalID)
	if err != nil {
		return err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	fields := []struct {
		key string
		dst any
	}{
		{"AttributeDefinitions", &in.AttributeDefinitions},
		{"KeySchema", &in.KeySchema},
		{"GlobalSecondaryIndexes", &in.GlobalSecondaryIndexes},
		{"LocalSecondaryIndexes", &in.LocalSecondaryIndexes},
		{"ProvisionedThroughput", &in.ProvisionedThroughput},
		{"StreamSpecification", &in.StreamSpecification},
		{"Tags", &in.Tags},
	}
	for _, f := range fields {
		if err := decodeProp(props, f.key, f.dst); err != nil {
			return err
		}
	}
	if in.StreamSpecification != nil {
		in.StreamSpecification.StreamEnabled = aws.Bool(in.StreamSpecification.StreamViewType != "")
	}
	// CloudFormation's SSESpecification names the key KMSMasterKeyId, the
	// API's SSEKMSKeyId.
	if sse, ok := props["SSESpecification"].(map[string]any); ok {
		in.SSESpecification = &ddbtypes.SSESpecification{
			Enabled:        aws.Bool(boolean(sse["SSEEnabled"])),
			SSEType:        ddbtypes.SSEType(str(sse["SSEType"])),
			KMSMasterKeyId: optional(str(sse["KMSMasterKeyId"])),
		}
	}
	if v, ok := props["DeletionProtectionEnabled"]; ok {
		in.DeletionProtectionEnabled = aws.Bool(boolean(v))
	}
	in.BillingMode = ddbtypes.BillingMode(str(props["BillingMode"]))
	if in.BillingMode == "" {
		in.BillingMode = ddbtypes.BillingModeProvisioned
	}
	if in.BillingMode == ddbtypes.BillingModeProvisioned && in.ProvisionedThroughput == nil {
		return errors.New("ProvisionedThroughput is required when BillingMode is PROVISIONED (the default)")
	}
	if len(in.KeySchema) == 0 || len(in.AttributeDefinitions) == 0 {
		return errors.New("KeySchema and AttributeDefinitions are required")
	}
	if _, ok := props["TimeToLiveSpecification"]; ok {
		p.e.log.Debug("TimeToLiveSpecification is not emulated (minidyn): items never expire; filter on the expiry attribute",
			"table", name)
	}
	db := p.clients.DynamoDB
	if _, err := db.CreateTable(ctx, in); err != nil {
		var inUse *ddbtypes.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", name, err)
		}
		p.e.log.Debug("table exists", "table", name)
	}
	if err := waitTableReady(ctx, db, name); err != nil {
		return err
	}
	p.e.log.Debug("DynamoDB table ready", "resource", r.LogicalID, "table", name)
	return nil
}

// waitTableReady polls DescribeTable until the table and its indexes are
// active; minidyn may report GSIs as CREATING for a moment.
func waitTableReady(ctx context.Context, db *dynamodb.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, tableReadyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && tableActive(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New("table or index not ACTIVE")
			}
			return fmt.Errorf("wait for table %s: %w (%w)", name, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func tableActive(t *ddbtypes.TableDescription) bool {
	if t == nil || (t.TableStatus != "" && t.TableStatus != ddbtypes.TableStatusActive) {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != ddbtypes.IndexStatusActive {
			return false
		}
	}
	return true
}

func (p *provisioner) bucket(ctx context.Context, r template.Resource) error {
	props, err := p.props(r)
	if err != nil {
		return err
	}
	name, err := p.env.Ref(r.LogicalID)
	if err != nil {
		return err
	}
	c := p.clients.S3
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		var exists *s3types.BucketAlreadyExists
		if !errors.As(err, &owned) && !errors.As(err, &exists) {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if vc, ok := props["VersioningConfiguration"].(map[string]any); ok && str(vc["Status"]) == "Enabled" {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		}); err != nil {
			return fmt.Errorf("enable versioning on %s: %w", name, err)
		}
	}
	p.e.log.Debug("S3 bucket ready", "resource", r.LogicalID, "bucket", name)
	return nil
}

func (p *provisioner) secret(r template.Resource, gen func() (string, error)) error {
	props, err := p.props(r)
	if err != nil {
		return err
	}
	arn, err := p.env.Ref(r.LogicalID)
	if err != nil {
		return err
	}
	name, err := secretNameFromARN(arn)
	if err != nil {
		return err
	}
	if gen == nil {
		if gen, err = defaultSecretValue(props); err != nil {
			return err
		}
	}
	var tags []smTag
	if err := decodeProp(props, "Tags", &tags); err != nil {
		return err
	}
	created, err := p.e.secrets.provision(arn, name, str(props["Description"]), str(props["KmsKeyId"]), tags, gen)
	if err != nil {
		return err
	}
	p.e.log.Debug("secret ready", "resource", r.LogicalID, "name", name, "created", created)
	return nil
}

func secretNameFromARN(arn string) (string, error) {
	_, rest, ok := strings.Cut(arn, ":secret:")
	if !ok || len(rest) < 8 || rest[len(rest)-7] != '-' {
		return "", fmt.Errorf("%q is not a secret ARN (…:secret:<name>-<6 chars>)", arn)
	}
	return rest[:len(rest)-7], nil
}

// defaultSecretValue picks the generator for a secret without a SecretValues
// entry: its SecretString, its GenerateSecretString, or 32 random bytes.
func defaultSecretValue(props map[string]any) (func() (string, error), error) {
	if s, ok := props["SecretString"]; ok {
		v := str(s)
		return func() (string, error) { return v, nil }, nil
	}
	if g, ok := props["GenerateSecretString"].(map[string]any); ok {
		spec, err := parseGenerateSpec(g)
		if err != nil {
			return nil, fmt.Errorf("GenerateSecretString: %w", err)
		}
		return spec.generate, nil
	}
	return func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}, nil
}

// generateSpec is CloudFormation's GenerateSecretString, which matches
// Secrets Manager's GetRandomPassword plus an optional JSON template.
type generateSpec struct {
	length         int
	classes        []string
	requireEach    bool
	template       map[string]any
	generateKey    string
	excludeChars   string
	hasJSONWrapper bool
}

const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func parseGenerateSpec(g map[string]any) (*generateSpec, error) {
	s := &generateSpec{length: 32, requireEach: true, excludeChars: str(g["ExcludeCharacters"])}
	if v, ok := g["PasswordLength"]; ok {
		n, err := strconv.Atoi(str(v))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("PasswordLength %v must be 1..4096", v)
		}
		s.length = n
	}
	if v, ok := g["RequireEachIncludedType"]; ok {
		s.requireEach = boolean(v)
	}
	for _, c := range []struct {
		exclude string
		chars   string
	}{
		{"ExcludeLowercase", "abcdefghijklmnopqrstuvwxyz"},
		{"ExcludeUppercase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
		{"ExcludeNumbers", "0123456789"},
		{"ExcludePunctuation", punctuation},
	} {
		if boolean(g[c.exclude]) {
			continue
		}
		if chars := without(c.chars, s.excludeChars); chars != "" {
			s.classes = append(s.classes, chars)
		}
	}
	if boolean(g["IncludeSpace"]) && !strings.Contains(s.excludeChars, " ") {
		s.classes = append(s.classes, " ")
	}
	if len(s.classes) == 0 {
		return nil, errors.New("every character class is excluded")
	}
	if s.requireEach && s.length < len(s.classes) {
		return nil, fmt.Errorf("PasswordLength %d cannot include each of %d character types", s.length, len(s.classes))
	}
	tmpl, key := str(g["SecretStringTemplate"]), str(g["GenerateStringKey"])
	if (tmpl == "") != (key == "") {
		return nil, errors.New("SecretStringTemplate and GenerateStringKey go together")
	}
	if tmpl != "" {
		if err := json.Unmarshal([]byte(tmpl), &s.template); err != nil {
			return nil, fmt.Errorf("SecretStringTemplate is not a JSON object: %w", err)
		}
		s.generateKey, s.hasJSONWrapper = key, true
	}
	return s, nil
}

func (s *generateSpec) generate() (string, error) {
	all := strings.Join(s.classes, "")
	out := make([]byte, 0, s.length)
	if s.requireEach {
		for _, c := range s.classes {
			ch, err := pick(c)
			if err != nil {
				return "", err
			}
			out = append(out, ch)
		}
	}
	for len(out) < s.length {
		ch, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	// Shuffle so the required characters are not always first.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	if !s.hasJSONWrapper {
		return string(out), nil
	}
	doc := make(map[string]any, len(s.template)+1)
	for k, v := range s.template {
		doc[k] = v
	}
	doc[s.generateKey] = string(out)
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func pick(chars string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
	if err != nil {
		return 0, err
	}
	return chars[n.Int64()], nil
}

func without(chars, exclude string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(exclude, r) {
			return -1
		}
		return r
	}, chars)
}

// decodeProp decodes props[key] into dst through JSON: CloudFormation's
// property names for these shapes are the API's member names.
func decodeProp(props map[string]any, key string, dst any) error {
	v, ok := props[key]
	if !ok {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("property %s: %w", key, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("property %s: %w", key, err)
	}
	return nil
}

// str renders a resolved scalar property as a string ("" when absent).
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// boolean reads a property CloudFormation accepts as true or "true".
func boolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	}
	return false
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
