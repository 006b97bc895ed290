package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

// putNotification writes n the way the domain transactions do: through
// NotificationPutItem in a TransactWriteItems.
func putNotification(t *testing.T, e env, n store.Notification) error {
	t.Helper()
	item, err := e.st.NotificationPutItem(n)
	if err != nil {
		return err
	}
	_, err = e.db.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}})
	return err
}

func mustNotification(t *testing.T, e env, userID string, createdAt time.Time) store.Notification {
	t.Helper()
	n := store.Notification{
		ID: ids.New(ids.Notification), UserID: userID, Kind: store.KindReviewPosted, CreatedAt: createdAt,
		Data: store.NotificationData{EnrollmentID: ids.New(ids.Enrollment), TaskTitle: "Build a CLI", Version: 2, Decision: "accepted"},
	}
	if err := putNotification(t, e, n); err != nil {
		t.Fatalf("put notification: %v", err)
	}
	return n
}

// listAll pages through the inbox with the given page size.
func listAll(t *testing.T, e env, userID string, unread bool, limit int32) []store.Notification {
	t.Helper()
	var all []store.Notification
	var start map[string]types.AttributeValue
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("pagination does not terminate")
		}
		items, next, err := e.st.ListNotifications(ctx(t), userID, unread, limit, start)
		if err != nil {
			t.Fatalf("ListNotifications: %v", err)
		}
		if int32(len(items)) > limit {
			t.Fatalf("page of %d items, limit %d", len(items), limit)
		}
		all = append(all, items...)
		if next == nil {
			return all
		}
		start = next
	}
}

func TestNotificationInboxNewestFirstAcrossPages(t *testing.T) {
	e := newEnv(t)
	u, other := ids.New(ids.User), ids.New(ids.User)
	var want []string
	for i := range 7 {
		// Times chosen so RFC3339Nano spellings would sort wrongly
		// ("…05Z" vs "…05.1Z").
		n := mustNotification(t, e, u, base.Add(time.Duration(i)*100*time.Millisecond))
		want = append([]string{n.ID}, want...)
	}
	mustNotification(t, e, other, base)

	for _, limit := range []int32{1, 2, 3, 7, 50} {
		got := listAll(t, e, u, false, limit)
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d items, want %d", limit, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i] {
				t.Fatalf("limit %d: item %d = %s, want %s", limit, i, got[i].ID, want[i])
			}
			if got[i].UserID != u || got[i].Read || got[i].Kind != store.KindReviewPosted {
				t.Fatalf("item %+v", got[i])
			}
		}
	}
	got := listAll(t, e, u, false, 7)
	if d := got[0].Data; d.TaskTitle != "Build a CLI" || d.Version != 2 || d.Decision != "accepted" {
		t.Fatalf("data = %+v", d)
	}
	// TTLs are whole seconds, rounded up.
	if exp := got[0].CreatedAt.Add(store.NotificationRetention); got[0].ExpiresAt.Before(exp) || !got[0].ExpiresAt.Before(exp.Add(time.Second)) {
		t.Fatalf("expiresAt %v, createdAt %v", got[0].ExpiresAt, got[0].CreatedAt)
	}
}

func TestNotificationUnreadFilterAndMarkRead(t *testing.T) {
	e := newEnv(t)
	u := ids.New(ids.User)
	var all []store.Notification
	for i := range 6 {
		all = append(all, mustNotification(t, e, u, base.Add(time.Duration(i)*time.Second)))
	}
	for _, n := range all[:4] {
		if err := e.st.MarkNotificationRead(ctx(t), u, n.ID); err != nil {
			t.Fatalf("MarkNotificationRead: %v", err)
		}
	}
	// Idempotent.
	if err := e.st.MarkNotificationRead(ctx(t), u, all[0].ID); err != nil {
		t.Fatalf("second MarkNotificationRead: %v", err)
	}
	unread := listAll(t, e, u, true, 1)
	if len(unread) != 2 || unread[0].ID != all[5].ID || unread[1].ID != all[4].ID {
		t.Fatalf("unread = %+v", unread)
	}
	every := listAll(t, e, u, false, 50)
	read := 0
	for _, n := range every {
		if n.Read {
			read++
		}
	}
	if len(every) != 6 || read != 4 {
		t.Fatalf("%d items, %d read", len(every), read)
	}
}

func TestMarkNotificationReadNotFound(t *testing.T) {
	e := newEnv(t)
	owner, intruder := ids.New(ids.User), ids.New(ids.User)
	n := mustNotification(t, e, owner, base)
	cases := []struct {
		name, user, id string
	}{
		{"another user's notification", intruder, n.ID},
		{"unknown id", owner, ids.New(ids.Notification)},
		{"malformed id", owner, "ntf_x"},
		{"id of another type", owner, ids.New(ids.Session)},
		{"malformed user", "usr_nope", n.ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.st.MarkNotificationRead(ctx(t), tc.user, tc.id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
	}
	got := listAll(t, e, owner, true, 10)
	if len(got) != 1 || got[0].Read {
		t.Fatalf("the owner's notification changed: %+v", got)
	}
	// The intruder's denied attempt created nothing in their inbox either.
	if got := listAll(t, e, intruder, false, 10); len(got) != 0 {
		t.Fatalf("intruder inbox = %+v", got)
	}
}

func TestNotificationExpiry(t *testing.T) {
	e := newEnv(t)
	u := ids.New(ids.User)
	old := mustNotification(t, e, u, base.Add(-store.NotificationRetention-time.Second))
	fresh := mustNotification(t, e, u, base)
	got := listAll(t, e, u, false, 10)
	if len(got) != 1 || got[0].ID != fresh.ID {
		t.Fatalf("list = %+v, want only the fresh one", got)
	}
	if err := e.st.MarkNotificationRead(ctx(t), u, old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("mark expired: %v, want ErrNotFound", err)
	}
}

func TestListNotificationsRejectsForeignStart(t *testing.T) {
	e := newEnv(t)
	alice, bob := ids.New(ids.User), ids.New(ids.User)
	for i := range 3 {
		mustNotification(t, e, alice, base.Add(time.Duration(i)*time.Second))
		mustNotification(t, e, bob, base.Add(time.Duration(i)*time.Second))
	}
	_, bobNext, err := e.st.ListNotifications(ctx(t), bob, false, 1, nil)
	if err != nil || bobNext == nil {
		t.Fatalf("bob page: next=%v err=%v", bobNext, err)
	}
	tampered := map[string]types.AttributeValue{}
	for k, v := range bobNext {
		tampered[k] = v
	}
	tampered["GSI1PK"] = &types.AttributeValueMemberS{Value: "USER#" + alice + "#NOTIFS"}
	extra := map[string]types.AttributeValue{}
	for k, v := range bobNext {
		extra[k] = v
	}
	extra["x"] = &types.AttributeValueMemberS{Value: "y"}
	cases := []struct {
		name  string
		start map[string]types.AttributeValue
	}{
		{"another user's cursor", bobNext},
		{"half rewritten", tampered},
		{"extra attribute", extra},
		{"empty", map[string]types.AttributeValue{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.st.ListNotifications(ctx(t), alice, false, 5, tc.start)
			if !errors.Is(err, store.ErrInvalidPageStart) {
				t.Fatalf("err = %v, want ErrInvalidPageStart", err)
			}
		})
	}
}

func TestListNotificationsLimits(t *testing.T) {
	e := newEnv(t)
	u := ids.New(ids.User)
	for _, limit := range []int32{0, -1, store.MaxPageSize + 1} {
		if _, _, err := e.st.ListNotifications(ctx(t), u, false, limit, nil); err == nil {
			t.Fatalf("limit %d accepted", limit)
		}
	}
	if _, _, err := e.st.ListNotifications(ctx(t), "usr_bad", false, 5, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("malformed user: %v", err)
	}
}

func TestNotificationPutItemValidates(t *testing.T) {
	e := newEnv(t)
	u := ids.New(ids.User)
	cases := []struct {
		name string
		n    store.Notification
	}{
		{"unknown kind", store.Notification{UserID: u, Kind: "secret.leaked"}},
		{"malformed recipient", store.Notification{UserID: "usr_1", Kind: store.KindReviewPosted}},
		{"malformed id", store.Notification{ID: "ntf_1", UserID: u, Kind: store.KindReviewPosted}},
		{"expires before created", store.Notification{UserID: u, Kind: store.KindReviewPosted, CreatedAt: base, ExpiresAt: base.Add(-time.Hour)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.st.NotificationPutItem(tc.n); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// Defaults: a fresh id, now, unread.
	if err := putNotification(t, e, store.Notification{UserID: u, Kind: store.KindSubmissionCreated, Read: true}); err != nil {
		t.Fatal(err)
	}
	got := listAll(t, e, u, true, 5)
	if len(got) != 1 || !ids.Valid(got[0].ID, ids.Notification) || !got[0].CreatedAt.Equal(base) || got[0].Version != 1 {
		t.Fatalf("got %+v", got)
	}
	// The same ID cannot be written twice (attribute_not_exists).
	dup := store.Notification{ID: got[0].ID, UserID: u, Kind: store.KindReviewPosted}
	if err := putNotification(t, e, dup); err == nil {
		t.Fatal("duplicate notification id overwrote the first")
	}
	if got := listAll(t, e, u, false, 5); len(got) != 1 || got[0].Kind != store.KindSubmissionCreated {
		t.Fatalf("after duplicate: %+v", got)
	}
}

func TestNotificationFromDomain(t *testing.T) {
	ev := domain.EnrollmentCompleted{EnrollmentID: ids.New(ids.Enrollment), ProgramID: ids.New(ids.Program), InternID: ids.New(ids.User), CompletedAt: base}
	p := domain.Program{ID: ev.ProgramID, Title: "Go backend"}
	cases := []struct {
		name string
		in   domain.Notification
		kind string
	}{
		{"completed", domain.EnrollmentCompletedNotification(ev, p, base), store.KindEnrollmentCompleted},
		{"review", domain.ReviewPostedNotification(domain.Review{
			SubmissionID: ids.New(ids.Submission), SubmissionVersion: 3, EnrollmentID: ev.EnrollmentID,
			InternID: ev.InternID, Decision: domain.ReviewChangesRequested, Feedback: "secret feedback",
		}, domain.Task{ID: ids.New(ids.Task), Title: "T"}, p, base), store.KindReviewPosted},
		{"submission", domain.SubmissionReceivedNotification(domain.Submission{
			ID: ids.New(ids.Submission), MentorID: ids.New(ids.User), EnrollmentID: ev.EnrollmentID, Version: 1,
		}, domain.Task{ID: ids.New(ids.Task), Title: "T"}, p, base), store.KindSubmissionCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := store.NotificationFromDomain(tc.in)
			if n.Kind != tc.kind || n.UserID != tc.in.RecipientID || n.ID != tc.in.ID || n.Read {
				t.Fatalf("got %+v from %+v", n, tc.in)
			}
			if n.Data.Version != tc.in.Payload.SubmissionVersion || n.Data.Decision != tc.in.Payload.Outcome ||
				n.Data.ProgramTitle != "Go backend" || n.Data.EnrollmentID != ev.EnrollmentID {
				t.Fatalf("data %+v from payload %+v", n.Data, tc.in.Payload)
			}
			e := newEnv(t)
			if _, err := e.st.NotificationPutItem(n); err != nil {
				t.Fatalf("converted notification refused: %v", err)
			}
		})
	}
}
