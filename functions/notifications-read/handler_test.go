package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/notify"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/work/worktest"
)

const resource = "/v1/notifications/{notificationId}/read"

func newHandler(t *testing.T, env *worktest.Env) *Handler {
	t.Helper()
	m, err := notify.NewMarker(env.Store)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(m, env.Audit)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func readReq(u store.User, id string) events.APIGatewayProxyRequest {
	return worktest.Request(http.MethodPost, resource, "/v1/notifications/"+id+"/read", "",
		map[string]string{"notificationId": id}, u)
}

func put(t *testing.T, env *worktest.Env, userID string) string {
	t.Helper()
	n := store.Notification{ID: ids.New(ids.Notification), UserID: userID, Kind: store.KindSubmissionCreated,
		Data: store.NotificationData{SubmissionID: ids.New(ids.Submission), Version: 1}}
	item, err := env.Store.NotificationPutItem(n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}}); err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func isRead(t *testing.T, env *worktest.Env, userID, id string) bool {
	t.Helper()
	for _, n := range env.Inbox(t, userID) {
		if n.ID == id {
			return n.Read
		}
	}
	t.Fatalf("notification %s not in the inbox", id)
	return false
}

func TestMarkRead(t *testing.T) {
	tests := []struct {
		name       string
		req        func(env *worktest.Env, own, foreign string) events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		ownRead    bool
		audited    bool
	}{
		{name: "own notification", req: func(env *worktest.Env, own, _ string) events.APIGatewayProxyRequest { return readReq(env.Mentor, own) },
			wantStatus: 204, ownRead: true},
		{name: "another user's notification", req: func(env *worktest.Env, _, foreign string) events.APIGatewayProxyRequest {
			return readReq(env.Mentor, foreign)
		}, wantStatus: 404, wantCode: "not_found", audited: true},
		{name: "unknown id", req: func(env *worktest.Env, _, _ string) events.APIGatewayProxyRequest {
			return readReq(env.Mentor, ids.New(ids.Notification))
		}, wantStatus: 404, wantCode: "not_found", audited: true},
		{name: "malformed id", req: func(env *worktest.Env, _, _ string) events.APIGatewayProxyRequest {
			return readReq(env.Mentor, "NOTIF#x")
		},
			wantStatus: 404, wantCode: "not_found"},
		{name: "a body", req: func(env *worktest.Env, own, _ string) events.APIGatewayProxyRequest {
			req := readReq(env.Mentor, own)
			req.Body = `{"read":false}`
			return req
		}, wantStatus: 400, wantCode: "bad_request"},
		{name: "query parameter", req: func(env *worktest.Env, own, _ string) events.APIGatewayProxyRequest {
			req := readReq(env.Mentor, own)
			req.QueryStringParameters = map[string]string{"userId": env.Intern.ID}
			return req
		}, wantStatus: 400, wantCode: "validation_failed"},
		{name: "no principal", req: func(env *worktest.Env, own, _ string) events.APIGatewayProxyRequest {
			req := readReq(env.Mentor, own)
			req.RequestContext.Authorizer = nil
			return req
		}, wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong method", req: func(env *worktest.Env, own, _ string) events.APIGatewayProxyRequest {
			req := readReq(env.Mentor, own)
			req.HTTPMethod = http.MethodDelete
			return req
		}, wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := worktest.New(t)
			own, foreign := put(t, env, env.Mentor.ID), put(t, env, env.Intern.ID)
			resp := env.Serve(t, functionName, newHandler(t, env).Handle, tt.req(env, own, foreign))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				if code := apigwtest.DecodeError(t, resp).Code; code != tt.wantCode {
					t.Fatalf("code = %q", code)
				}
			} else if resp.Body != "" {
				t.Fatalf("204 with a body %q", resp.Body)
			}
			if got := isRead(t, env, env.Mentor.ID, own); got != tt.ownRead {
				t.Fatalf("own read = %v", got)
			}
			if isRead(t, env, env.Intern.ID, foreign) {
				t.Fatal("another user's notification was marked read")
			}
			if denied := len(env.Audit.Find("authz.denied")) > 0; denied != tt.audited {
				t.Fatalf("authz.denied audited = %v, want %v", denied, tt.audited)
			}
		})
	}
}

func TestMarkReadTwice(t *testing.T) {
	env := worktest.New(t)
	id := put(t, env, env.Mentor.ID)
	h := newHandler(t, env)
	for range 2 {
		if resp := env.Serve(t, functionName, h.Handle, readReq(env.Mentor, id)); resp.StatusCode != 204 {
			t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
		}
	}
}

func TestSampleEvents(t *testing.T) {
	for _, ev := range apigwtest.LoadProxyEvents(t, worktest.RepoFile(t, "events/"+functionName)) {
		t.Run(ev.Name, func(t *testing.T) {
			env := worktest.New(t)
			// The sample notification exists in no table.
			if resp := env.Serve(t, functionName, newHandler(t, env).Handle, ev.Request); resp.StatusCode != 404 {
				t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
