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

	"github.com/vip-platform/backend/shared/ids"
)

// Challenge is the state between a correct password and the TOTP code of an
// MFA login. Hash is the caller's digest of the opaque challenge handed to
// the client; the challenge itself is never stored.
//
// A challenge is single use: ConsumeChallenge deletes it whatever the code
// turns out to be, so a wrong code means starting the login again (which the
// password step's rate limit governs). This replaces the data model's
// "attempts" counter: one guess per challenge needs no counter to race on.
type Challenge struct {
	Hash      string
	UserID    string
	ExpiresAt time.Time
	// Credential fingerprints the password the challenge was issued for
	// (a digest of the stored hash, never the hash itself), so a challenge
	// issued before a password change is refused after it.
	Credential string
}

type challengeItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	Type       string    `dynamodbav:"type"`
	UserID     string    `dynamodbav:"userId"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	ExpiresAt  int64     `dynamodbav:"expiresAt"`
	Credential string    `dynamodbav:"credential,omitempty"`
}

const skChallenge = "CHALLENGE"

func challengeKey(hash string) map[string]types.AttributeValue {
	return key("CHALLENGE#"+hash, skChallenge)
}

// PutChallenge stores a new MFA login challenge. ErrConflict if the hash
// already exists (the caller generated a duplicate random value).
func (s *Store) PutChallenge(ctx context.Context, c Challenge) error {
	now := s.now()
	switch {
	case !validHash(c.Hash):
		return wrap("put challenge", errors.New("invalid challenge hash"))
	case !ids.Valid(c.UserID, ids.User):
		return wrap("put challenge", errors.New("invalid user id"))
	case !c.ExpiresAt.After(now):
		return wrap("put challenge", errors.New("challenge already expired"))
	}
	av, err := attributevalue.MarshalMap(challengeItem{
		PK: "CHALLENGE#" + c.Hash, SK: skChallenge, Type: "mfaChallenge",
		UserID: c.UserID, CreatedAt: now.UTC(), ExpiresAt: epoch(c.ExpiresAt), Credential: c.Credential,
	})
	if err != nil {
		return wrap("put challenge", fmt.Errorf("encode challenge: %w", err))
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return wrap("put challenge", ErrConflict)
	}
	return wrap("put challenge", err)
}

// ConsumeChallenge deletes the challenge and returns it, in one conditional
// delete, so of concurrent attempts exactly one gets it. Unknown, already
// consumed and expired challenges are ErrNotFound.
func (s *Store) ConsumeChallenge(ctx context.Context, hash string) (Challenge, error) {
	if !validHash(hash) {
		return Challenge{}, wrap("consume challenge", ErrNotFound)
	}
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       challengeKey(hash),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #expiresAt > :now"),
		ExpressionAttributeNames:  map[string]string{"#expiresAt": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(s.now().Unix())},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return Challenge{}, wrap("consume challenge", ErrNotFound)
	}
	if err != nil {
		return Challenge{}, wrap("consume challenge", err)
	}
	var it challengeItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Challenge{}, wrap("consume challenge", fmt.Errorf("decode challenge: %w", err))
	}
	return Challenge{Hash: hash, UserID: it.UserID, ExpiresAt: fromEpoch(it.ExpiresAt), Credential: it.Credential}, nil
}
