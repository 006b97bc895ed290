package awsemu

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vip-platform/backend/infra/template"
)

// StackName is what AWS::StackName resolves to locally; generated names
// start with it, as CloudFormation's do.
const StackName = "vip-local"

// ErrUnknownResource is returned (wrapping template.ErrUnresolvable) for a
// !Ref or !GetAtt the devstack has no local name for.
var ErrUnknownResource = fmt.Errorf("no local name: %w", template.ErrUnresolvable)

// names holds what every resource's !Ref and !GetAtt resolve to, computed once
// so the returned Env is read-only and safe for concurrent use.
type names struct {
	refs  map[string]string
	attrs map[string]map[string]string
	types map[string]string
}

// NewResourceEnv returns the Env that resolves the template's intrinsics to
// the names the emulators use locally, so the devstack's function
// environment, its IAM-shaped ARNs and Provision agree on one set of names.
// params are parameter values (unset ones fall back to their Default); a
// value outside a parameter's AllowedValues, or a parameter the template does
// not declare, is an error.
func NewResourceEnv(t *template.Template, params map[string]string, region, account string) (template.Env, error) {
	if region == "" || account == "" {
		return template.Env{}, errors.New("resource env: region and account are required")
	}
	for name, v := range params {
		p, ok := t.Parameters[name]
		if !ok {
			return template.Env{}, fmt.Errorf("resource env: parameter %q is not declared in the template", name)
		}
		if len(p.AllowedValues) > 0 && !slices.ContainsFunc(p.AllowedValues, func(a any) bool { return fmt.Sprint(a) == v }) {
			return template.Env{}, fmt.Errorf("resource env: parameter %s=%q is not one of its AllowedValues %v", name, v, p.AllowedValues)
		}
	}
	pseudo := map[string]string{
		"AWS::Region":           region,
		"AWS::AccountId":        account,
		"AWS::Partition":        "aws",
		"AWS::StackName":        StackName,
		"AWS::StackId":          fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", region, account, StackName, derivedUUID("stack", StackName)),
		"AWS::URLSuffix":        "amazonaws.com",
		"AWS::NoValue":          "",
		"AWS::NotificationARNs": "",
	}
	n := &names{refs: map[string]string{}, attrs: map[string]map[string]string{}, types: map[string]string{}}
	b := &nameBuilder{t: t, n: n, region: region, account: account, visiting: map[string]bool{}}
	b.env = template.Env{Params: maps.Clone(params), Pseudo: pseudo, Ref: b.ref, GetAtt: b.getAtt}
	ids := slices.Sorted(maps.Keys(t.Resources))
	for _, id := range ids {
		if _, known := namers[t.Resources[id].Type]; !known {
			continue
		}
		if err := b.build(id); err != nil {
			return template.Env{}, fmt.Errorf("resource env: %w", err)
		}
	}
	return template.Env{Params: maps.Clone(params), Pseudo: pseudo, Ref: n.ref, GetAtt: n.getAtt}, nil
}

func (n *names) ref(id string) (string, error) {
	if v, ok := n.refs[id]; ok {
		return v, nil
	}
	return "", fmt.Errorf("!Ref %s: %w", id, ErrUnknownResource)
}

func (n *names) getAtt(id, attr string) (string, error) {
	if a, ok := n.attrs[id]; ok {
		if v, ok := a[attr]; ok {
			return v, nil
		}
		return "", fmt.Errorf("!GetAtt %s.%s: %s has no attribute %s locally: %w", id, attr, n.types[id], attr, ErrUnknownResource)
	}
	return "", fmt.Errorf("!GetAtt %s.%s: %w", id, attr, ErrUnknownResource)
}

// nameBuilder computes names on demand while NewResourceEnv runs, so a name
// that depends on another resource's name (TableName: !Sub "${Other}-x")
// resolves in any order; visiting catches reference cycles.
type nameBuilder struct {
	t        *template.Template
	n        *names
	env      template.Env
	region   string
	account  string
	visiting map[string]bool
}

func (b *nameBuilder) build(id string) error {
	if _, done := b.n.refs[id]; done {
		return nil
	}
	r, ok := b.t.Resources[id]
	if !ok {
		return fmt.Errorf("no resource %s", id)
	}
	namer, ok := namers[r.Type]
	if !ok {
		return fmt.Errorf("%s (%s): %w", id, r.Type, ErrUnknownResource)
	}
	if b.visiting[id] {
		return fmt.Errorf("%s: its name depends on itself", id)
	}
	b.visiting[id] = true
	defer delete(b.visiting, id)
	ref, attrs, err := namer(b, r)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	b.n.refs[id] = ref
	b.n.attrs[id] = attrs
	b.n.types[id] = r.Type
	return nil
}

func (b *nameBuilder) ref(id string) (string, error) {
	if err := b.build(id); err != nil {
		return "", err
	}
	return b.n.ref(id)
}

func (b *nameBuilder) getAtt(id, attr string) (string, error) {
	if err := b.build(id); err != nil {
		return "", err
	}
	return b.n.getAtt(id, attr)
}

// prop resolves a string property, "" when absent.
func (b *nameBuilder) prop(r template.Resource, key string) (string, error) {
	v, ok := r.Properties[key]
	if !ok {
		return "", nil
	}
	s, err := b.t.ResolveString(v, b.env)
	if err != nil {
		return "", fmt.Errorf("property %s: %w", key, err)
	}
	return s, nil
}

// namer computes a resource's !Ref value and its !GetAtt attributes.
type namer func(b *nameBuilder, r template.Resource) (string, map[string]string, error)

var namers = map[string]namer{
	template.TypeTable:     tableNames,
	template.TypeBucket:    bucketNames,
	template.TypeKMSKey:    keyNames,
	template.TypeKMSAlias:  aliasNames,
	template.TypeSecret:    secretNames,
	template.TypeLogGroup:  logGroupNames,
	template.TypeFunction:  functionNames,
	template.TypeAPI:       restAPINames,
	template.TypeWebSocket: websocketAPINames,
}

func tableNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	name, err := b.prop(r, "TableName")
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = generatedName(r.LogicalID, 255, false)
	}
	arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", b.region, b.account, name)
	attrs := map[string]string{"Arn": arn}
	if _, ok := r.Properties["StreamSpecification"]; ok {
		// Real stream labels are creation timestamps; a fixed one keeps the
		// ARN stable across restarts.
		attrs["StreamArn"] = arn + "/stream/1970-01-01T00:00:00.000"
	}
	return name, attrs, nil
}

func bucketNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	name, err := b.prop(r, "BucketName")
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = generatedName(r.LogicalID, 63, true)
	}
	return name, map[string]string{
		"Arn":                 "arn:aws:s3:::" + name,
		"DomainName":          name + ".s3.amazonaws.com",
		"RegionalDomainName":  fmt.Sprintf("%s.s3.%s.amazonaws.com", name, b.region),
		"DualStackDomainName": fmt.Sprintf("%s.s3.dualstack.%s.amazonaws.com", name, b.region),
		"WebsiteURL":          fmt.Sprintf("http://%s.s3-website-%s.amazonaws.com", name, b.region),
	}, nil
}

func keyNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	id := KeyID(r.LogicalID)
	return id, map[string]string{
		"Arn":   fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", b.region, b.account, id),
		"KeyId": id,
	}, nil
}

func aliasNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	name, err := b.prop(r, "AliasName")
	if err != nil {
		return "", nil, err
	}
	if !strings.HasPrefix(name, "alias/") {
		return "", nil, fmt.Errorf("AliasName %q must start with alias/", name)
	}
	return name, map[string]string{}, nil
}

func secretNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	name, err := b.prop(r, "Name")
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = generatedName(r.LogicalID, 256, false)
	}
	arn := secretARN(b.region, b.account, name)
	return arn, map[string]string{"Id": arn}, nil
}

func logGroupNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	name, err := b.prop(r, "LogGroupName")
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = generatedName(r.LogicalID, 512, false)
	}
	return name, map[string]string{
		"Arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", b.region, b.account, name),
	}, nil
}

func functionNames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	name, err := b.prop(r, "FunctionName")
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = generatedName(r.LogicalID, 64, false)
	}
	return name, map[string]string{
		"Arn": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", b.region, b.account, name),
	}, nil
}

func restAPINames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	id := apiID(r.LogicalID)
	return id, map[string]string{
		"RootResourceId": apiID(r.LogicalID + "/root"),
	}, nil
}

func websocketAPINames(b *nameBuilder, r template.Resource) (string, map[string]string, error) {
	id := apiID(r.LogicalID)
	proto, err := b.prop(r, "ProtocolType")
	if err != nil {
		return "", nil, err
	}
	scheme := "https"
	if proto == "WEBSOCKET" {
		scheme = "wss"
	}
	return id, map[string]string{
		"ApiId":       id,
		"ApiEndpoint": fmt.Sprintf("%s://%s.execute-api.%s.amazonaws.com", scheme, id, b.region),
	}, nil
}

// KeyID is the local key ID of the AWS::KMS::Key with this logical ID: a UUID
// derived from the logical ID, so it is the same at every start and a
// persisted KMS data dir keeps working.
func KeyID(logicalID string) string {
	return derivedUUID("kms-key", StackName+"/"+logicalID)
}

func derivedUUID(kind, name string) string {
	sum := sha256.Sum256([]byte("awsemu/" + kind + "/" + name))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x40 // shaped like the v4 IDs KMS hands out
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// derivedSuffix is n characters of [A-Za-z0-9] derived from seed.
func derivedSuffix(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	out := make([]byte, n)
	for i := range out {
		out[i] = alnum[int(sum[i%len(sum)])%len(alnum)]
	}
	return string(out)
}

// secretARN is the ARN Secrets Manager gives a secret: its name plus a dash
// and six characters, here derived rather than random so restarts agree.
func secretARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, account, name,
		derivedSuffix("secret/"+region+"/"+account+"/"+name, 6))
}

// generatedName mimics CloudFormation's "<stack>-<LogicalId>-<random>" for
// resources without an explicit name, deterministic and within maxLen.
func generatedName(logicalID string, maxLen int, lower bool) string {
	suffix := strings.ToUpper(derivedSuffix("name/"+logicalID, 12))
	base := StackName + "-" + logicalID
	if lower {
		base = strings.ToLower(base)
		suffix = strings.ToLower(suffix)
	}
	if len(base)+1+len(suffix) > maxLen {
		base = base[:maxLen-1-len(suffix)]
	}
	return base + "-" + suffix
}

// apiID is a 10-character lower-case API Gateway ID derived from seed.
func apiID(seed string) string {
	return strings.ToLower(derivedSuffix("api/"+seed, 10))
}
