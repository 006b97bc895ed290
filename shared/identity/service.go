package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/password"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/keys"
	"github.com/vip-platform/backend/shared/ratelimit"
	"github.com/vip-platform/backend/shared/store"
)

// UserStore is the part of the store that reads and writes accounts.
type UserStore interface {
	CreateUser(ctx context.Context, u store.User) error
	// CreateUserWithInvite registers a mentor or org admin through an
	// invite (store.ErrInviteInvalid, store.ErrEmailTaken).
	CreateUserWithInvite(ctx context.Context, u store.User, inviteCodeHash string, now time.Time) (store.User, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	SetPassword(ctx context.Context, userID, passwordHash string, expectedVersion int64) (store.User, error)
	UseMFAStep(ctx context.Context, userID string, step int64) error
}

// SessionStore is the part of the store that keeps sessions and their
// refresh tokens.
type SessionStore interface {
	CreateSession(ctx context.Context, sess store.Session, first store.RefreshToken) error
	GetUserAndSession(ctx context.Context, userID, sessionID string) (store.User, store.Session, error)
	RotateRefresh(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) (store.RefreshToken, error)
	RevokeSession(ctx context.Context, userID, sessionID, reason string) error
	RevokeAllSessions(ctx context.Context, userID, reason, exceptSessionID string) (int, error)
}

// ChallengeStore keeps MFA login challenges.
type ChallengeStore interface {
	PutChallenge(ctx context.Context, c store.Challenge) error
	ConsumeChallenge(ctx context.Context, hash string) (store.Challenge, error)
}

// Store is every store operation the flows use.
type Store interface {
	UserStore
	SessionStore
	ChallengeStore
}

var _ Store = (*store.Store)(nil)

// Hasher hashes and verifies passwords (argon2id in production).
type Hasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (bool, error)
	// DummyVerify spends the work of a failed Verify, for unknown accounts.
	DummyVerify(password string)
	NeedsRehash(encoded string) bool
}

var _ Hasher = (*password.Hasher)(nil)

// PasswordPolicy judges a new password (see package pwpolicy, which adapts
// shared/auth/password/policy; it is injected so that login, refresh and
// logout do not load the strength estimator's dictionaries at cold start).
type PasswordPolicy interface {
	// Reject returns "" when password is acceptable for the user with
	// this email and display name, and otherwise a user-actionable reason
	// that follows the field name ("must be at least 12 characters"). The
	// reason never contains the password.
	Reject(password, email, displayName string) string
}

// Issuer signs access tokens.
type Issuer interface {
	Issue(ctx context.Context, s token.Subject) (string, token.Claims, error)
}

var _ Issuer = (*token.Issuer)(nil)

// Limiter counts failures per scope and key (shared/ratelimit).
type Limiter interface {
	Reserve(ctx context.Context, scope, key string) (ratelimit.Decision, *ratelimit.Reservation, error)
	Check(ctx context.Context, scope, key string) (ratelimit.Decision, error)
	Fail(ctx context.Context, scope, key string) (ratelimit.Decision, error)
	Reset(ctx context.Context, scope, key string) error
}

var _ Limiter = (*ratelimit.Limiter)(nil)

// Envelope opens envelope-encrypted fields (the TOTP secret).
type Envelope interface {
	Open(ctx context.Context, blob []byte, encCtx map[string]string) ([]byte, error)
}

var _ Envelope = (*keys.Envelope)(nil)

// Flow names a group of Service methods; New checks that Deps holds what
// each requested flow needs, so a wiring mistake fails the cold start rather
// than a request.
type Flow string

// The flows.
const (
	FlowRegister Flow = "register"  // Register
	FlowLogin    Flow = "login"     // Login
	FlowLoginMFA Flow = "login-mfa" // LoginMFA
	FlowRefresh  Flow = "refresh"   // Refresh
	FlowLogout   Flow = "logout"    // Logout, LogoutAll
	FlowPassword Flow = "password"  // ChangePassword
)

// Deps are the Service's dependencies. Store and Auditor are always
// required; the others only by the flows that use them.
type Deps struct {
	Store    Store
	Auditor  audit.Auditor
	Hasher   Hasher         // register, login, password
	Policy   PasswordPolicy // register, password
	Issuer   Issuer         // login, login-mfa, refresh
	Limiter  Limiter        // register, login, login-mfa, password
	Envelope Envelope       // login-mfa
	// Clock is the time source shared with the store and the limiter
	// (time.Now when nil).
	Clock func() time.Time
}

// Service runs the authentication flows. It is safe for concurrent use.
type Service struct {
	d       Deps
	enabled map[Flow]bool
}

// ErrFlowNotEnabled is returned by a method whose flow was not given to New:
// the function was wired without the dependencies that flow needs.
var ErrFlowNotEnabled = errors.New("identity: flow not enabled")

// New returns a Service for flows, failing if Deps lacks a dependency one of
// them needs.
func New(d Deps, flows ...Flow) (*Service, error) {
	if len(flows) == 0 {
		return nil, errors.New("identity: no flows")
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	s := &Service{d: d, enabled: make(map[Flow]bool, len(flows))}
	for _, f := range flows {
		if err := d.missing(f); err != nil {
			return nil, err
		}
		s.enabled[f] = true
	}
	return s, nil
}

// missing reports the dependencies flow f needs that d lacks.
func (d Deps) missing(f Flow) error {
	need := map[string]bool{"Store": d.Store != nil, "Auditor": d.Auditor != nil}
	switch f {
	case FlowRegister, FlowPassword:
		need["Hasher"], need["Policy"], need["Limiter"] = d.Hasher != nil, d.Policy != nil, d.Limiter != nil
	case FlowLogin:
		need["Hasher"], need["Issuer"], need["Limiter"] = d.Hasher != nil, d.Issuer != nil, d.Limiter != nil
	case FlowLoginMFA:
		need["Envelope"], need["Issuer"], need["Limiter"] = d.Envelope != nil, d.Issuer != nil, d.Limiter != nil
	case FlowRefresh:
		need["Issuer"] = d.Issuer != nil
	case FlowLogout:
	default:
		return fmt.Errorf("identity: unknown flow %q", f)
	}
	var absent []string
	for _, name := range []string{"Store", "Auditor", "Hasher", "Policy", "Issuer", "Limiter", "Envelope"} {
		if ok, needed := need[name]; needed && !ok {
			absent = append(absent, name)
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("identity: flow %s needs %s", f, strings.Join(absent, ", "))
	}
	return nil
}

func (s *Service) require(f Flow) error {
	if !s.enabled[f] {
		return fmt.Errorf("%w: %s", ErrFlowNotEnabled, f)
	}
	return nil
}

func (s *Service) now() time.Time { return s.d.Clock() }

// record appends an audit entry with the request's ID and source IP. A
// failure to audit fails the request: a security event that cannot be
// recorded must not pass silently.
func (s *Service) record(ctx context.Context, m Meta, e audit.Entry) error {
	if e.Actor == "" {
		e.Actor = audit.ActorAnonymous
	}
	e.RequestID, e.SourceIP = m.RequestID, m.SourceIP
	if err := s.d.Auditor.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
