package apigw_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/ids"
)

func statusOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ae *apigw.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *apigw.Error", err)
	}
	return ae.Status
}

func TestPathParams(t *testing.T) {
	usr := ids.New(ids.User)
	tests := []struct {
		name   string
		params map[string]string
		prefix ids.Prefix // "" tests PathParam, else PathID
		want   string
		status int
	}{
		{"present", map[string]string{"code": "abc"}, "", "abc", 0},
		{"missing", nil, "", "", 404},
		{"empty", map[string]string{"code": ""}, "", "", 404},
		{"control char", map[string]string{"code": "a\x00b"}, "", "", 404},
		{"overlong", map[string]string{"code": strings.Repeat("a", 2000)}, "", "", 404},
		{"id ok", map[string]string{"code": usr}, ids.User, usr, 0},
		{"id of other type", map[string]string{"code": ids.New(ids.Org)}, ids.User, "", 404},
		{"id malformed", map[string]string{"code": "usr_123"}, ids.User, "", 404},
		{"id missing", nil, ids.User, "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodGet, "/v1/x/{code}", "")
			req.PathParameters = tt.params
			var got string
			var err error
			if tt.prefix == "" {
				got, err = apigw.PathParam(req, "code")
			} else {
				got, err = apigw.PathID(req, "code", tt.prefix)
			}
			if s := statusOf(t, err); s != tt.status || got != tt.want {
				t.Fatalf("got %q status %d, want %q status %d", got, s, tt.want, tt.status)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name   string
		single map[string]string
		multi  map[string][]string
		want   string
		status int
	}{
		{"absent", nil, nil, "", 0},
		{"present", map[string]string{"q": "go"}, map[string][]string{"q": {"go"}}, "go", 0},
		{"repeated", map[string]string{"q": "b"}, map[string][]string{"q": {"a", "b"}}, "", 400},
		{"control char", map[string]string{"q": "a\nb"}, nil, "", 400},
		{"overlong", map[string]string{"q": strings.Repeat("a", 2000)}, nil, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodGet, "/v1/x", "")
			req.QueryStringParameters, req.MultiValueQueryStringParameters = tt.single, tt.multi
			got, err := apigw.Query(req, "q")
			if s := statusOf(t, err); s != tt.status || got != tt.want {
				t.Fatalf("got %q status %d, want %q status %d", got, s, tt.want, tt.status)
			}
		})
	}
}

func TestQueryInt(t *testing.T) {
	tests := []struct {
		name   string
		value  string
		want   int
		status int
	}{
		{"default", "", 20, 0},
		{"ok", "50", 50, 0},
		{"min", "1", 1, 0},
		{"below", "0", 20, 400},
		{"above", "101", 20, 400},
		{"not a number", "ten", 20, 400},
		{"fraction", "1.5", 20, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodGet, "/v1/x", "")
			if tt.value != "" {
				req.QueryStringParameters = map[string]string{"limit": tt.value}
			}
			got, err := apigw.QueryInt(req, "limit", 20, 1, 100)
			if s := statusOf(t, err); s != tt.status || got != tt.want {
				t.Fatalf("got %d status %d, want %d status %d", got, s, tt.want, tt.status)
			}
		})
	}
}

func TestAllowQuery(t *testing.T) {
	req := apigwtest.NewRequest(http.MethodGet, "/v1/x", "")
	req.QueryStringParameters = map[string]string{"limit": "1", "zeta": "1", "admin": "true"}
	err := apigw.AllowQuery(req, "limit", "cursor")
	var ae *apigw.Error
	if !errors.As(err, &ae) || ae.Code != "validation_failed" || len(ae.Fields) != 2 || ae.Fields[0].Field != "admin" || ae.Fields[1].Field != "zeta" {
		t.Fatalf("AllowQuery = %+v", err)
	}
	req.QueryStringParameters = map[string]string{"limit": "1"}
	if err := apigw.AllowQuery(req, "limit", "cursor"); err != nil {
		t.Fatalf("AllowQuery(allowed) = %v", err)
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name   string
		single map[string]string
		multi  map[string][]string
		want   string
	}{
		{"exact", map[string]string{"Idempotency-Key": "k"}, nil, "k"},
		{"case insensitive", map[string]string{"idempotency-key": "k"}, nil, "k"},
		{"multi only", nil, map[string][]string{"IDEMPOTENCY-KEY": {"k"}}, "k"},
		{"repeated is ambiguous", map[string]string{"Idempotency-Key": "b"}, map[string][]string{"Idempotency-Key": {"a", "b"}}, ""},
		{"absent", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodGet, "/v1/x", "")
			req.Headers, req.MultiValueHeaders = tt.single, tt.multi
			if got := apigw.Header(req, "Idempotency-Key"); got != tt.want {
				t.Fatalf("Header = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorValues(t *testing.T) {
	base := apigw.NotFound()
	withCause := base.WithCause(errors.New("x"))
	if base.Cause() != nil {
		t.Fatal("WithCause mutated the original")
	}
	if !strings.Contains(withCause.Error(), "x") || withCause.Status != 404 {
		t.Fatalf("Error() = %q", withCause.Error())
	}
	sentinel := errors.New("sentinel")
	if !errors.Is(apigw.Forbidden().WithCause(sentinel), sentinel) {
		t.Fatal("cause not unwrappable")
	}
}
