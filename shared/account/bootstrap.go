package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/totp"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

// ActionBootstrap is audited for every bootstrap attempt that gets as far
// as the store: success, or refused because an admin exists.
const ActionBootstrap = "admin.bootstrap"

// BootstrapMessage tells the operator what to do with the one-time secret.
const BootstrapMessage = "store the TOTP secret now: it is shown only once"

// BootstrapStore creates the first admin together with the one-time
// bootstrap marker, in one transaction.
type BootstrapStore interface {
	CreateFirstAdmin(ctx context.Context, u store.User) error
}

// Hasher hashes a new password (password.Hasher).
type Hasher interface {
	Hash(password string) (string, error)
}

// PasswordPolicy returns why password is not acceptable for a user who gave
// context (email, display name), as a phrase following the word "password"
// ("is too common"), or "" when it is acceptable. admin-bootstrap adapts
// policy.Check to it; this package does not import the policy, whose
// dictionaries cost every importer ~30 ms and 18 MB at start.
type PasswordPolicy func(password string, context ...string) (violation string)

var _ BootstrapStore = (*store.Store)(nil)

// BootstrapRequest is the admin-bootstrap payload.
type BootstrapRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DisplayName string `json:"displayName"`
}

// Format prints no password, whatever the verb.
func (r BootstrapRequest) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "account.BootstrapRequest{Email: %q, Password: [redacted]}", r.Email)
}

// LogValue keeps the password out of slog output.
func (r BootstrapRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", r.Email), slog.String("password", "[redacted]"))
}

// BootstrapResult is what the operator gets back: the new admin and, this
// once, the TOTP secret their authenticator needs.
type BootstrapResult struct {
	UserID     string `json:"userId"`
	Email      string `json:"email"`
	TOTPSecret string `json:"totpSecret"`
	OTPAuthURL string `json:"otpauthUrl"`
	Message    string `json:"message"`
}

// Format prints no secret, whatever the verb.
func (r BootstrapResult) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "account.BootstrapResult{UserID: %q, TOTPSecret: [redacted]}", r.UserID)
}

// LogValue keeps the secret out of slog output.
func (r BootstrapResult) LogValue() slog.Value {
	return slog.GroupValue(slog.String("userId", r.UserID), slog.String("totpSecret", "[redacted]"))
}

// Bootstrapper creates the first platform admin.
type Bootstrapper struct {
	store  BootstrapStore
	hasher Hasher
	policy PasswordPolicy
	env    Sealer
	audit  audit.Auditor
}

// NewBootstrapper returns the bootstrapper.
func NewBootstrapper(st BootstrapStore, h Hasher, p PasswordPolicy, env Sealer, aud audit.Auditor) (*Bootstrapper, error) {
	if st == nil || h == nil || p == nil || env == nil || aud == nil {
		return nil, errors.New("account: bootstrapper needs a store, a hasher, a password policy, an envelope and an auditor")
	}
	return &Bootstrapper{store: st, hasher: h, policy: p, env: env, audit: aud}, nil
}

// Bootstrap creates the first platform admin with TOTP already enabled (an
// admin may never exist without MFA, not even for a minute) and returns the
// secret, shown only here. It is refused ("platform already bootstrapped")
// once any bootstrap has succeeded, also under a race: the admin and the
// marker are one transaction.
func (b *Bootstrapper) Bootstrap(ctx context.Context, in BootstrapRequest) (BootstrapResult, error) {
	if err := b.validate(in); err != nil {
		return BootstrapResult{}, err
	}
	hash, err := b.hasher.Hash(in.Password)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("hash password: %w", err)
	}
	id := ids.New(ids.User)
	enr, err := totp.Generate(in.Email)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("generate totp secret: %w", err)
	}
	blob, err := b.env.Seal(ctx, []byte(enr.Secret), TOTPEncryptionContext(id))
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("seal totp secret: %w", err)
	}
	err = b.store.CreateFirstAdmin(ctx, store.User{
		ID: id, Email: in.Email, DisplayName: in.DisplayName, Role: apigw.RoleAdmin,
		Status: store.UserActive, PasswordHash: hash,
		MFA: store.MFA{Enabled: true, SecretCiphertext: blob},
	})
	entry := audit.Entry{Actor: audit.ActorSystem, Action: ActionBootstrap, Target: id, RequestID: invocationID(ctx)}
	switch {
	case errors.Is(err, store.ErrAlreadyBootstrapped):
		// The ID was never created; the platform is what was targeted.
		entry.Target = "platform"
		entry.Outcome, entry.Reason = audit.OutcomeDenied, "platform already bootstrapped"
		if aerr := b.audit.Append(ctx, entry); aerr != nil {
			return BootstrapResult{}, fmt.Errorf("audit %s: %w", entry.Action, aerr)
		}
		return BootstrapResult{}, refuse("platform already bootstrapped", err)
	case errors.Is(err, store.ErrEmailTaken):
		return BootstrapResult{}, refuse("the email address is already registered; bootstrap with another one", err)
	case errors.Is(err, store.ErrConflict):
		return BootstrapResult{}, refuse("a concurrent change interfered; run the bootstrap again", err)
	case err != nil:
		return BootstrapResult{}, fmt.Errorf("create first admin: %w", err)
	}
	entry.Outcome = audit.OutcomeSuccess
	entry.Details = map[string]string{"role": apigw.RoleAdmin, "mfa": "enabled"}
	if err := b.audit.Append(ctx, entry); err != nil {
		return BootstrapResult{}, fmt.Errorf("audit %s: %w", entry.Action, err)
	}
	return BootstrapResult{
		UserID: id, Email: in.Email, TOTPSecret: enr.Secret, OTPAuthURL: enr.URL, Message: BootstrapMessage,
	}, nil
}

func (b *Bootstrapper) validate(in BootstrapRequest) error {
	v := validate.New()
	if v.Required("email", in.Email) && v.Email("email", in.Email) {
		_, err := store.NormalizeEmail(in.Email)
		v.Check(err == nil, "email", "must be a plain ASCII address, like name@example.com")
	}
	ValidateDisplayName(v, "displayName", in.DisplayName)
	if v.Required("password", in.Password) {
		// The policy checks length itself; context it checks against must
		// be valid, or it is not passed.
		var context []string
		if !v.Failed("email") {
			context = append(context, in.Email)
		}
		if !v.Failed("displayName") {
			context = append(context, in.DisplayName)
		}
		if why := b.policy(in.Password, context...); why != "" {
			v.Add("password", why)
		}
	}
	return v.Err()
}
