package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json/v2"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/vip-platform/backend/infra/devstack/awsemu"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/audit/audittest"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/obs"
)

const (
	rotationLambdaARN = "arn:aws:lambda:us-east-1:123456789012:function:vip-local-SigningKeysRotateFunction"
	// The issuer and audience of the dev stage's access tokens.
	apiIssuer   = "vip-dev"
	apiAudience = "vip-dev-api"
)

var base = time.Date(2031, 7, 8, 9, 10, 11, 0, time.UTC)

// syncBuffer collects log output.
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

// env is the rotation function against the devstack's Secrets Manager
// emulator, whose RotateSecret drives the four steps through OnRotate, as
// the devstack will.
type env struct {
	sm    *secretsmanager.Client
	h     *Handler
	audit *audittest.Recorder
	logs  *syncBuffer

	mu  sync.Mutex
	now time.Time
	// driver runs a rotation when RotateSecret is called; fourSteps unless
	// a test replaces it.
	driver func(ctx context.Context, arn, token string) error
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{audit: &audittest.Recorder{}, logs: &syncBuffer{}, now: base}
	e.driver = e.fourSteps
	emu, err := awsemu.Start(t.Context(), awsemu.Options{
		Host: "127.0.0.1", DataDir: t.TempDir(),
		OnRotate: func(ctx context.Context, arn, token string) error {
			e.mu.Lock()
			d := e.driver
			e.mu.Unlock()
			return d(ctx, arn, token)
		},
	})
	if err != nil {
		t.Fatalf("awsemu.Start: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	e.sm = emu.Clients().SecretsManager
	if e.h, err = NewHandler(Config{SecretsManager: e.sm, Audit: e.audit,
		Log: obs.New(e.logs, functionName, slog.LevelDebug), Now: e.clock}); err != nil {
		t.Fatal(err)
	}
	return e
}

// clock is the handler's clock; the steps run on the emulator's goroutines.
func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *env) setDriver(d func(ctx context.Context, arn, token string) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.driver = d
}

// fourSteps is what Secrets Manager does with a rotation function.
func (e *env) fourSteps(ctx context.Context, arn, tok string) error {
	for _, step := range []string{StepCreate, StepSet, StepTest, StepFinish} {
		if err := e.h.Handle(ctx, Event{Step: step, SecretID: arn, ClientRequestToken: tok}); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}
	return nil
}

// secret creates a secret holding ring (nil: no value at all, as
// CloudFormation creates the template's SigningKeysSecret) and returns its
// ARN and the initial version ID.
func (e *env) secret(t *testing.T, name string, value []byte) (arn, version string) {
	t.Helper()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name)}
	if value != nil {
		in.SecretString = aws.String(string(value))
	}
	out, err := e.sm.CreateSecret(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	return aws.ToString(out.ARN), aws.ToString(out.VersionId)
}

func (e *env) rotate(ctx context.Context, arn string) (string, error) {
	out, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotationLambdaARN),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.VersionId), nil
}

func (e *env) mustRotate(t *testing.T, arn string) string {
	t.Helper()
	v, err := e.rotate(t.Context(), arn)
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	return v
}

// ringAt reads the ring of stage (and its version ID).
func (e *env) ringAt(t *testing.T, arn, stage string) (*token.KeyRing, string) {
	t.Helper()
	out, err := e.sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatalf("GetSecretValue %s: %v", stage, err)
	}
	r, err := token.ParseKeyRing([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		t.Fatalf("%s is not a key ring: %v", stage, err)
	}
	return r, aws.ToString(out.VersionId)
}

func (e *env) stages(t *testing.T, arn string) map[string][]string {
	t.Helper()
	d, err := e.sm.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.VersionIdsToStages {
		slices.Sort(s)
	}
	return d.VersionIdsToStages
}

func newKey(t *testing.T) token.Key {
	t.Helper()
	k, err := token.NewKey(base.Add(-24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marshal(t *testing.T, r *token.KeyRing) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issue signs an API access token with ring's current key.
func issue(t *testing.T, ring *token.KeyRing) string {
	t.Helper()
	iss, err := token.NewIssuer(token.StaticKeyRing{Ring: ring}, token.IssuerConfig{Issuer: apiIssuer, Audience: apiAudience, Now: func() time.Time { return base }})
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := iss.Issue(t.Context(), token.Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: token.RoleIntern})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func verify(t *testing.T, ring *token.KeyRing, raw string) error {
	t.Helper()
	v, err := token.NewVerifier(token.StaticKeyRing{Ring: ring}, token.VerifierConfig{Issuer: apiIssuer, Audience: apiAudience, Now: func() time.Time { return base.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), raw)
	return err
}

// assertNoKeyMaterial fails if a seed of any key of rings reached the logs.
func assertNoKeyMaterial(t *testing.T, e *env, rings ...*token.KeyRing) {
	t.Helper()
	logs := e.logs.String()
	for _, r := range rings {
		keys := []token.Key{r.Current}
		if r.Previous != nil {
			keys = append(keys, *r.Previous)
		}
		for _, k := range keys {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
				if strings.Contains(logs, enc.EncodeToString(k.Private.Seed())) || strings.Contains(logs, enc.EncodeToString(k.Private)) {
					t.Fatalf("logs contain key material of %s", k.ID)
				}
			}
		}
	}
}

func wantRotateAudit(t *testing.T, e *env, outcome, step string) audit.Entry {
	t.Helper()
	got := e.audit.Find(ActionRotate)
	if len(got) != 1 {
		t.Fatalf("audit entries %v, want exactly one %s", e.audit.Actions(), ActionRotate)
	}
	en := got[0]
	if en.Outcome != outcome || en.Actor != audit.ActorSystem || en.Details["step"] != step {
		t.Fatalf("audit entry %+v, want %s at %s", en, outcome, step)
	}
	return en
}

// TestRotateExistingRing: a full rotation of a ring in use.
func TestRotateExistingRing(t *testing.T) {
	e := newEnv(t)
	old := (&token.KeyRing{Current: newKey(t)}).Rotate(newKey(t))
	arn, oldVersion := e.secret(t, "vip/dev/signing-keys", marshal(t, old))
	beforeRotation := issue(t, old)

	newVersion := e.mustRotate(t, arn)

	cur, curVersion := e.ringAt(t, arn, "AWSCURRENT")
	if curVersion != newVersion {
		t.Errorf("AWSCURRENT is version %s, want the rotation's %s", curVersion, newVersion)
	}
	if cur.Previous == nil || cur.Previous.ID != old.Current.ID || !bytes.Equal(cur.Previous.Private, old.Current.Private) {
		t.Fatalf("new ring %v: previous must be the old current key %s", cur, old.Current.ID)
	}
	if cur.Current.ID == old.Current.ID || cur.Current.ID == old.Previous.ID || !cur.Current.CreatedAt.Equal(base) {
		t.Fatalf("new ring %v: current must be a fresh key created now", cur)
	}
	prev, prevVersion := e.ringAt(t, arn, "AWSPREVIOUS")
	if prevVersion != oldVersion || prev.Current.ID != old.Current.ID {
		t.Errorf("AWSPREVIOUS = version %s (%v), want the old version %s", prevVersion, prev, oldVersion)
	}
	want := map[string][]string{oldVersion: {"AWSPREVIOUS"}, newVersion: {"AWSCURRENT", "AWSPENDING"}}
	if got := e.stages(t, arn); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stages = %v, want %v", got, want)
	}

	if err := verify(t, cur, beforeRotation); err != nil {
		t.Errorf("a token issued before the rotation no longer verifies: %v", err)
	}
	if err := verify(t, cur, issue(t, cur)); err != nil {
		t.Errorf("a token of the new key does not verify: %v", err)
	}
	if en := wantRotateAudit(t, e, audit.OutcomeSuccess, StepFinish); en.Target != arn || en.Details["version"] != newVersion {
		t.Errorf("audit entry %+v, want target %s version %s", en, arn, newVersion)
	}
	assertNoKeyMaterial(t, e, old, cur)
}

// TestFirstRotation: in a fresh AWS stack the secret has no value until
// the first rotation (RotateImmediatelyOnUpdate) writes a one-key ring.
func TestFirstRotation(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.secret(t, "vip/dev/signing-keys", nil)
	version := e.mustRotate(t, arn)
	ring, curVersion := e.ringAt(t, arn, "AWSCURRENT")
	if curVersion != version || ring.Previous != nil {
		t.Fatalf("first ring %v (version %s), want one key at version %s", ring, curVersion, version)
	}
	if _, err := e.sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")}); !notFound(err) {
		t.Errorf("AWSPREVIOUS after the first rotation: %v, want none", err)
	}
	if err := verify(t, ring, issue(t, ring)); err != nil {
		t.Errorf("token of the first ring: %v", err)
	}
	wantRotateAudit(t, e, audit.OutcomeSuccess, StepFinish)
	assertNoKeyMaterial(t, e, ring)

	// The next rotation builds on it.
	e.audit.Reset()
	e.mustRotate(t, arn)
	next, _ := e.ringAt(t, arn, "AWSCURRENT")
	if next.Previous == nil || next.Previous.ID != ring.Current.ID {
		t.Fatalf("second ring %v does not keep %s", next, ring.Current.ID)
	}
}

// TestCreateSecretIdempotent: Secrets Manager may run a step twice; the
// second createSecret must keep the first one's key.
func TestCreateSecretIdempotent(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.secret(t, "vip/dev/signing-keys", marshal(t, &token.KeyRing{Current: newKey(t)}))
	pending := func(ctx context.Context, arn, tok string) (string, error) {
		out, err := e.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(tok), VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SecretString), nil
	}
	var first, second string
	e.setDriver(func(ctx context.Context, arn, tok string) error {
		ev := Event{Step: StepCreate, SecretID: arn, ClientRequestToken: tok}
		if err := e.h.Handle(ctx, ev); err != nil {
			return err
		}
		var err error
		if first, err = pending(ctx, arn, tok); err != nil {
			return err
		}
		e.advance(time.Minute) // a retry later would make another key
		if err := e.h.Handle(ctx, ev); err != nil {
			return err
		}
		if second, err = pending(ctx, arn, tok); err != nil {
			return err
		}
		return e.fourSteps(ctx, arn, tok)
	})
	e.mustRotate(t, arn)
	if first == "" || first != second {
		t.Fatal("a second createSecret replaced the pending key ring")
	}
	cur, _ := e.ringAt(t, arn, "AWSCURRENT")
	if string(marshal(t, cur)) != first {
		t.Fatal("the ring made current is not the one createSecret stored first")
	}
}

// TestTwoRotations: a key leaves the ring after two rotations.
func TestTwoRotations(t *testing.T) {
	e := newEnv(t)
	r0 := &token.KeyRing{Current: newKey(t)}
	arn, _ := e.secret(t, "vip/dev/signing-keys", marshal(t, r0))
	t0 := issue(t, r0)
	firstVersion := e.mustRotate(t, arn)
	r1, _ := e.ringAt(t, arn, "AWSCURRENT")
	t1 := issue(t, r1)
	e.mustRotate(t, arn)
	r2, _ := e.ringAt(t, arn, "AWSCURRENT")

	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"token of the key before the last rotation verifies", t1, nil},
		{"token of a key removed by two rotations fails", t0, token.ErrUnknownKey},
		{"token of the current key verifies", issue(t, r2), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verify(t, r2, tc.raw)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	if _, v := e.ringAt(t, arn, "AWSPREVIOUS"); v != firstVersion {
		t.Errorf("AWSPREVIOUS = %s, want the first rotation's version %s", v, firstVersion)
	}
	assertNoKeyMaterial(t, e, r0, r1, r2)
}

// TestStepValidation: steps refuse tokens that are not the pending version,
// do nothing for the current one, and every refusal is audited.
func TestStepValidation(t *testing.T) {
	e := newEnv(t)
	arn, firstVersion := e.secret(t, "vip/dev/signing-keys", marshal(t, &token.KeyRing{Current: newKey(t)}))
	currentVersion := e.mustRotate(t, arn)
	noRotation, noRotationVersion := e.secret(t, "vip/dev/other", marshal(t, &token.KeyRing{Current: newKey(t)}))
	unknownToken := "0badc0de-0000-4000-8000-000000000000"

	tests := []struct {
		name string
		ev   Event
		want error // nil: a no-op success
	}{
		{"unknown step", Event{Step: "deleteSecret", SecretID: arn, ClientRequestToken: currentVersion}, ErrUnknownStep},
		{"empty step", Event{SecretID: arn, ClientRequestToken: currentVersion}, ErrUnknownStep},
		{"snake-case step is not AWS's spelling", Event{Step: "create_secret", SecretID: arn, ClientRequestToken: currentVersion}, ErrUnknownStep},
		{"no secret id", Event{Step: StepCreate, ClientRequestToken: currentVersion}, ErrBadEvent},
		{"no token", Event{Step: StepCreate, SecretID: arn}, ErrBadEvent},
		{"token is not a version", Event{Step: StepCreate, SecretID: arn, ClientRequestToken: unknownToken}, ErrNotAVersion},
		{"token is the AWSPREVIOUS version", Event{Step: StepCreate, SecretID: arn, ClientRequestToken: firstVersion}, ErrNotPending},
		{"finishSecret on the AWSPREVIOUS version", Event{Step: StepFinish, SecretID: arn, ClientRequestToken: firstVersion}, ErrNotPending},
		{"rotation not enabled", Event{Step: StepCreate, SecretID: noRotation, ClientRequestToken: noRotationVersion}, ErrRotationDisabled},
		{"createSecret on the AWSCURRENT version: nothing to do", Event{Step: StepCreate, SecretID: arn, ClientRequestToken: currentVersion}, nil},
		{"finishSecret on the AWSCURRENT version: nothing to do", Event{Step: StepFinish, SecretID: arn, ClientRequestToken: currentVersion}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.stages(t, arn)
			e.audit.Reset()
			err := e.h.Handle(t.Context(), tc.ev)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Handle = %v, want a no-op", err)
				}
				if n := len(e.audit.Entries()); n != 0 {
					t.Errorf("a no-op was audited: %v", e.audit.Actions())
				}
			} else {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Handle = %v, want %v", err, tc.want)
				}
				en := wantRotateAudit(t, e, audit.OutcomeFailure, tc.ev.Step)
				if en.Reason == "" {
					t.Error("failure audited without a reason")
				}
			}
			if after := e.stages(t, arn); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("stages changed from %v to %v", before, after)
			}
		})
	}

	t.Run("unknown secret", func(t *testing.T) {
		e.audit.Reset()
		err := e.h.Handle(t.Context(), Event{Step: StepCreate, SecretID: "vip/dev/missing", ClientRequestToken: unknownToken})
		if !notFound(err) {
			t.Fatalf("Handle = %v, want ResourceNotFound", err)
		}
		wantRotateAudit(t, e, audit.OutcomeFailure, StepCreate)
	})
}

// TestBadRingsFailTheRotation: testSecret stops a ring that would break
// token verification, and createSecret refuses to build on a current value
// that is not a key ring; AWSCURRENT stays as it was.
func TestBadRingsFailTheRotation(t *testing.T) {
	e := newEnv(t)
	other := &token.KeyRing{Current: newKey(t)}
	tests := []struct {
		name    string
		current []byte
		// pending returns the AWSPENDING value to store instead of
		// createSecret's; nil runs the real createSecret.
		pending func(old *token.KeyRing) []byte
		want    error
		step    string // the step that fails
	}{
		{"pending previous is not the current key", nil, func(old *token.KeyRing) []byte {
			return marshal(t, other.Rotate(newKey(t)))
		}, ErrSelfTestFailed, StepTest},
		{"pending ring drops the current key", nil, func(*token.KeyRing) []byte {
			return marshal(t, &token.KeyRing{Current: newKey(t)})
		}, ErrSelfTestFailed, StepTest},
		{"pending previous has the current kid but another key", nil, func(old *token.KeyRing) []byte {
			impostor := newKey(t)
			impostor.ID = old.Current.ID
			return marshal(t, &token.KeyRing{Current: newKey(t), Previous: &impostor})
		}, ErrSelfTestFailed, StepTest},
		{"pending value is not a key ring", nil, func(*token.KeyRing) []byte { return []byte(`{"version":1}`) }, ErrSelfTestFailed, StepTest},
		{"current value is not a key ring", []byte("hunter2-not-a-ring"), nil, ErrCurrentNotKeyRing, StepCreate},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := &token.KeyRing{Current: newKey(t)}
			current := tc.current
			if current == nil {
				current = marshal(t, old)
			}
			arn, version := e.secret(t, fmt.Sprintf("vip/dev/bad-%d", i), current)
			var (
				mu      sync.Mutex
				stepErr error
			)
			e.setDriver(func(ctx context.Context, arn, tok string) error {
				if tc.pending != nil {
					if _, err := e.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
						SecretId: aws.String(arn), ClientRequestToken: aws.String(tok),
						SecretString: aws.String(string(tc.pending(old))), VersionStages: []string{"AWSPENDING"},
					}); err != nil {
						return err
					}
				}
				err := e.fourSteps(ctx, arn, tok)
				mu.Lock()
				stepErr = err
				mu.Unlock()
				return err
			})
			e.audit.Reset()
			if _, err := e.rotate(t.Context(), arn); err == nil {
				t.Fatal("RotateSecret succeeded with a bad ring")
			}
			mu.Lock()
			defer mu.Unlock()
			if !errors.Is(stepErr, tc.want) {
				t.Fatalf("step error = %v, want %v", stepErr, tc.want)
			}
			if strings.Contains(stepErr.Error(), "hunter2") {
				t.Fatal("error quotes the secret value")
			}
			out, err := e.sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil || aws.ToString(out.VersionId) != version {
				t.Fatalf("AWSCURRENT moved after a failed rotation: %v, %v", out, err)
			}
			if en := wantRotateAudit(t, e, audit.OutcomeFailure, tc.step); en.Target != arn {
				t.Errorf("audit target %q, want the secret %s", en.Target, arn)
			}
		})
	}
}

// TestAuditFailureDoesNotFailRotation: the rotation's outcome stands when
// its audit entry cannot be written; the failure is logged.
func TestAuditFailureDoesNotFailRotation(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.secret(t, "vip/dev/signing-keys", marshal(t, &token.KeyRing{Current: newKey(t)}))
	e.audit.FailWith(errors.New("audit table unavailable"))
	version := e.mustRotate(t, arn)
	if _, v := e.ringAt(t, arn, "AWSCURRENT"); v != version {
		t.Fatal("rotation did not finish")
	}
	if !strings.Contains(e.logs.String(), "audit of the rotation failed") {
		t.Error("audit failure not logged")
	}
}

func TestNewHandler(t *testing.T) {
	e := newEnv(t)
	log := obs.New(&syncBuffer{}, functionName, slog.LevelInfo)
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"complete", Config{SecretsManager: e.sm, Audit: &audittest.Recorder{}, Log: log}, true},
		{"no client", Config{Audit: &audittest.Recorder{}, Log: log}, false},
		{"no auditor", Config{SecretsManager: e.sm, Log: log}, false},
		{"no logger", Config{SecretsManager: e.sm, Audit: &audittest.Recorder{}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewHandler(tc.cfg); (err == nil) != tc.ok {
				t.Fatalf("NewHandler error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestSampleEvents decodes every events/signing-keys-rotate/*.json strictly
// and runs it. The emulator has no such secret, so each must fail cleanly
// (an audited error, no panic).
func TestSampleEvents(t *testing.T) {
	e := newEnv(t)
	paths, err := filepath.Glob("../../events/signing-keys-rotate/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	seen := map[string]bool{}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var ev Event
			if err := json.Unmarshal(b, &ev, json.RejectUnknownMembers(true)); err != nil {
				t.Fatalf("decode %s: %v", p, err)
			}
			if _, ok := steps[ev.Step]; !ok || !strings.HasPrefix(ev.SecretID, "arn:aws:secretsmanager:") || len(ev.ClientRequestToken) != 36 {
				t.Fatalf("%s is not a rotation event: %+v", p, ev)
			}
			seen[ev.Step] = true
			e.audit.Reset()
			if err := e.h.Handle(t.Context(), ev); !notFound(err) {
				t.Fatalf("Handle = %v, want ResourceNotFound for the absent secret", err)
			}
			wantRotateAudit(t, e, audit.OutcomeFailure, ev.Step)
		})
	}
	for _, s := range []string{StepCreate, StepSet, StepTest, StepFinish} {
		if !seen[s] {
			t.Errorf("no sample event for %s", s)
		}
	}
}
