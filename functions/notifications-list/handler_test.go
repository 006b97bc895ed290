package main

import (
	"context"
	"encoding/json/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/notify"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work/worktest"
)

func newHandler(t *testing.T, env *worktest.Env) *Handler {
	t.Helper()
	l, err := notify.NewLister(env.Store, env.Cursors)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(l)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func listReq(u store.User, query map[string]string) events.APIGatewayProxyRequest {
	req := worktest.Request(http.MethodGet, "/v1/notifications", "/v1/notifications", "", nil, u)
	req.QueryStringParameters = query
	return req
}

// put adds n notifications for userID, one second apart, and marks the
// oldest read.
func put(t *testing.T, env *worktest.Env, userID string, n int) {
	t.Helper()
	for i := range n {
		item, err := env.Store.NotificationPutItem(store.Notification{
			UserID: userID, Kind: store.KindReviewPosted, CreatedAt: worktest.Now.Add(time.Duration(i) * time.Second),
			Data: store.NotificationData{EnrollmentID: env.Enrollment.ID, TaskID: env.Tasks[0].ID, TaskTitle: "Task 1", Version: i + 1, Decision: "accepted"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.DB.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}}); err != nil {
			t.Fatal(err)
		}
	}
}

func decodePage(t *testing.T, body string) notify.Page {
	t.Helper()
	var p notify.Page
	if err := json.Unmarshal([]byte(body), &p, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("page %s: %v", body, err)
	}
	return p
}

func TestListNotifications(t *testing.T) {
	tests := []struct {
		name       string
		query      map[string]string
		as         func(env *worktest.Env) store.User
		wantStatus int
		wantItems  int
		wantField  string
	}{
		// The intern also has the acceptance notification of the fixture.
		{name: "own inbox", wantStatus: 200, wantItems: 4},
		{name: "unread only", query: map[string]string{"unread": "true", "limit": "50"}, wantStatus: 200, wantItems: 3},
		{name: "unread false", query: map[string]string{"unread": "false"}, wantStatus: 200, wantItems: 4},
		{name: "limit", query: map[string]string{"limit": "2"}, wantStatus: 200, wantItems: 2},
		{name: "another user sees only their own", as: func(env *worktest.Env) store.User { return env.OtherIntern }, wantStatus: 200, wantItems: 0},
		{name: "limit zero", query: map[string]string{"limit": "0"}, wantStatus: 400, wantField: "limit"},
		{name: "limit above 50", query: map[string]string{"limit": "51"}, wantStatus: 400, wantField: "limit"},
		{name: "limit not a number", query: map[string]string{"limit": "ten"}, wantStatus: 400, wantField: "limit"},
		{name: "unread not a boolean", query: map[string]string{"unread": "yes"}, wantStatus: 400, wantField: "unread"},
		{name: "tampered cursor", query: map[string]string{"cursor": "AXdGVhbXBlcmVkLWN1cnNvcg"}, wantStatus: 400, wantField: "cursor"},
		{name: "unknown parameter", query: map[string]string{"userId": "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, wantStatus: 400, wantField: "userId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := worktest.New(t)
			put(t, env, env.Intern.ID, 3)
			if err := env.Store.MarkNotificationRead(worktest.Ctx(t), env.Intern.ID, env.Inbox(t, env.Intern.ID)[3].ID); err != nil {
				t.Fatal(err)
			}
			as := env.Intern
			if tt.as != nil {
				as = tt.as(env)
			}
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, listReq(as, tt.query))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantStatus != 200 {
				e := apigwtest.DecodeError(t, resp)
				if e.Code != "validation_failed" || len(e.Fields) == 0 || e.Fields[0].Field != tt.wantField {
					t.Fatalf("error = %+v", e)
				}
				return
			}
			page := decodePage(t, resp.Body)
			if len(page.Items) != tt.wantItems {
				t.Fatalf("%d items, want %d: %s", len(page.Items), tt.wantItems, resp.Body)
			}
			for i := 1; i < len(page.Items); i++ {
				if page.Items[i].CreatedAt.After(page.Items[i-1].CreatedAt) {
					t.Fatalf("not newest first: %s", resp.Body)
				}
			}
			if strings.Contains(resp.Body, as.ID) {
				t.Fatalf("the page names the recipient: %s", resp.Body)
			}
		})
	}
}

// Paging through the whole inbox with the returned cursors, and a cursor
// replayed by another user is refused.
func TestListNotificationsPaging(t *testing.T) {
	env := worktest.New(t)
	put(t, env, env.Intern.ID, 4)
	h := newHandler(t, env)
	seen := map[string]bool{}
	query := map[string]string{"limit": "2"}
	var lastCursor string
	for range 10 {
		resp := env.Serve(t, functionName, h.Handle, listReq(env.Intern, query))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		page := decodePage(t, resp.Body)
		for _, n := range page.Items {
			if seen[n.ID] {
				t.Fatalf("%s listed twice", n.ID)
			}
			seen[n.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		lastCursor = page.NextCursor
		query = map[string]string{"limit": "2", "cursor": page.NextCursor}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d notifications, want 5", len(seen))
	}
	resp := env.Serve(t, functionName, h.Handle, listReq(env.OtherIntern, map[string]string{"cursor": lastCursor}))
	if resp.StatusCode != 400 || apigwtest.DecodeError(t, resp).Fields[0].Field != "cursor" {
		t.Fatalf("foreign cursor: %d %s", resp.StatusCode, resp.Body)
	}
	if _, err := url.ParseQuery("cursor=" + lastCursor); err != nil {
		t.Fatalf("cursor is not URL-safe: %v", err)
	}
}

func TestListNotificationsRefusals(t *testing.T) {
	env := worktest.New(t)
	h := newHandler(t, env)
	noAuth := listReq(env.Intern, nil)
	noAuth.RequestContext.Authorizer = nil
	post := listReq(env.Intern, nil)
	post.HTTPMethod = http.MethodPost
	body := listReq(env.Intern, nil)
	body.Body = `{"userId":"x"}`
	for name, tc := range map[string]struct {
		req    events.APIGatewayProxyRequest
		status int
	}{
		"no principal": {noAuth, 401}, "wrong method": {post, 405}, "a body": {body, 400},
	} {
		t.Run(name, func(t *testing.T) {
			if resp := env.Serve(t, functionName, h.Handle, tc.req); resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func TestSampleEvents(t *testing.T) {
	want := map[string]int{"list-unread": 200, "list-tampered-cursor": 400}
	for _, ev := range apigwtest.LoadProxyEvents(t, worktest.RepoFile(t, "events/"+functionName)) {
		t.Run(ev.Name, func(t *testing.T) {
			env := worktest.New(t)
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, ev.Request)
			if resp.StatusCode != want[ev.Name] {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want[ev.Name], resp.Body)
			}
			if resp.StatusCode == 200 {
				if p := decodePage(t, resp.Body); len(p.Items) != 0 || p.NextCursor != "" {
					t.Fatalf("page = %+v", p)
				}
			}
		})
	}
}
