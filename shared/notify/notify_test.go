package notify_test

import (
	"context"
	"encoding/json/v2"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/cursor"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/internal/dyntest"
	"github.com/vip-platform/backend/shared/notify"
	"github.com/vip-platform/backend/shared/store"
)

var base = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

type env struct {
	st  *store.Store
	db  *dynamodb.Client
	svc *notify.Lister
	mrk *notify.Marker
}

func newEnv(t *testing.T) env {
	t.Helper()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, "../../template.yaml", "MainTable")
	st, err := store.New(db, table, store.WithClock(func() time.Time { return base }))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := cursor.New([]byte(strings.Repeat("k", 32)), nil, cursor.WithClock(func() time.Time { return base }))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := notify.NewLister(st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	mrk, err := notify.NewMarker(st)
	if err != nil {
		t.Fatal(err)
	}
	return env{st: st, db: db, svc: svc, mrk: mrk}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e env) put(t *testing.T, userID string, at time.Time) store.Notification {
	t.Helper()
	n := store.Notification{ID: ids.New(ids.Notification), UserID: userID, Kind: store.KindApplicationDecided, CreatedAt: at,
		Data: store.NotificationData{ProgramID: ids.New(ids.Program), ProgramTitle: "Go", Decision: "accepted"}}
	item, err := e.st.NotificationPutItem(n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestListPagesWithSealedCursors(t *testing.T) {
	e := newEnv(t)
	u := ids.New(ids.User)
	var want []string
	for i := range 5 {
		want = append([]string{e.put(t, u, base.Add(time.Duration(i)*time.Minute)).ID}, want...)
	}
	var got []string
	q := notify.ListQuery{Limit: 2}
	for range 10 {
		page, err := e.svc.List(ctx(t), u, q)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, v := range page.Items {
			got = append(got, v.ID)
		}
		if page.NextCursor == "" {
			break
		}
		if strings.Contains(page.NextCursor, "USER#") || strings.Contains(page.NextCursor, u) {
			t.Fatalf("cursor reveals keys: %s", page.NextCursor)
		}
		q.Cursor = page.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestListRejectsForeignAndTamperedCursors(t *testing.T) {
	e := newEnv(t)
	alice, bob := ids.New(ids.User), ids.New(ids.User)
	for i := range 3 {
		e.put(t, alice, base.Add(time.Duration(i)*time.Second))
		e.put(t, bob, base.Add(time.Duration(i)*time.Second))
	}
	page, err := e.svc.List(ctx(t), bob, notify.ListQuery{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("bob page: %+v %v", page, err)
	}
	bobCursor := page.NextCursor
	tampered := []byte(bobCursor)
	tampered[len(tampered)/2] ^= 1
	cases := []struct {
		name, user string
		q          notify.ListQuery
	}{
		{"another user's cursor", alice, notify.ListQuery{Cursor: bobCursor}},
		{"same user, other filter", bob, notify.ListQuery{Cursor: bobCursor, UnreadOnly: true}},
		{"tampered", bob, notify.ListQuery{Cursor: string(tampered)}},
		{"garbage", bob, notify.ListQuery{Cursor: "not-a-cursor"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.List(ctx(t), tc.user, tc.q); !errors.Is(err, notify.ErrInvalidCursor) {
				t.Fatalf("err = %v, want ErrInvalidCursor", err)
			}
		})
	}
	for _, limit := range []int{-1, notify.MaxLimit + 1} {
		if _, err := e.svc.List(ctx(t), bob, notify.ListQuery{Limit: limit}); !errors.Is(err, notify.ErrInvalidQuery) {
			t.Fatalf("limit %d: %v", limit, err)
		}
	}
	// The default limit applies when none is given.
	if page, err := e.svc.List(ctx(t), bob, notify.ListQuery{}); err != nil || len(page.Items) != 3 || page.NextCursor != "" {
		t.Fatalf("default page: %+v %v", page, err)
	}
}

func TestMarkRead(t *testing.T) {
	e := newEnv(t)
	owner, other := ids.New(ids.User), ids.New(ids.User)
	n := e.put(t, owner, base)
	if err := e.mrk.MarkRead(ctx(t), other, n.ID); !errors.Is(err, notify.ErrNotFound) {
		t.Fatalf("another user's: %v", err)
	}
	if err := e.mrk.MarkRead(ctx(t), owner, ids.New(ids.Notification)); !errors.Is(err, notify.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	page, err := e.svc.List(ctx(t), owner, notify.ListQuery{UnreadOnly: true})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("unread after foreign attempt: %+v %v", page, err)
	}
	for range 2 {
		if err := e.mrk.MarkRead(ctx(t), owner, n.ID); err != nil {
			t.Fatalf("MarkRead: %v", err)
		}
	}
	if page, _ := e.svc.List(ctx(t), owner, notify.ListQuery{UnreadOnly: true}); len(page.Items) != 0 {
		t.Fatalf("still unread: %+v", page)
	}
	if page, _ := e.svc.List(ctx(t), owner, notify.ListQuery{}); len(page.Items) != 1 || !page.Items[0].Read {
		t.Fatalf("all: %+v", page)
	}
}

// The view is the exact public shape: only the documented members, empty
// data members left out, the version a number.
func TestViewShape(t *testing.T) {
	n := store.Notification{
		ID: ids.New(ids.Notification), UserID: ids.New(ids.User), Kind: store.KindReviewPosted, CreatedAt: base,
		Data: store.NotificationData{SubmissionID: ids.New(ids.Submission), Version: 3, Decision: "changes_requested"},
	}
	ev := notify.EventOf(n)
	if ev.Recipient != n.UserID {
		t.Fatalf("recipient %s", ev.Recipient)
	}
	b, err := json.Marshal(ev.Notification)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got["kind"] != store.KindReviewPosted || got["read"] != false || got["createdAt"] != "2031-05-06T07:08:09Z" {
		t.Fatalf("view = %s", b)
	}
	data := got["data"].(map[string]any)
	if len(data) != 3 || data["version"] != float64(3) || data["decision"] != "changes_requested" {
		t.Fatalf("data = %v", data)
	}
	if strings.Contains(string(b), n.UserID) {
		t.Fatalf("view names the recipient: %s", b)
	}
}
