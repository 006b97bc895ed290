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

// Notification kinds: the events of the inbox (api-docs/openapi.yaml
// Notification.kind). A kind is also the event name a later real-time push
// uses, so a client handles an inbox entry and a pushed event alike.
const (
	KindApplicationDecided  = "application.decided"
	KindSubmissionCreated   = "submission.created"
	KindReviewPosted        = "review.posted"
	KindEnrollmentCompleted = "enrollment.completed"
)

// NotificationRetention is how long a notification stays readable (its
// expiresAt, the table's TTL attribute), per docs/data-model.md.
const NotificationRetention = 90 * 24 * time.Hour

// ErrInvalidPageStart: a page start key does not belong to the listing it
// was given to (e.g. a cursor of another user's inbox). Answer 400, like a
// tampered cursor.
var ErrInvalidPageStart = errors.New("page start does not belong to this listing")

// NotificationData is the payload of a notification: IDs, titles, the
// decision and the version only. It is typed (not a free map) so nothing but
// these fields can ever reach a recipient: never feedback, scores,
// rejection reasons or another person's identity — the recipient reads
// details through the REST API, which checks permissions at read time. The
// same payload is therefore safe to push over WebSocket later.
type NotificationData struct {
	ProgramID     string `dynamodbav:"programId,omitempty" json:"programId,omitzero"`
	ProgramTitle  string `dynamodbav:"programTitle,omitempty" json:"programTitle,omitzero"`
	ApplicationID string `dynamodbav:"applicationId,omitempty" json:"applicationId,omitzero"`
	Decision      string `dynamodbav:"decision,omitempty" json:"decision,omitzero"`
	EnrollmentID  string `dynamodbav:"enrollmentId,omitempty" json:"enrollmentId,omitzero"`
	TaskID        string `dynamodbav:"taskId,omitempty" json:"taskId,omitzero"`
	TaskTitle     string `dynamodbav:"taskTitle,omitempty" json:"taskTitle,omitzero"`
	SubmissionID  string `dynamodbav:"submissionId,omitempty" json:"submissionId,omitzero"`
	Version       int    `dynamodbav:"version,omitempty" json:"version,omitzero"`
}

// Notification is one inbox entry of one recipient (UserID). Kind, UserID
// and Data are everything a real-time push needs.
type Notification struct {
	ID        string
	UserID    string
	Kind      string
	Data      NotificationData
	Read      bool
	CreatedAt time.Time
	// ExpiresAt defaults to CreatedAt + NotificationRetention.
	ExpiresAt time.Time
	Version   int64
}

// notificationItem is the stored notification. Data is a pointer so an
// empty payload is omitted: the local emulator mangles empty maps.
type notificationItem struct {
	PK        string            `dynamodbav:"PK"`
	SK        string            `dynamodbav:"SK"`
	GSI1PK    string            `dynamodbav:"GSI1PK"`
	GSI1SK    string            `dynamodbav:"GSI1SK"`
	Type      string            `dynamodbav:"type"`
	ID        string            `dynamodbav:"id"`
	UserID    string            `dynamodbav:"userId"`
	Kind      string            `dynamodbav:"kind"`
	Data      *NotificationData `dynamodbav:"data,omitempty"`
	Read      bool              `dynamodbav:"read"`
	CreatedAt time.Time         `dynamodbav:"createdAt"`
	ExpiresAt int64             `dynamodbav:"expiresAt"`
	Version   int64             `dynamodbav:"version"`
}

const skNotifPrefix = "NOTIF#"

// NotificationFromDomain converts a notification built by the domain rules
// (domain.ApplicationDecidedNotification, ...) into the stored record. The
// kinds are mapped constant by constant: the stored kind is the wire value
// of api-docs/openapi.yaml, whatever spelling the domain uses internally.
// An unknown kind stays as given and is refused by NotificationPutItem.
func NotificationFromDomain(n domain.Notification) Notification {
	kind := string(n.Kind)
	switch n.Kind {
	case domain.NotifyApplicationDecided:
		kind = KindApplicationDecided
	case domain.NotifySubmissionReceived:
		kind = KindSubmissionCreated
	case domain.NotifyReviewPosted:
		kind = KindReviewPosted
	case domain.NotifyEnrollmentCompleted:
		kind = KindEnrollmentCompleted
	}
	p := n.Payload
	return Notification{
		ID: n.ID, UserID: n.RecipientID, Kind: kind,
		Data: NotificationData{
			ProgramID: p.ProgramID, ProgramTitle: p.ProgramTitle, ApplicationID: p.ApplicationID,
			Decision: p.Outcome, EnrollmentID: p.EnrollmentID, TaskID: p.TaskID, TaskTitle: p.TaskTitle,
			SubmissionID: p.SubmissionID, Version: p.SubmissionVersion,
		},
		Read: !n.ReadAt.IsZero(), CreatedAt: n.CreatedAt, ExpiresAt: n.ExpiresAt,
	}
}

func notifGSI1PK(userID string) string { return userPK(userID) + "#NOTIFS" }

func notificationKey(userID, id string) map[string]types.AttributeValue {
	return key(userPK(userID), skNotifPrefix+id)
}

func validNotificationKind(k string) bool {
	switch k {
	case KindApplicationDecided, KindSubmissionCreated, KindReviewPosted, KindEnrollmentCompleted:
		return true
	}
	return false
}

// prepareNotification checks n and fills in its defaults (a fresh ID,
// CreatedAt = now, the retention expiry, unread, version 1).
func (s *Store) prepareNotification(n Notification) (Notification, error) {
	if n.ID == "" {
		n.ID = ids.New(ids.Notification)
	}
	if !ids.Valid(n.ID, ids.Notification) {
		return Notification{}, errors.New("invalid notification id")
	}
	if !ids.Valid(n.UserID, ids.User) {
		return Notification{}, errors.New("invalid recipient id")
	}
	if !validNotificationKind(n.Kind) {
		return Notification{}, fmt.Errorf("unknown notification kind %q", n.Kind)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	n.CreatedAt = n.CreatedAt.UTC()
	if n.ExpiresAt.IsZero() {
		n.ExpiresAt = n.CreatedAt.Add(NotificationRetention)
	}
	if !n.ExpiresAt.After(n.CreatedAt) {
		return Notification{}, errors.New("notification expires before it is created")
	}
	n.Read, n.Version = false, 1
	return n, nil
}

// NotificationPutItem returns the transaction item that creates n
// (attribute_not_exists, so an ID is never overwritten), for the
// transactions that notify as part of a state change (accept, reject,
// submit, review): the notification exists if and only if the change
// happened. Missing ID, CreatedAt and ExpiresAt are filled in.
func (s *Store) NotificationPutItem(n Notification) (types.TransactWriteItem, error) {
	n, err := s.prepareNotification(n)
	if err != nil {
		return types.TransactWriteItem{}, wrap("notification put item", err)
	}
	var data *NotificationData
	if n.Data != (NotificationData{}) {
		data = &n.Data
	}
	av, err := attributevalue.MarshalMap(notificationItem{
		PK: userPK(n.UserID), SK: skNotifPrefix + n.ID,
		GSI1PK: notifGSI1PK(n.UserID), GSI1SK: listSortKey(n.CreatedAt, n.ID),
		Type: "notification", ID: n.ID, UserID: n.UserID, Kind: n.Kind, Data: data,
		Read: false, CreatedAt: n.CreatedAt, ExpiresAt: epoch(n.ExpiresAt), Version: n.Version,
	})
	if err != nil {
		return types.TransactWriteItem{}, wrap("notification put item", fmt.Errorf("encode notification: %w", err))
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}, nil
}

func decodeNotification(av map[string]types.AttributeValue) (notificationItem, error) {
	var it notificationItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return notificationItem{}, fmt.Errorf("decode notification: %w", err)
	}
	return it, nil
}

func (it notificationItem) notification() Notification {
	n := Notification{
		ID: it.ID, UserID: it.UserID, Kind: it.Kind, Read: it.Read,
		CreatedAt: it.CreatedAt, ExpiresAt: fromEpoch(it.ExpiresAt), Version: it.Version,
	}
	if it.Data != nil {
		n.Data = *it.Data
	}
	return n
}

// notifListRounds bounds the Query round trips of one ListNotifications
// call: with the unread filter a page may match few items, and a request
// must not scan a whole inbox; it returns a short page with a next key.
const notifListRounds = 5

// ListNotifications returns up to limit of the user's live notifications,
// newest first (GSI1), only unread ones if unreadOnly. start is the next
// key of the previous page (nil for the first); next is nil on the last
// page. A start key of another inbox is ErrInvalidPageStart. The index is
// eventually consistent: a notification written a moment ago may appear on
// the next call.
func (s *Store) ListNotifications(ctx context.Context, userID string, unreadOnly bool, limit int32,
	start map[string]types.AttributeValue) (items []Notification, next map[string]types.AttributeValue, err error) {
	if !ids.Valid(userID, ids.User) {
		return nil, nil, wrap("list notifications", ErrNotFound)
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, nil, wrap("list notifications", fmt.Errorf("page limit %d out of range 1..%d", limit, MaxPageSize))
	}
	if start != nil {
		if err := checkNotifStart(start, userID); err != nil {
			return nil, nil, wrap("list notifications", err)
		}
	}
	filter := "#expiresAt > :now"
	values := map[string]types.AttributeValue{
		":pk":  str(notifGSI1PK(userID)),
		":now": num(s.now().Unix()),
	}
	names := map[string]string{"#expiresAt": attrExpires}
	if unreadOnly {
		filter += " AND #read = :false"
		names["#read"] = "read"
		values[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	}
	// Ask for a little more than needed per round: filtered items do not
	// count toward a page, and a short Limit would multiply round trips.
	pageLimit := max(limit, min(s.pageSize, 2*limit))
	for round := 0; round < notifListRounds; round++ {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String("GSI1"),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			FilterExpression:          aws.String(filter),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
			ScanIndexForward:          aws.Bool(false),
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(pageLimit),
		})
		if err != nil {
			return nil, nil, wrap("list notifications", err)
		}
		lastPage := len(out.LastEvaluatedKey) == 0
		for i, av := range out.Items {
			it, err := decodeNotification(av)
			if err != nil {
				return nil, nil, wrap("list notifications", err)
			}
			items = append(items, it.notification())
			if int32(len(items)) == limit {
				if lastPage && i == len(out.Items)-1 {
					return items, nil, nil
				}
				return items, notifIndexKey(it), nil
			}
		}
		if lastPage {
			return items, nil, nil
		}
		start = out.LastEvaluatedKey
	}
	return items, start, nil
}

// notifIndexKey is the GSI1 position of an item, the ExclusiveStartKey that
// continues right after it.
func notifIndexKey(it notificationItem) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(it.PK), attrSK: str(it.SK), "GSI1PK": str(it.GSI1PK), "GSI1SK": str(it.GSI1SK),
	}
}

// checkNotifStart accepts only a GSI1 key of the user's own inbox: a cursor
// is sealed, but one user's valid cursor must not page through another's.
func checkNotifStart(start map[string]types.AttributeValue, userID string) error {
	want := map[string]string{"GSI1PK": notifGSI1PK(userID), attrPK: userPK(userID)}
	if len(start) != 4 {
		return ErrInvalidPageStart
	}
	for _, name := range []string{attrPK, attrSK, "GSI1PK", "GSI1SK"} {
		v, ok := start[name].(*types.AttributeValueMemberS)
		if !ok {
			return ErrInvalidPageStart
		}
		if w, fixed := want[name]; fixed && v.Value != w {
			return ErrInvalidPageStart
		}
	}
	return nil
}

// MarkNotificationRead marks one of the user's notifications read. It is
// idempotent (marking a read notification again succeeds). A notification
// of another user, an unknown or expired one, or a malformed ID is
// ErrNotFound: the key is built from the caller's own user ID, so another
// user's notification cannot even be addressed.
func (s *Store) MarkNotificationRead(ctx context.Context, userID, id string) error {
	if !ids.Valid(userID, ids.User) || !ids.Valid(id, ids.Notification) {
		return wrap("mark notification read", ErrNotFound)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 notificationKey(userID, id),
		UpdateExpression:    aws.String("SET #read = :true ADD #version :one"),
		ConditionExpression: aws.String("attribute_exists(PK) AND #expiresAt > :now"),
		ExpressionAttributeNames: map[string]string{
			"#read": "read", "#version": attrVersion, "#expiresAt": attrExpires,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true},
			":one":  num(1),
			":now":  num(s.now().Unix()),
		},
	})
	if isConditionFailed(err) {
		return wrap("mark notification read", ErrNotFound)
	}
	return wrap("mark notification read", err)
}
