package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
)

// Session statuses.
const (
	SessionActive  = "active"
	SessionRevoked = "revoked"
)

// Refresh token statuses.
const (
	TokenActive = "active"
	TokenUsed   = "used"
)

// Session is a login: the family of refresh tokens issued from one
// authentication. ExpiresAt is its absolute lifetime, kept in whole seconds
// (rounded up), as DynamoDB TTL stores it.
type Session struct {
	ID            string
	UserID        string
	Status        string
	RevokedReason string
	UserAgent     string
	SourceIP      string
	// RefreshHash is the hash of the session's current refresh token.
	RefreshHash string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
	// VerifiedPasswordHash, when set, is the stored password hash the login
	// verified: CreateSession then succeeds only if the user's hash is still
	// that one, so a login that verified a password changed meanwhile
	// cannot create a session after the change revoked the others. Not
	// stored on the session.
	VerifiedPasswordHash string
}

// Live reports whether the session may still authorize requests at now. The
// authorizer must check it (and User.Active) on what GetUserAndSession
// returns: revoked sessions are returned as stored, not hidden.
func (s Session) Live(now time.Time) bool {
	return s.Status == SessionActive && now.Before(s.ExpiresAt)
}

// RefreshToken is the stored record of an opaque refresh token. Hash is the
// caller's digest of the token (hex or base64url SHA-256); the token itself
// never reaches the store.
type RefreshToken struct {
	Hash      string
	UserID    string
	SessionID string
	Status    string
	ExpiresAt time.Time
}

type sessionItem struct {
	PK            string    `dynamodbav:"PK"`
	SK            string    `dynamodbav:"SK"`
	Type          string    `dynamodbav:"type"`
	ID            string    `dynamodbav:"id"`
	UserID        string    `dynamodbav:"userId"`
	Status        string    `dynamodbav:"status"`
	RevokedReason string    `dynamodbav:"revokedReason,omitempty"`
	UserAgent     string    `dynamodbav:"userAgent"`
	SourceIP      string    `dynamodbav:"sourceIp"`
	RefreshHash   string    `dynamodbav:"refreshHash"`
	CreatedAt     time.Time `dynamodbav:"createdAt"`
	LastSeenAt    time.Time `dynamodbav:"lastSeenAt"`
	ExpiresAt     int64     `dynamodbav:"expiresAt"`
	Version       int64     `dynamodbav:"version"`
}

type refreshItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	UserID    string    `dynamodbav:"userId"`
	SessionID string    `dynamodbav:"sessionId"`
	Status    string    `dynamodbav:"status"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

const (
	skSessionPrefix = "SESSION#"
	skRefresh       = "REFRESH"
	// maxUserAgent keeps a hostile User-Agent header from bloating items.
	maxUserAgent = 512
	maxReason    = 256
	maxSourceIP  = 64
)

func sessionKey(userID, sessionID string) map[string]types.AttributeValue {
	return key(userPK(userID), skSessionPrefix+sessionID)
}

func refreshKey(hash string) map[string]types.AttributeValue {
	return key("REFRESH#"+hash, skRefresh)
}

func (it sessionItem) session() Session {
	return Session{
		ID: it.ID, UserID: it.UserID, Status: it.Status, RevokedReason: it.RevokedReason,
		UserAgent: it.UserAgent, SourceIP: it.SourceIP, RefreshHash: it.RefreshHash,
		CreatedAt: it.CreatedAt, LastSeenAt: it.LastSeenAt, ExpiresAt: fromEpoch(it.ExpiresAt),
	}
}

func decodeSession(av map[string]types.AttributeValue) (sessionItem, error) {
	var it sessionItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return sessionItem{}, fmt.Errorf("decode session: %w", err)
	}
	return it, nil
}

func decodeRefresh(hash string, av map[string]types.AttributeValue) (refreshItem, RefreshToken, error) {
	var it refreshItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return refreshItem{}, RefreshToken{}, fmt.Errorf("decode refresh token: %w", err)
	}
	return it, RefreshToken{
		Hash: hash, UserID: it.UserID, SessionID: it.SessionID, Status: it.Status, ExpiresAt: fromEpoch(it.ExpiresAt),
	}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	// Do not leave half a UTF-8 sequence behind.
	return strings.ToValidUTF8(s, "")
}

// CreateSession stores a new active session and its first refresh token in
// one transaction, on condition that the user exists and is active (a
// suspension racing a login cannot leave a live session behind). The
// session's RefreshHash is set to first.Hash; first's UserID and SessionID
// must name the session (or be empty, and are then filled in). ErrConflict
// when the user is missing or not active.
func (s *Store) CreateSession(ctx context.Context, sess Session, first RefreshToken) error {
	now := s.now().UTC()
	if err := checkNewSession(&sess, &first, now); err != nil {
		return wrap("create session", err)
	}
	sessAV, err := attributevalue.MarshalMap(sessionItem{
		PK: userPK(sess.UserID), SK: skSessionPrefix + sess.ID, Type: "session",
		ID: sess.ID, UserID: sess.UserID, Status: SessionActive,
		UserAgent: truncate(sess.UserAgent, maxUserAgent), SourceIP: truncate(sess.SourceIP, maxSourceIP),
		RefreshHash: first.Hash, CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt,
		ExpiresAt: epoch(sess.ExpiresAt), Version: 1,
	})
	if err != nil {
		return wrap("create session", fmt.Errorf("encode session: %w", err))
	}
	tokAV, err := attributevalue.MarshalMap(newRefreshItem(first, now))
	if err != nil {
		return wrap("create session", fmt.Errorf("encode refresh token: %w", err))
	}
	notExists := aws.String("attribute_not_exists(PK)")
	userCheck := &types.ConditionCheck{
		TableName:                 aws.String(s.table),
		Key:                       userKey(sess.UserID),
		ConditionExpression:       aws.String("#status = :active"),
		ExpressionAttributeNames:  map[string]string{"#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":active": str(UserActive)},
	}
	if sess.VerifiedPasswordHash != "" {
		userCheck.ConditionExpression = aws.String("#status = :active AND #pw = :pw")
		userCheck.ExpressionAttributeNames["#pw"] = "passwordHash"
		userCheck.ExpressionAttributeValues[":pw"] = str(sess.VerifiedPasswordHash)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: userCheck},
		{Put: &types.Put{TableName: aws.String(s.table), Item: sessAV, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: tokAV, ConditionExpression: notExists}},
	}})
	if err == nil {
		return nil
	}
	codes, ok := cancellation(err)
	if !ok {
		return wrap("create session", err)
	}
	switch {
	case reasonAt(codes, 0) == codeConditionFailed:
		return wrap("create session", fmt.Errorf("user missing, not active, or password changed: %w", ErrConflict))
	case reasonAt(codes, 1) == codeConditionFailed:
		return wrap("create session", fmt.Errorf("session id exists: %w", ErrConflict))
	case reasonAt(codes, 2) == codeConditionFailed:
		return wrap("create session", fmt.Errorf("refresh token hash exists: %w", ErrConflict))
	}
	return wrap("create session", fmt.Errorf("%w: %w", ErrConflict, err))
}

func checkNewSession(sess *Session, first *RefreshToken, now time.Time) error {
	if !ids.Valid(sess.UserID, ids.User) {
		return errors.New("invalid user id")
	}
	if !ids.Valid(sess.ID, ids.Session) {
		return errors.New("invalid session id")
	}
	if !sess.ExpiresAt.After(now) {
		return errors.New("session already expired")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.LastSeenAt.IsZero() {
		sess.LastSeenAt = sess.CreatedAt
	}
	sess.CreatedAt, sess.LastSeenAt = sess.CreatedAt.UTC(), sess.LastSeenAt.UTC()
	if first.UserID == "" {
		first.UserID = sess.UserID
	}
	if first.SessionID == "" {
		first.SessionID = sess.ID
	}
	if first.UserID != sess.UserID || first.SessionID != sess.ID {
		return errors.New("refresh token does not belong to the session")
	}
	return checkNewToken(*first, now)
}

func checkNewToken(t RefreshToken, now time.Time) error {
	if !validHash(t.Hash) {
		return errors.New("invalid refresh token hash")
	}
	if t.Status != "" && t.Status != TokenActive {
		return fmt.Errorf("new refresh token with status %q", t.Status)
	}
	if !t.ExpiresAt.After(now) {
		return errors.New("refresh token already expired")
	}
	return nil
}

func newRefreshItem(t RefreshToken, now time.Time) refreshItem {
	return refreshItem{
		PK: "REFRESH#" + t.Hash, SK: skRefresh, Type: "refreshToken",
		UserID: t.UserID, SessionID: t.SessionID, Status: TokenActive,
		CreatedAt: now, ExpiresAt: epoch(t.ExpiresAt),
	}
}

// GetSession returns one session of the user. Expired sessions are
// ErrNotFound; revoked ones are returned (check Session.Live).
func (s *Store) GetSession(ctx context.Context, userID, sessionID string) (Session, error) {
	sess, err := s.loadSession(ctx, userID, sessionID, s.now())
	return sess, wrap("get session", err)
}

// loadSession reads a session; missing, malformed or expired is ErrNotFound.
func (s *Store) loadSession(ctx context.Context, userID, sessionID string, now time.Time) (Session, error) {
	if !ids.Valid(userID, ids.User) || !ids.Valid(sessionID, ids.Session) {
		return Session{}, ErrNotFound
	}
	av, found, err := s.getItem(ctx, sessionKey(userID, sessionID))
	if err != nil {
		return Session{}, err
	}
	if !found {
		return Session{}, ErrNotFound
	}
	it, err := decodeSession(av)
	if err != nil {
		return Session{}, err
	}
	if expired(it.ExpiresAt, now) {
		return Session{}, ErrNotFound
	}
	return it.session(), nil
}

// GetUserAndSession reads the user and one of their sessions with a single
// strongly consistent BatchGetItem: the authorizer's per-request check, so
// logout, password change and suspension take effect on the next call.
// ErrNotFound if either is missing or the session has expired; a revoked
// session or a suspended user is returned as stored, and the caller must
// check Session.Live and User.Active.
func (s *Store) GetUserAndSession(ctx context.Context, userID, sessionID string) (User, Session, error) {
	if !ids.Valid(userID, ids.User) || !ids.Valid(sessionID, ids.Session) {
		return User{}, Session{}, wrap("get user and session", ErrNotFound)
	}
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{userKey(userID), sessionKey(userID, sessionID)})
	if err != nil {
		return User{}, Session{}, wrap("get user and session", err)
	}
	var (
		u            User
		it           sessionItem
		gotU, gotSes bool
	)
	for _, av := range items {
		sk, _ := av[attrSK].(*types.AttributeValueMemberS)
		switch {
		case sk == nil:
			continue
		case sk.Value == skProfile:
			if u, err = decodeUser(av); err != nil {
				return User{}, Session{}, wrap("get user and session", err)
			}
			gotU = true
		case sk.Value == skSessionPrefix+sessionID:
			if it, err = decodeSession(av); err != nil {
				return User{}, Session{}, wrap("get user and session", err)
			}
			gotSes = true
		}
	}
	if !gotU || !gotSes || expired(it.ExpiresAt, s.now()) {
		return User{}, Session{}, wrap("get user and session", ErrNotFound)
	}
	return u, it.session(), nil
}

// batchGet reads keys (at most 100) with BatchGetItem, retrying
// UnprocessedKeys (returned under throttling) a bounded number of times with
// a growing pause, then giving up with an error rather than a partial answer.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var items []map[string]types.AttributeValue
	delay := s.batchBackoff
	for attempt := 1; ; attempt++ {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Responses[s.table]...)
		left, ok := out.UnprocessedKeys[s.table]
		if !ok || len(left.Keys) == 0 {
			return items, nil
		}
		if attempt >= s.batchAttempts {
			return nil, fmt.Errorf("%d keys still unprocessed after %d attempts", len(left.Keys), attempt)
		}
		left.ConsistentRead = aws.Bool(true)
		req = map[string]types.KeysAndAttributes{s.table: left}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay *= 2
	}
}

// ListSessions returns the user's live sessions (active and not expired),
// newest first, reading every page.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]Session, error) {
	if !ids.Valid(userID, ids.User) {
		return nil, wrap("list sessions", ErrNotFound)
	}
	var out []Session
	err := s.eachLiveSession(ctx, userID, func(it sessionItem) error {
		out = append(out, it.session())
		return nil
	})
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// eachLiveSession pages through the user's sessions that are active and not
// expired.
func (s *Store) eachLiveSession(ctx context.Context, userID string, fn func(sessionItem) error) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		FilterExpression:       aws.String("#status = :active AND #expiresAt > :now"),
		ExpressionAttributeNames: map[string]string{
			"#status": attrStatus, "#expiresAt": attrExpires,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     str(userPK(userID)),
			":prefix": str(skSessionPrefix),
			":active": str(SessionActive),
			":now":    num(s.now().Unix()),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(s.pageSize),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, av := range page.Items {
			it, err := decodeSession(av)
			if err != nil {
				return err
			}
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// RevokeSession revokes one session (logout, refresh-token reuse). It is
// idempotent: revoking a revoked session succeeds and keeps the first reason.
// ErrNotFound if the session does not exist.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID, reason string) error {
	if !ids.Valid(userID, ids.User) || !ids.Valid(sessionID, ids.Session) {
		return wrap("revoke session", ErrNotFound)
	}
	if reason == "" {
		return wrap("revoke session", errors.New("empty reason"))
	}
	revoked, err := s.revoke(ctx, userID, sessionID, reason)
	if err != nil {
		return wrap("revoke session", err)
	}
	if revoked {
		return nil
	}
	if _, found, err := s.getItem(ctx, sessionKey(userID, sessionID)); err != nil {
		return wrap("revoke session", err)
	} else if !found {
		return wrap("revoke session", ErrNotFound)
	}
	return nil
}

// revoke flips an active session to revoked; revoked is false when the
// session was not active (or does not exist).
func (s *Store) revoke(ctx context.Context, userID, sessionID, reason string) (revoked bool, err error) {
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       sessionKey(userID, sessionID),
		UpdateExpression: aws.String(
			"SET #status = :revoked, revokedReason = :reason, revokedAt = :now, #version = #version + :one"),
		ConditionExpression:      aws.String("#status = :active"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus, "#version": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":revoked": str(SessionRevoked),
			":active":  str(SessionActive),
			":reason":  str(truncate(reason, maxReason)),
			":now":     str(s.now().UTC().Format(time.RFC3339Nano)),
			":one":     num(1),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// RevokeAllSessions revokes every live session of the user except
// exceptSessionID (empty: none spared), e.g. after a password change (keeping
// the current one) or a suspension (keeping none). It pages through all
// sessions and returns how many it revoked; sessions revoked concurrently by
// someone else are not counted.
func (s *Store) RevokeAllSessions(ctx context.Context, userID, reason, exceptSessionID string) (int, error) {
	if !ids.Valid(userID, ids.User) {
		return 0, wrap("revoke all sessions", ErrNotFound)
	}
	if reason == "" {
		return 0, wrap("revoke all sessions", errors.New("empty reason"))
	}
	n := 0
	err := s.eachLiveSession(ctx, userID, func(it sessionItem) error {
		if it.ID == exceptSessionID {
			return nil
		}
		revoked, err := s.revoke(ctx, userID, it.ID, reason)
		if revoked {
			n++
		}
		return err
	})
	return n, wrap("revoke all sessions", err)
}

// RotateRefresh spends the refresh token whose hash is oldHash and installs
// next in its place, in one transaction: the old token goes active → used
// (only if still active and unexpired), next is stored, and the session
// (only if active and unexpired) points at next and records now as
// lastSeenAt. next's UserID and SessionID are taken from the old token.
//
// It returns the old token, with its user and session. Errors:
//   - ErrTokenSpent: the token was already used. The returned token names
//     the user and session so the caller can revoke the family and audit.
//   - ErrNotFound: unknown or expired token, or the session is revoked,
//     missing or expired.
//   - ErrConflict: a concurrent write interfered without spending the
//     token; retrying is safe.
func (s *Store) RotateRefresh(ctx context.Context, oldHash string, next RefreshToken, now time.Time) (RefreshToken, error) {
	old, err := s.rotate(ctx, oldHash, next, now)
	return old, wrap("rotate refresh token", err)
}

func (s *Store) rotate(ctx context.Context, oldHash string, next RefreshToken, now time.Time) (RefreshToken, error) {
	if !validHash(oldHash) {
		return RefreshToken{}, ErrNotFound
	}
	if next.Hash == oldHash {
		return RefreshToken{}, errors.New("next refresh token reuses the old hash")
	}
	if err := checkNewToken(next, now); err != nil {
		return RefreshToken{}, err
	}
	old, err := s.loadRefresh(ctx, oldHash, now)
	if err != nil {
		return RefreshToken{}, err
	}
	if old.Status != TokenActive {
		return old, ErrTokenSpent
	}
	next.UserID, next.SessionID = old.UserID, old.SessionID
	nextAV, err := attributevalue.MarshalMap(newRefreshItem(next, now.UTC()))
	if err != nil {
		return RefreshToken{}, fmt.Errorf("encode refresh token: %w", err)
	}
	nowN := num(now.Unix())
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                aws.String(s.table),
			Key:                      refreshKey(oldHash),
			UpdateExpression:         aws.String("SET #status = :used, usedAt = :usedAt"),
			ConditionExpression:      aws.String("#status = :active AND #expiresAt > :now"),
			ExpressionAttributeNames: map[string]string{"#status": attrStatus, "#expiresAt": attrExpires},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":used": str(TokenUsed), ":active": str(TokenActive), ":now": nowN,
				":usedAt": str(now.UTC().Format(time.RFC3339Nano)),
			},
		}},
		{Put: &types.Put{
			TableName: aws.String(s.table), Item: nextAV, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table),
			Key:       sessionKey(old.UserID, old.SessionID),
			UpdateExpression: aws.String(
				"SET refreshHash = :next, lastSeenAt = :seen, #version = #version + :one"),
			// refreshHash = :old: only the session's current token may
			// rotate it, whatever happened to other tokens of the family.
			ConditionExpression: aws.String(
				"#status = :active AND #expiresAt > :now AND refreshHash = :old"),
			ExpressionAttributeNames: map[string]string{
				"#status": attrStatus, "#expiresAt": attrExpires, "#version": attrVersion,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":next": str(next.Hash), ":old": str(oldHash), ":active": str(SessionActive), ":now": nowN,
				":seen": str(now.UTC().Format(time.RFC3339Nano)), ":one": num(1),
			},
		}},
	}})
	if err == nil {
		return old, nil
	}
	if _, ok := cancellation(err); !ok {
		return RefreshToken{}, err
	}
	// Classify by what is stored now rather than by cancellation reasons:
	// DynamoDB reports a rival transaction as TransactionConflict or as
	// ConditionalCheckFailed depending on timing, the outcome is the same.
	cur, lerr := s.loadRefresh(ctx, oldHash, now)
	switch {
	case errors.Is(lerr, ErrNotFound):
		return RefreshToken{}, ErrNotFound
	case lerr != nil:
		return RefreshToken{}, errors.Join(err, lerr)
	case cur.Status != TokenActive:
		return cur, ErrTokenSpent
	}
	if sess, serr := s.loadSession(ctx, old.UserID, old.SessionID, now); errors.Is(serr, ErrNotFound) ||
		(serr == nil && (!sess.Live(now) || sess.RefreshHash != oldHash)) {
		return RefreshToken{}, ErrNotFound
	}
	return RefreshToken{}, fmt.Errorf("%w: %w", ErrConflict, err)
}

// loadRefresh reads a refresh token; expired tokens are ErrNotFound.
func (s *Store) loadRefresh(ctx context.Context, hash string, now time.Time) (RefreshToken, error) {
	av, found, err := s.getItem(ctx, refreshKey(hash))
	if err != nil {
		return RefreshToken{}, err
	}
	if !found {
		return RefreshToken{}, ErrNotFound
	}
	it, tok, err := decodeRefresh(hash, av)
	if err != nil {
		return RefreshToken{}, err
	}
	if expired(it.ExpiresAt, now) {
		return RefreshToken{}, ErrNotFound
	}
	return tok, nil
}
