package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
)

// User statuses.
const (
	UserActive    = "active"
	UserSuspended = "suspended"
)

// User is a platform account. Email is kept as entered (for display and
// mail); EmailNorm is the unique, canonical form (see NormalizeEmail).
type User struct {
	ID           string
	Email        string
	EmailNorm    string
	DisplayName  string
	Role         string
	OrgID        string
	Status       string
	PasswordHash string // argon2id PHC string; never logged
	MFA          MFA
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Version increases with every update; updates name the version they
	// read and fail with ErrConflict if another write came first.
	Version int64
}

// Active reports whether the account may authenticate.
func (u User) Active() bool { return u.Status == UserActive }

// MFA is a user's TOTP state. The secrets are envelope-encrypted blobs
// (shared/keys) bound to the user; the store never sees a plaintext secret.
type MFA struct {
	Enabled bool
	// SecretCiphertext is the confirmed TOTP secret.
	SecretCiphertext []byte
	// PendingCiphertext is a secret whose enrolment is not yet confirmed by
	// a first valid code.
	PendingCiphertext []byte
	// LastStep is the last TOTP time step accepted, so a code cannot be
	// replayed within its window. Only UseMFAStep advances it.
	LastStep int64
}

// userItem is the stored user (docs/data-model.md). MFA is stored as flat
// top-level attributes, not as a nested map: an UpdateExpression on
// "mfa.lastStep" fails on real DynamoDB when the map is absent, and a
// top-level attribute can be advanced atomically with its own condition.
type userItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	GSI1PK      string    `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK      string    `dynamodbav:"GSI1SK,omitempty"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"`
	Email       string    `dynamodbav:"email"`
	EmailNorm   string    `dynamodbav:"emailNorm"`
	DisplayName string    `dynamodbav:"displayName"`
	Role        string    `dynamodbav:"role"`
	OrgID       string    `dynamodbav:"orgId,omitempty"`
	Status      string    `dynamodbav:"status"`
	Password    string    `dynamodbav:"passwordHash"`
	MFAEnabled  bool      `dynamodbav:"mfaEnabled"`
	MFASecret   []byte    `dynamodbav:"mfaSecret,omitempty"`
	MFAPending  []byte    `dynamodbav:"mfaPending,omitempty"`
	MFALastStep int64     `dynamodbav:"mfaLastStep"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
	Version     int64     `dynamodbav:"version"`
}

type emailClaimItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	UserID    string    `dynamodbav:"userId"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

type bootstrapItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	UserID    string    `dynamodbav:"userId,omitempty"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

const (
	skProfile   = "PROFILE"
	skEmail     = "EMAIL"
	pkPlatform  = "PLATFORM"
	skBootstrap = "ADMIN_BOOTSTRAP"
)

func userPK(id string) string     { return "USER#" + id }
func emailPK(norm string) string  { return "EMAIL#" + norm }
func orgGSI1PK(org string) string { return "ORG#" + org }

func userKey(id string) map[string]types.AttributeValue { return key(userPK(id), skProfile) }

func toUserItem(u User) userItem {
	it := userItem{
		PK: userPK(u.ID), SK: skProfile, Type: "user",
		ID: u.ID, Email: u.Email, EmailNorm: u.EmailNorm, DisplayName: u.DisplayName,
		Role: u.Role, OrgID: u.OrgID, Status: u.Status, Password: u.PasswordHash,
		MFAEnabled: u.MFA.Enabled, MFASecret: u.MFA.SecretCiphertext, MFAPending: u.MFA.PendingCiphertext,
		MFALastStep: u.MFA.LastStep,
		CreatedAt:   u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), Version: u.Version,
	}
	if u.OrgID != "" {
		// GSI key attributes must be absent, not empty, for users without
		// an organization (an empty string is not a valid index key).
		it.GSI1PK, it.GSI1SK = orgGSI1PK(u.OrgID), userPK(u.ID)
	}
	return it
}

func (it userItem) user() User {
	return User{
		ID: it.ID, Email: it.Email, EmailNorm: it.EmailNorm, DisplayName: it.DisplayName,
		Role: it.Role, OrgID: it.OrgID, Status: it.Status, PasswordHash: it.Password,
		MFA: MFA{
			Enabled: it.MFAEnabled, SecretCiphertext: it.MFASecret,
			PendingCiphertext: it.MFAPending, LastStep: it.MFALastStep,
		},
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version,
	}
}

func decodeUser(av map[string]types.AttributeValue) (User, error) {
	var it userItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return User{}, fmt.Errorf("decode user: %w", err)
	}
	return it.user(), nil
}

func validUserStatus(s string) bool { return s == UserActive || s == UserSuspended }

// prepareNewUser checks and completes a user about to be created: the email
// is normalized here, so no caller can store a claim that disagrees with the
// address.
func (s *Store) prepareNewUser(u User) (User, error) {
	if !ids.Valid(u.ID, ids.User) {
		return User{}, errors.New("invalid user id")
	}
	norm, err := NormalizeEmail(u.Email)
	if err != nil {
		return User{}, err
	}
	if u.EmailNorm != "" && u.EmailNorm != norm {
		return User{}, errors.New("emailNorm does not match email")
	}
	u.Email, u.EmailNorm = strings.TrimSpace(u.Email), norm
	if u.OrgID != "" && !ids.Valid(u.OrgID, ids.Org) {
		return User{}, errors.New("invalid org id")
	}
	if strings.TrimSpace(u.Role) == "" {
		return User{}, errors.New("empty role")
	}
	if u.Status == "" {
		u.Status = UserActive
	}
	if !validUserStatus(u.Status) {
		return User{}, fmt.Errorf("invalid status %q", u.Status)
	}
	if u.PasswordHash == "" {
		return User{}, errors.New("empty password hash")
	}
	if err := checkMFA(u.MFA); err != nil {
		return User{}, err
	}
	now := s.now().UTC()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.UpdatedAt = u.CreatedAt
	u.Version = 1
	return u, nil
}

func checkMFA(m MFA) error {
	if m.Enabled && len(m.SecretCiphertext) == 0 {
		return errors.New("mfa enabled without a secret")
	}
	if m.LastStep < 0 {
		return errors.New("negative mfa last step")
	}
	return nil
}

// CreateUser stores a new user and claims its email in one transaction, so
// two concurrent registrations of one address cannot both succeed: the loser
// gets ErrEmailTaken. Email is normalized here (EmailNorm, if set, must agree);
// Status defaults to active; Version starts at 1.
func (s *Store) CreateUser(ctx context.Context, u User) error {
	_, err := s.createUser(ctx, u, false)
	return wrap("create user", err)
}

// CreateFirstAdmin creates the first platform admin and writes the bootstrap
// marker in the same transaction: either both exist afterwards or neither
// does, so a failed bootstrap (e.g. ErrEmailTaken) can be retried and two
// racing bootstraps cannot both create an admin (ErrAlreadyBootstrapped).
// admin-bootstrap should use this rather than MarkBootstrapped + CreateUser.
func (s *Store) CreateFirstAdmin(ctx context.Context, u User) error {
	_, err := s.createUser(ctx, u, true)
	return wrap("create first admin", err)
}

func (s *Store) createUser(ctx context.Context, u User, bootstrap bool) (User, error) {
	u, err := s.prepareNewUser(u)
	if err != nil {
		return User{}, err
	}
	userAV, err := attributevalue.MarshalMap(toUserItem(u))
	if err != nil {
		return User{}, fmt.Errorf("encode user: %w", err)
	}
	claimAV, err := attributevalue.MarshalMap(emailClaimItem{
		PK: emailPK(u.EmailNorm), SK: skEmail, Type: "emailClaim", UserID: u.ID, CreatedAt: u.CreatedAt,
	})
	if err != nil {
		return User{}, fmt.Errorf("encode email claim: %w", err)
	}
	notExists := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: claimAV, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: userAV, ConditionExpression: notExists}},
	}
	if bootstrap {
		markAV, err := attributevalue.MarshalMap(bootstrapItem{
			PK: pkPlatform, SK: skBootstrap, Type: "bootstrap", UserID: u.ID, CreatedAt: u.CreatedAt,
		})
		if err != nil {
			return User{}, fmt.Errorf("encode bootstrap marker: %w", err)
		}
		items = append(items, types.TransactWriteItem{
			Put: &types.Put{TableName: aws.String(s.table), Item: markAV, ConditionExpression: notExists},
		})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return u, nil
	}
	codes, ok := cancellation(err)
	if !ok {
		return User{}, err
	}
	switch {
	case bootstrap && reasonAt(codes, 2) == codeConditionFailed:
		return User{}, ErrAlreadyBootstrapped
	case reasonAt(codes, 0) == codeConditionFailed:
		return User{}, ErrEmailTaken
	case reasonAt(codes, 1) == codeConditionFailed:
		// A 128-bit ID collision is practically impossible; it is still
		// reported rather than silently overwriting a user.
		return User{}, fmt.Errorf("user id exists: %w", ErrConflict)
	}
	// TransactionConflict and friends: another transaction touched the
	// same items. If a rival registration won, say so; otherwise retryable.
	if _, found, gerr := s.getItem(ctx, key(emailPK(u.EmailNorm), skEmail)); gerr == nil && found {
		return User{}, ErrEmailTaken
	}
	return User{}, fmt.Errorf("%w: %w", ErrConflict, err)
}

// MarkBootstrapped writes the platform's one-time bootstrap marker;
// ErrAlreadyBootstrapped if it exists, even under a race. Prefer
// CreateFirstAdmin, which writes the marker together with the admin.
func (s *Store) MarkBootstrapped(ctx context.Context) error {
	av, err := attributevalue.MarshalMap(bootstrapItem{
		PK: pkPlatform, SK: skBootstrap, Type: "bootstrap", CreatedAt: s.now().UTC(),
	})
	if err != nil {
		return wrap("mark bootstrapped", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return wrap("mark bootstrapped", ErrAlreadyBootstrapped)
	}
	return wrap("mark bootstrapped", err)
}

// GetUser returns the user with the given ID, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	u, err := s.getUser(ctx, id)
	return u, wrap("get user", err)
}

func (s *Store) getUser(ctx context.Context, id string) (User, error) {
	if !ids.Valid(id, ids.User) {
		return User{}, ErrNotFound
	}
	av, found, err := s.getItem(ctx, userKey(id))
	if err != nil {
		return User{}, err
	}
	if !found {
		return User{}, ErrNotFound
	}
	return decodeUser(av)
}

// GetUserByEmail looks a user up by email through the email claim. The
// address is normalized here, so callers may pass it as entered; an invalid
// address is simply ErrNotFound (login answers unknown and malformed alike).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, wrap("get user by email", ErrNotFound)
	}
	av, found, err := s.getItem(ctx, key(emailPK(norm), skEmail))
	if err != nil {
		return User{}, wrap("get user by email", err)
	}
	if !found {
		return User{}, wrap("get user by email", ErrNotFound)
	}
	var claim emailClaimItem
	if err := attributevalue.UnmarshalMap(av, &claim); err != nil {
		return User{}, wrap("get user by email", fmt.Errorf("decode email claim: %w", err))
	}
	u, err := s.getUser(ctx, claim.UserID)
	if err != nil {
		return User{}, wrap("get user by email", err)
	}
	if u.EmailNorm != norm {
		// The claim and the user disagree (possible only after an
		// out-of-band edit): trust neither rather than log in the wrong
		// account.
		return User{}, wrap("get user by email", ErrNotFound)
	}
	return u, nil
}

// SetPassword replaces the password hash (after a change or a re-hash with
// stronger parameters). A password change must be followed by
// RevokeAllSessions; the store does not do it implicitly so the caller can
// keep the current session.
func (s *Store) SetPassword(ctx context.Context, userID, passwordHash string, expectedVersion int64) (User, error) {
	if passwordHash == "" {
		return User{}, wrap("set password", errors.New("empty password hash"))
	}
	u, err := s.updateUser(ctx, userID, expectedVersion,
		map[string]types.AttributeValue{"passwordHash": str(passwordHash)})
	return u, wrap("set password", err)
}

// SetStatus sets UserActive or UserSuspended. Suspension must be followed by
// RevokeAllSessions (the authorizer also checks the status on every call).
func (s *Store) SetStatus(ctx context.Context, userID, status string, expectedVersion int64) (User, error) {
	if !validUserStatus(status) {
		return User{}, wrap("set status", fmt.Errorf("invalid status %q", status))
	}
	u, err := s.updateUser(ctx, userID, expectedVersion,
		map[string]types.AttributeValue{"status": str(status)})
	return u, wrap("set status", err)
}

// SetProfile replaces the user-editable profile fields.
func (s *Store) SetProfile(ctx context.Context, userID, displayName string, expectedVersion int64) (User, error) {
	u, err := s.updateUser(ctx, userID, expectedVersion,
		map[string]types.AttributeValue{"displayName": str(displayName)})
	return u, wrap("set profile", err)
}

// SetMFA replaces the MFA enrolment state (Enabled, SecretCiphertext,
// PendingCiphertext). LastStep is ignored: it only moves forward, through
// UseMFAStep, so a write based on a stale read cannot reopen a replay window.
func (s *Store) SetMFA(ctx context.Context, userID string, m MFA, expectedVersion int64) (User, error) {
	if err := checkMFA(m); err != nil {
		return User{}, wrap("set mfa", err)
	}
	set := map[string]types.AttributeValue{"mfaEnabled": &types.AttributeValueMemberBOOL{Value: m.Enabled}}
	for name, v := range map[string][]byte{"mfaSecret": m.SecretCiphertext, "mfaPending": m.PendingCiphertext} {
		// A cleared secret is written as NULL rather than REMOVEd: minidyn
		// (v0.8.2) silently ignores REMOVE, and NULL reads back as nil on
		// both, so the local emulator cannot keep a secret AWS would drop.
		if len(v) == 0 {
			set[name] = &types.AttributeValueMemberNULL{Value: true}
		} else {
			set[name] = &types.AttributeValueMemberB{Value: v}
		}
	}
	u, err := s.updateUser(ctx, userID, expectedVersion, set)
	return u, wrap("set mfa", err)
}

// UseMFAStep records that the TOTP code of time step step was accepted. It
// succeeds only if step is later than every step accepted before, atomically,
// so one code cannot log in twice even from concurrent requests; a replay is
// ErrConflict. It does not bump Version: it is a counter guarded by its own
// condition, and bumping would make concurrent profile edits fail for nothing.
func (s *Store) UseMFAStep(ctx context.Context, userID string, step int64) error {
	if !ids.Valid(userID, ids.User) {
		return wrap("use mfa step", ErrNotFound)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 userKey(userID),
		UpdateExpression:    aws.String("SET mfaLastStep = :step"),
		ConditionExpression: aws.String("attribute_exists(PK) AND mfaLastStep < :step"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":step": num(step),
		},
	})
	if isConditionFailed(err) {
		if _, gerr := s.getUser(ctx, userID); errors.Is(gerr, ErrNotFound) {
			return wrap("use mfa step", ErrNotFound)
		}
		return wrap("use mfa step", fmt.Errorf("step already used: %w", ErrConflict))
	}
	return wrap("use mfa step", err)
}

// updateUser applies set to the user if its version is still
// expectedVersion, bumps the version and updatedAt, and returns the new state.
func (s *Store) updateUser(ctx context.Context, userID string, expectedVersion int64,
	set map[string]types.AttributeValue) (User, error) {
	if !ids.Valid(userID, ids.User) {
		return User{}, ErrNotFound
	}
	names := map[string]string{"#version": attrVersion, "#updatedAt": "updatedAt"}
	values := map[string]types.AttributeValue{
		":expected":  num(expectedVersion),
		":next":      num(expectedVersion + 1),
		":updatedAt": str(s.now().UTC().Format(time.RFC3339Nano)),
	}
	sets := []string{"#version = :next", "#updatedAt = :updatedAt"}
	i := 0
	for name, v := range set {
		n, p := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
		names[n], values[p] = name, v
		sets = append(sets, n+" = "+p)
		i++
	}
	expr := "SET " + strings.Join(sets, ", ")
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       userKey(userID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #version = :expected"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		if _, gerr := s.getUser(ctx, userID); errors.Is(gerr, ErrNotFound) {
			return User{}, ErrNotFound
		}
		return User{}, fmt.Errorf("version %d is stale: %w", expectedVersion, ErrConflict)
	}
	if err != nil {
		return User{}, err
	}
	return decodeUser(out.Attributes)
}
