package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/secrets"
)

// SecretsManager is the part of the Secrets Manager API a rotation uses.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ SecretsManager = (*secretsmanager.Client)(nil)

// Event is what Secrets Manager invokes a rotation function with, once per
// step (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html).
type Event struct {
	// Step is one of the Step* constants.
	Step string `json:"Step"`
	// SecretID is the secret's ARN.
	SecretID string `json:"SecretId"`
	// ClientRequestToken is the version ID of the secret version being
	// rotated in (staged AWSPENDING).
	ClientRequestToken string `json:"ClientRequestToken"`
	// RotationToken identifies the rotation to Secrets Manager when the
	// function calls back under an assumed role; it is passed through to
	// PutSecretValue and never logged.
	RotationToken string `json:"RotationToken,omitempty"`
}

// The four rotation steps, in the order Secrets Manager runs them.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// ActionRotate is the audit action of a finished or failed rotation.
const ActionRotate = "secrets.rotate"

// Errors a rotation step fails with (wrapped, with context).
var (
	ErrBadEvent          = errors.New("rotation event incomplete")
	ErrUnknownStep       = errors.New("unknown rotation step")
	ErrRotationDisabled  = errors.New("rotation is not enabled for the secret")
	ErrNotAVersion       = errors.New("token is not a version of the secret")
	ErrNotPending        = errors.New("version is not staged AWSPENDING")
	ErrSelfTestFailed    = errors.New("pending key ring failed its self-test")
	ErrCurrentNotKeyRing = errors.New("current secret value is not a key ring")
)

// The self-test signs a token under an issuer and audience that no verifier
// of the platform accepts, so even a leaked self-test token is worthless.
const (
	selfTestIssuer   = "vip-signing-keys-rotate-selftest"
	selfTestAudience = "vip-signing-keys-rotate-selftest"
)

// Config holds the handler's dependencies.
type Config struct {
	SecretsManager SecretsManager
	Audit          audit.Auditor
	Log            *slog.Logger
	// Now stamps new keys; nil means time.Now.
	Now func() time.Time
}

// Handler rotates the access-token signing key ring: each rotation adds a
// fresh Ed25519 key as current and keeps the old current as previous, so
// tokens signed just before the rotation keep verifying for the rest of
// their (at most 15-minute) life, and a key leaves the ring after two
// rotations.
type Handler struct {
	sm    SecretsManager
	audit audit.Auditor
	log   *slog.Logger
	now   func() time.Time
}

// NewHandler checks cfg and returns the rotation handler.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case cfg.SecretsManager == nil:
		return nil, errors.New("signing-keys-rotate: nil Secrets Manager client")
	case cfg.Audit == nil:
		return nil, errors.New("signing-keys-rotate: nil auditor")
	case cfg.Log == nil:
		return nil, errors.New("signing-keys-rotate: nil logger")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{sm: cfg.SecretsManager, audit: cfg.Audit, log: cfg.Log, now: cfg.Now}, nil
}

// step is one rotation step, run after the version was validated.
type step func(h *Handler, ctx context.Context, log *slog.Logger, ev Event, d *secretsmanager.DescribeSecretOutput) error

var steps = map[string]step{
	StepCreate: (*Handler).createSecret,
	StepSet:    (*Handler).setSecret,
	StepTest:   (*Handler).testSecret,
	StepFinish: (*Handler).finishSecret,
}

// Handle runs one rotation step. Like AWS's rotation template it first
// checks that rotation is enabled and that the token names a version of
// the secret staged AWSPENDING; a version already AWSCURRENT means the
// rotation is complete and the step does nothing. A finished rotation and
// every failure are audited (secrets.rotate).
func (h *Handler) Handle(ctx context.Context, ev Event) error {
	// The secret's ARN and the version ID are identifiers, not secrets.
	log := h.log.With(slog.String("step", ev.Step), slog.String("secretId", ev.SecretID), slog.String("versionId", ev.ClientRequestToken))
	err := h.handle(ctx, log, ev)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "rotation step failed", slog.String("error", err.Error()))
		h.record(ctx, log, ev, audit.OutcomeFailure, err.Error())
	}
	return err
}

func (h *Handler) handle(ctx context.Context, log *slog.Logger, ev Event) error {
	run, ok := steps[ev.Step]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownStep, ev.Step)
	}
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return fmt.Errorf("%w: SecretId and ClientRequestToken are required", ErrBadEvent)
	}
	d, err := h.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return fmt.Errorf("describe secret: %w", err)
	}
	if !aws.ToBool(d.RotationEnabled) {
		return ErrRotationDisabled
	}
	stages, ok := d.VersionIdsToStages[ev.ClientRequestToken]
	switch {
	case !ok:
		return ErrNotAVersion
	case slices.Contains(stages, secrets.StageCurrent):
		log.LogAttrs(ctx, slog.LevelInfo, "version is already AWSCURRENT; nothing to do")
		return nil
	case !slices.Contains(stages, secrets.StagePending):
		return ErrNotPending
	}
	return run(h, ctx, log, ev, d)
}

// createSecret stores the rotated ring as the AWSPENDING value of the
// token's version. A retry finds the value it already stored and keeps it,
// so a step that is run twice cannot put two different keys in play.
func (h *Handler) createSecret(ctx context.Context, log *slog.Logger, ev Event, _ *secretsmanager.DescribeSecretOutput) error {
	_, err := h.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String(secrets.StagePending),
	})
	if err == nil {
		log.LogAttrs(ctx, slog.LevelInfo, "pending key ring already stored")
		return nil
	}
	if !notFound(err) {
		return fmt.Errorf("read pending version: %w", err)
	}

	old, err := h.current(ctx, ev.SecretID)
	if err != nil {
		return err
	}
	k, err := token.NewKey(h.now())
	if err != nil {
		return err
	}
	next := &token.KeyRing{Current: k}
	if old != nil {
		next = old.Rotate(k)
	}
	value, err := next.Marshal()
	if err != nil {
		return fmt.Errorf("encode pending key ring: %w", err)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(ev.SecretID),
		ClientRequestToken: aws.String(ev.ClientRequestToken),
		SecretString:       aws.String(string(value)),
		VersionStages:      []string{secrets.StagePending},
	}
	clear(value)
	if ev.RotationToken != "" {
		in.RotationToken = aws.String(ev.RotationToken)
	}
	if _, err := h.sm.PutSecretValue(ctx, in); err != nil {
		return fmt.Errorf("put pending key ring: %w", err)
	}
	attrs := []slog.Attr{slog.Any("ring", next), slog.Bool("firstRing", old == nil)}
	log.LogAttrs(ctx, slog.LevelInfo, "pending key ring stored", attrs...)
	return nil
}

// current returns the AWSCURRENT ring, or nil if the secret has no current
// value yet (the first rotation of a freshly deployed, empty secret). A
// current value that is not a key ring fails the rotation rather than being
// replaced: that would silently drop every key in use.
func (h *Handler) current(ctx context.Context, secretID string) (*token.KeyRing, error) {
	out, err := h.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(secretID), VersionStage: aws.String(secrets.StageCurrent),
	})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read current version: %w", err)
	}
	ring, err := parse(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCurrentNotKeyRing, err)
	}
	return ring, nil
}

// setSecret has nothing to do: no other system holds the keys. Verifiers
// read the ring from this secret, and the public half is derived from it.
func (h *Handler) setSecret(ctx context.Context, log *slog.Logger, _ Event, _ *secretsmanager.DescribeSecretOutput) error {
	log.LogAttrs(ctx, slog.LevelInfo, "setSecret: no external system to configure")
	return nil
}

// testSecret proves the pending ring works before it becomes current: its
// current key signs a token that a verifier on the ring accepts, and its
// previous key is the old current key, so that tokens signed before the
// rotation keep verifying (checked by verifying one).
func (h *Handler) testSecret(ctx context.Context, log *slog.Logger, ev Event, _ *secretsmanager.DescribeSecretOutput) error {
	out, err := h.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String(secrets.StagePending),
	})
	if err != nil {
		return fmt.Errorf("read pending version: %w", err)
	}
	pending, err := parse(out)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSelfTestFailed, err)
	}
	if err := h.roundTrip(ctx, pending, pending); err != nil {
		return fmt.Errorf("%w: new key: %w", ErrSelfTestFailed, err)
	}

	old, err := h.current(ctx, ev.SecretID)
	if err != nil {
		return err
	}
	if old != nil {
		p := pending.Previous
		if p == nil || p.ID != old.Current.ID || !bytes.Equal(p.Private, old.Current.Private) {
			return fmt.Errorf("%w: previous key is not the current key %s", ErrSelfTestFailed, old.Current.ID)
		}
		if err := h.roundTrip(ctx, old, pending); err != nil {
			return fmt.Errorf("%w: token of the current key: %w", ErrSelfTestFailed, err)
		}
	}
	log.LogAttrs(ctx, slog.LevelInfo, "pending key ring passed its self-test", slog.Any("ring", pending))
	return nil
}

// roundTrip signs a throw-away token with signer's current key and
// verifies it against verifier.
func (h *Handler) roundTrip(ctx context.Context, signer, verifier *token.KeyRing) error {
	iss, err := token.NewIssuer(token.StaticKeyRing{Ring: signer}, token.IssuerConfig{Issuer: selfTestIssuer, Audience: selfTestAudience, Now: h.now})
	if err != nil {
		return err
	}
	v, err := token.NewVerifier(token.StaticKeyRing{Ring: verifier}, token.VerifierConfig{Issuer: selfTestIssuer, Audience: selfTestAudience, Now: h.now})
	if err != nil {
		return err
	}
	raw, issued, err := iss.Issue(ctx, token.Subject{UserID: ids.New(ids.User), SessionID: ids.New(ids.Session), Role: token.RoleIntern})
	if err != nil {
		return err
	}
	got, err := v.Verify(ctx, raw)
	if err != nil {
		return err
	}
	if got != issued {
		return errors.New("verified claims differ from the issued ones")
	}
	return nil
}

// finishSecret moves AWSCURRENT to the token's version; Secrets Manager
// moves AWSPREVIOUS onto the version it leaves.
func (h *Handler) finishSecret(ctx context.Context, log *slog.Logger, ev Event, d *secretsmanager.DescribeSecretOutput) error {
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(ev.SecretID),
		VersionStage:    aws.String(secrets.StageCurrent),
		MoveToVersionId: aws.String(ev.ClientRequestToken),
	}
	var from string
	for id, stages := range d.VersionIdsToStages {
		if slices.Contains(stages, secrets.StageCurrent) {
			from = id
			in.RemoveFromVersionId = aws.String(id)
		}
	}
	if _, err := h.sm.UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("move AWSCURRENT: %w", err)
	}
	log.LogAttrs(ctx, slog.LevelInfo, "rotation finished: new key ring is AWSCURRENT", slog.String("previousVersionId", from))
	h.record(ctx, log, ev, audit.OutcomeSuccess, "")
	return nil
}

// record appends the secrets.rotate audit entry. A failure to audit is
// logged, not returned: the rotation's own outcome must not change because
// of it (a finished rotation reported as failed would be retried as a no-op
// and never audited either).
func (h *Handler) record(ctx context.Context, log *slog.Logger, ev Event, outcome, reason string) {
	err := h.audit.Append(ctx, audit.Entry{
		Actor:   audit.ActorSystem,
		Action:  ActionRotate,
		Target:  ev.SecretID,
		Outcome: outcome,
		Reason:  reason,
		Details: map[string]string{"step": ev.Step, "version": ev.ClientRequestToken},
	})
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "audit of the rotation failed", slog.String("outcome", outcome), slog.String("error", err.Error()))
	}
}

// parse decodes a key-ring secret version (string or binary).
func parse(out *secretsmanager.GetSecretValueOutput) (*token.KeyRing, error) {
	switch {
	case out.SecretString != nil:
		return token.ParseKeyRing([]byte(*out.SecretString))
	case out.SecretBinary != nil:
		return token.ParseKeyRing(out.SecretBinary)
	}
	return nil, fmt.Errorf("%w: version has no value", token.ErrBadKeyRing)
}

func notFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}
