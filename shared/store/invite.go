package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

// Invite is a stored invite: the domain entity, keyed by the hash of its
// code (the code itself never reaches the store).
type Invite = domain.Invite

// ErrInviteInvalid: the invite cannot be redeemed by this registration. It
// is one error for unknown, expired, used and wrong-email invites (it is
// domain.ErrInviteInvalid, so either name matches), so the answer tells
// nothing about which.
var ErrInviteInvalid = domain.ErrInviteInvalid

const skInvite = "INVITE"

func invitePK(hash string) string { return "INVITE#" + hash }

// inviteItem is the stored invite (docs/data-model.md). expiresAt is the
// table's TTL attribute, in epoch seconds.
type inviteItem struct {
	PK        string     `dynamodbav:"PK"`
	SK        string     `dynamodbav:"SK"`
	GSI1PK    string     `dynamodbav:"GSI1PK"`
	GSI1SK    string     `dynamodbav:"GSI1SK"`
	Type      string     `dynamodbav:"type"`
	ID        string     `dynamodbav:"id"`
	OrgID     string     `dynamodbav:"orgId"`
	Email     string     `dynamodbav:"email"`
	Role      string     `dynamodbav:"role"`
	Status    string     `dynamodbav:"status"`
	CreatedBy string     `dynamodbav:"createdBy"`
	CreatedAt time.Time  `dynamodbav:"createdAt"`
	ExpiresAt int64      `dynamodbav:"expiresAt"`
	UsedBy    string     `dynamodbav:"usedBy,omitempty"`
	UsedAt    *time.Time `dynamodbav:"usedAt,omitempty"`
	Version   int64      `dynamodbav:"version"`
}

func (it inviteItem) invite() Invite {
	return Invite{
		ID: it.ID, CodeHash: it.PK[len("INVITE#"):], OrgID: it.OrgID, Email: it.Email, Role: domain.Role(it.Role),
		Status: domain.InviteStatus(it.Status), InvitedBy: it.CreatedBy, CreatedAt: it.CreatedAt,
		ExpiresAt: fromEpoch(it.ExpiresAt), UsedBy: it.UsedBy, UsedAt: fromOpt(it.UsedAt), Version: it.Version,
	}
}

// invitePut checks a new pending invite and returns its conditional put.
// The email must already be normalized: registration compares the
// normalized form.
func (s *Store) invitePut(inv Invite) (types.TransactWriteItem, error) {
	norm, err := NormalizeEmail(inv.Email)
	switch {
	case !ids.Valid(inv.ID, ids.Invite):
		return types.TransactWriteItem{}, errors.New("invalid invite id")
	case !validHash(inv.CodeHash):
		return types.TransactWriteItem{}, errors.New("invalid invite code hash")
	case !ids.Valid(inv.OrgID, ids.Org):
		return types.TransactWriteItem{}, errors.New("invalid org id")
	case err != nil || norm != inv.Email:
		return types.TransactWriteItem{}, errors.New("invite email is not a normalized address")
	case inv.Role != domain.RoleMentor && inv.Role != domain.RoleOrgAdmin:
		return types.TransactWriteItem{}, fmt.Errorf("invalid invite role %q", inv.Role)
	case inv.Status != domain.InvitePending:
		return types.TransactWriteItem{}, errors.New("a new invite must be pending")
	case inv.CreatedAt.IsZero() || !inv.ExpiresAt.After(inv.CreatedAt):
		return types.TransactWriteItem{}, errors.New("invite needs createdAt before expiresAt")
	}
	av, err := attributevalue.MarshalMap(inviteItem{
		PK: invitePK(inv.CodeHash), SK: skInvite,
		GSI1PK: orgInvitesGSI1PK(inv.OrgID), GSI1SK: indexTime(inv.CreatedAt) + "#" + inv.ID,
		Type: "invite", ID: inv.ID, OrgID: inv.OrgID, Email: inv.Email, Role: string(inv.Role),
		Status: string(inv.Status), CreatedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt.UTC(),
		ExpiresAt: epoch(inv.ExpiresAt), Version: 1,
	})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode invite: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}, nil
}

// CreateInvite stores a pending invite into an existing organization, in
// one transaction with a check that the organization exists (ErrNotFound
// otherwise) and with the caller's extra items (the idempotency completion;
// ErrExtraItemFailed when one's condition fails).
func (s *Store) CreateInvite(ctx context.Context, inv Invite, extra ...types.TransactWriteItem) error {
	put, err := s.invitePut(inv)
	if err != nil {
		return wrap("create invite", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append([]types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: orgKey(inv.OrgID), ConditionExpression: aws.String("attribute_exists(PK)"),
		}},
		put,
	}, extra...)})
	if err == nil {
		return nil
	}
	codes, ok := cancellation(err)
	switch {
	case !ok:
		return wrap("create invite", err)
	case reasonAt(codes, 0) == codeConditionFailed:
		return wrap("create invite", ErrNotFound)
	}
	for i := 2; i < 2+len(extra); i++ {
		if reasonAt(codes, i) == codeConditionFailed {
			return wrap("create invite", ErrExtraItemFailed)
		}
	}
	return wrap("create invite", fmt.Errorf("%w: %w", ErrConflict, err))
}

// GetInvite returns the invite whose code hashes to codeHash, or
// ErrNotFound (also when it has expired, or the hash is malformed). A used
// invite is returned as stored; Invite.Usable tells.
func (s *Store) GetInvite(ctx context.Context, codeHash string) (Invite, error) {
	it, err := s.getInvite(ctx, codeHash)
	if err != nil {
		return Invite{}, wrap("get invite", err)
	}
	return it.invite(), nil
}

func (s *Store) getInvite(ctx context.Context, codeHash string) (inviteItem, error) {
	if !validHash(codeHash) {
		return inviteItem{}, ErrNotFound
	}
	av, found, err := s.getItem(ctx, key(invitePK(codeHash), skInvite))
	if err != nil {
		return inviteItem{}, err
	}
	if !found {
		return inviteItem{}, ErrNotFound
	}
	var it inviteItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return inviteItem{}, fmt.Errorf("decode invite: %w", err)
	}
	if expired(it.ExpiresAt, s.now()) {
		return inviteItem{}, ErrNotFound
	}
	return it, nil
}

// CreateUserWithInvite registers u through the invite whose code hashes to
// inviteCodeHash: u gets the invite's role and organization (whatever u
// said), and in one transaction the email is claimed, the user created and
// the invite marked used, conditioned on the invite being pending,
// unexpired at now and bound to u's normalized email. So an invite
// registers exactly one account, only for its address, and never after it
// expires, even under concurrent attempts. It returns the user as stored.
//
// Errors: ErrInviteInvalid for every invite problem (unknown, expired,
// used, another email), checked before the email, so the answer for a bad
// code never depends on whether the email is registered; ErrEmailTaken when
// the invite is good but the address already has an account (the invite
// stays pending).
func (s *Store) CreateUserWithInvite(ctx context.Context, u User, inviteCodeHash string, now time.Time) (User, error) {
	u, err := s.createUserWithInvite(ctx, u, inviteCodeHash, now)
	return u, wrap("create user with invite", err)
}

func (s *Store) createUserWithInvite(ctx context.Context, u User, codeHash string, now time.Time) (User, error) {
	inv, err := s.getInvite(ctx, codeHash)
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrInviteInvalid
	}
	if err != nil {
		return User{}, err
	}
	norm, nerr := NormalizeEmail(u.Email)
	if inv.Status != string(domain.InvitePending) || expired(inv.ExpiresAt, now) || nerr != nil || norm != inv.Email {
		return User{}, ErrInviteInvalid
	}
	u.Role, u.OrgID = inv.Role, inv.OrgID
	u, err = s.prepareNewUser(u)
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
	usedAt, err := attributevalue.Marshal(now.UTC())
	if err != nil {
		return User{}, fmt.Errorf("encode usedAt: %w", err)
	}
	notExists := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: claimAV, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: userAV, ConditionExpression: notExists}},
		{Update: &types.Update{
			TableName:        aws.String(s.table),
			Key:              key(invitePK(codeHash), skInvite),
			UpdateExpression: aws.String("SET #status = :used, usedBy = :user, usedAt = :usedAt, #version = #version + :one"),
			ConditionExpression: aws.String("attribute_exists(PK) AND #status = :pending AND #expiresAt > :now AND " +
				"email = :email AND orgId = :org AND #role = :role"),
			ExpressionAttributeNames: map[string]string{
				"#status": attrStatus, "#version": attrVersion, "#expiresAt": attrExpires, "#role": "role",
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":used": str(string(domain.InviteUsed)), ":pending": str(string(domain.InvitePending)),
				":user": str(u.ID), ":usedAt": usedAt, ":one": num(1), ":now": num(now.Unix()),
				":email": str(u.EmailNorm), ":org": str(u.OrgID), ":role": str(u.Role),
			},
		}},
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return u, nil
	}
	codes, ok := cancellation(err)
	switch {
	case !ok:
		return User{}, err
	case reasonAt(codes, 2) == codeConditionFailed:
		return User{}, ErrInviteInvalid
	case reasonAt(codes, 0) == codeConditionFailed:
		return User{}, ErrEmailTaken
	case reasonAt(codes, 1) == codeConditionFailed:
		return User{}, fmt.Errorf("user id exists: %w", ErrConflict)
	}
	// A transaction conflict: tell a rival redemption or registration from
	// a retryable race.
	if cur, gerr := s.getInvite(ctx, codeHash); gerr == nil && cur.Status != string(domain.InvitePending) {
		return User{}, ErrInviteInvalid
	}
	if _, found, gerr := s.getItem(ctx, key(emailPK(u.EmailNorm), skEmail)); gerr == nil && found {
		return User{}, ErrEmailTaken
	}
	return User{}, fmt.Errorf("%w: %w", ErrConflict, err)
}
