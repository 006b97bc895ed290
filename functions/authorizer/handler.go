package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/auth/token"
	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/store"
)

// TokenVerifier checks an access token's signature and claims.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

var _ TokenVerifier = (*token.Verifier)(nil)

// Sessions reads the state a token must still match: the user and the
// session it was issued for, in one strongly consistent read.
type Sessions interface {
	GetUserAndSession(ctx context.Context, userID, sessionID string) (store.User, store.Session, error)
}

var _ Sessions = (*store.Store)(nil)

// ErrUnauthorized is the one error API Gateway turns into a 401: the
// message must be exactly "Unauthorized". Every rejection returns it, so a
// caller learns nothing about why its token was refused.
var ErrUnauthorized = errors.New("Unauthorized")

// ErrInternal is returned for faults (key ring or DynamoDB unreachable):
// API Gateway answers 500. Its text is generic because it leaves the
// function; the cause is logged once.
var ErrInternal = errors.New("authorizer: internal error")

// Coarse rejection reasons, for the audit trail and logs. They never carry
// anything taken from the token.
const (
	ReasonMissing        = "missing"
	ReasonMalformed      = "malformed"
	ReasonSignature      = "signature"
	ReasonUnknownKey     = "unknown_key"
	ReasonExpired        = "expired"
	ReasonNotYetValid    = "not_yet_valid"
	ReasonClaims         = "claims"
	ReasonSessionUnknown = "session_unknown"
	ReasonSessionRevoked = "session_revoked"
	ReasonSessionExpired = "session_expired"
	ReasonUserSuspended  = "user_suspended"
	ReasonRoleChanged    = "role_changed"
	ReasonOrgChanged     = "org_changed"
)

// ActionTokenRejected is the audit action of every refused call.
const ActionTokenRejected = "auth.token.rejected"

// invokeAction is the only action the policy grants.
const invokeAction = "execute-api:Invoke"

// Config holds the handler's dependencies.
type Config struct {
	Verifier TokenVerifier
	Sessions Sessions
	Audit    audit.Auditor
	Log      *slog.Logger
	// Now decides whether a session is live; nil means time.Now.
	Now func() time.Time
}

// Handler is the REST API's REQUEST authorizer.
type Handler struct {
	verifier TokenVerifier
	sessions Sessions
	audit    audit.Auditor
	log      *slog.Logger
	now      func() time.Time
}

// NewHandler checks cfg and returns the authorizer.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case cfg.Verifier == nil:
		return nil, errors.New("authorizer: nil token verifier")
	case cfg.Sessions == nil:
		return nil, errors.New("authorizer: nil session store")
	case cfg.Audit == nil:
		return nil, errors.New("authorizer: nil auditor")
	case cfg.Log == nil:
		return nil, errors.New("authorizer: nil logger")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{verifier: cfg.Verifier, sessions: cfg.Sessions, audit: cfg.Audit, log: cfg.Log, now: cfg.Now}, nil
}

// Handle authorizes one REST call. It accepts the call only when the
// Authorization header is "Bearer <token>", the token verifies (EdDSA, a
// kid of the ring, iss, aud, exp, nbf), and the stored session is live and
// the user's, the user is active, and the user's role and organization are
// still those in the token — so logout, suspension and role changes take
// effect on the very next call (result caching is off: ReauthorizeEvery 0).
//
// A refusal returns ErrUnauthorized (401) and is audited; a fault returns
// ErrInternal (500) and is logged.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	log := obs.WithRequest(ctx, h.log, req.RequestContext.RequestID)
	ctx = obs.NewContext(ctx, log)
	if !strings.HasPrefix(req.MethodArn, "arn:") {
		return h.fault(ctx, log, errors.New("event has no methodArn"))
	}

	raw, reason := bearerToken(req)
	if reason != "" {
		return h.reject(ctx, log, req, nil, reason)
	}
	claims, err := h.verifier.Verify(ctx, raw)
	if err != nil {
		if !errors.Is(err, token.ErrTokenInvalid) {
			return h.fault(ctx, log, fmt.Errorf("verify access token: %w", err))
		}
		return h.reject(ctx, log, req, nil, verifyReason(err))
	}

	user, sess, err := h.sessions.GetUserAndSession(ctx, claims.UserID, claims.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return h.reject(ctx, log, req, &claims, ReasonSessionUnknown)
	}
	if err != nil {
		return h.fault(ctx, log, fmt.Errorf("load user and session: %w", err))
	}
	if reason := stale(claims, user, sess, h.now()); reason != "" {
		return h.reject(ctx, log, req, &claims, reason)
	}
	return allow(req.MethodArn, user, sess), nil
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header. Header names are matched case-insensitively (HTTP), and so is the
// scheme (RFC 7235); exactly one space separates scheme and token, and the
// token holds no whitespace. More than one Authorization header is refused
// rather than guessed at.
func bearerToken(req events.APIGatewayCustomAuthorizerRequestTypeRequest) (raw, reason string) {
	var values []string
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Authorization") {
			values = append(values, v)
		}
	}
	var multi []string
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, "Authorization") {
			multi = append(multi, vs...)
		}
	}
	switch {
	case len(multi) > 1:
		return "", ReasonMalformed
	case len(values) == 0 && len(multi) == 1:
		// An event carrying only multiValueHeaders (some test tools).
		values = multi
	}
	switch len(values) {
	case 0:
		return "", ReasonMissing
	case 1:
	default:
		return "", ReasonMalformed
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", ReasonMalformed
	}
	return tok, ""
}

// verifyReason maps a token rejection to its coarse reason.
func verifyReason(err error) string {
	switch {
	case errors.Is(err, token.ErrTokenMalformed):
		return ReasonMalformed
	case errors.Is(err, token.ErrTokenSignature):
		return ReasonSignature
	case errors.Is(err, token.ErrUnknownKey):
		return ReasonUnknownKey
	case errors.Is(err, token.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, token.ErrTokenNotYetValid):
		return ReasonNotYetValid
	}
	return ReasonClaims
}

// stale reports why a verified token no longer matches stored state, or "".
// The user is checked first: a suspension also revokes every session, and
// "user_suspended" is the more useful reason.
func stale(c token.Claims, u store.User, s store.Session, now time.Time) string {
	switch {
	case u.ID != c.UserID || s.UserID != c.UserID || s.ID != c.SessionID:
		return ReasonSessionUnknown
	case !u.Active():
		return ReasonUserSuspended
	case s.Status != store.SessionActive:
		return ReasonSessionRevoked
	case !s.Live(now):
		return ReasonSessionExpired
	case u.Role != c.Role:
		return ReasonRoleChanged
	case u.OrgID != c.OrgID:
		return ReasonOrgChanged
	}
	return ""
}

// allow grants execute-api:Invoke on exactly the method being called.
// Result caching is off (ReauthorizeEvery: 0), so API Gateway never reuses
// this policy for another method and no wildcard resource is needed; a
// narrower grant also means a cached policy, should caching ever be turned
// on, could not open other routes.
func allow(methodArn string, u store.User, s store.Session) events.APIGatewayCustomAuthorizerResponse {
	ctx := map[string]any{
		apigw.AuthorizerUserID:    u.ID,
		apigw.AuthorizerRole:      u.Role,
		apigw.AuthorizerSessionID: s.ID,
	}
	if u.OrgID != "" {
		ctx[apigw.AuthorizerOrgID] = u.OrgID
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: u.ID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{invokeAction},
				Effect:   "Allow",
				Resource: []string{methodArn},
			}},
		},
		Context: ctx,
	}
}

// reject audits and logs a refusal and returns ErrUnauthorized. claims is
// set once the token verified: its subject is then authentic and named as
// the actor.
func (h *Handler) reject(ctx context.Context, log *slog.Logger, req events.APIGatewayCustomAuthorizerRequestTypeRequest, claims *token.Claims, reason string) (events.APIGatewayCustomAuthorizerResponse, error) {
	e := audit.Entry{
		Actor:     audit.ActorAnonymous,
		Action:    ActionTokenRejected,
		Target:    req.HTTPMethod + " " + req.Resource,
		Outcome:   audit.OutcomeDenied,
		Reason:    reason,
		RequestID: req.RequestContext.RequestID,
		SourceIP:  req.RequestContext.Identity.SourceIP,
	}
	attrs := []slog.Attr{slog.String("reason", reason)}
	if claims != nil {
		e.Actor, e.ActorRole = claims.UserID, claims.Role
		e.Details = map[string]string{"session": claims.SessionID, "kid": claims.KeyID}
		attrs = append(attrs, slog.String("userId", claims.UserID), slog.String("sessionId", claims.SessionID))
	}
	log.LogAttrs(ctx, slog.LevelInfo, "access token rejected", attrs...)
	if err := h.audit.Append(ctx, e); err != nil {
		// The call is refused either way; a missing audit entry must be
		// visible to operators, not turned into a 500 for the caller.
		log.LogAttrs(ctx, slog.LevelError, "audit of a token rejection failed",
			slog.String("reason", reason), slog.String("error", err.Error()))
	}
	return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
}

// fault logs err once and returns ErrInternal.
func (h *Handler) fault(ctx context.Context, log *slog.Logger, err error) (events.APIGatewayCustomAuthorizerResponse, error) {
	log.LogAttrs(ctx, slog.LevelError, "authorizer failed", slog.String("error", err.Error()))
	return events.APIGatewayCustomAuthorizerResponse{}, ErrInternal
}
