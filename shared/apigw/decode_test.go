package apigw_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/validate"
)

type tag struct {
	Name string `json:"name"`
}

type input struct {
	Email   string            `json:"email"`
	Age     int               `json:"age"`
	Score   float64           `json:"score"`
	Active  bool              `json:"active"`
	Tags    []tag             `json:"tags"`
	Parent  *tag              `json:"parent"`
	Labels  map[string]string `json:"labels"`
	StartAt time.Time         `json:"startAt"`
	Note    *string           `json:"note"`
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		ct    string
		check func(t *testing.T, in input)
	}{
		{"full", `{"email":"a@example.com","age":30,"score":1.5,"active":true,"tags":[{"name":"go"}],"parent":{"name":"p"},"labels":{"k":"v"},"startAt":"2026-01-02T03:04:05Z","note":null}`, "application/json",
			func(t *testing.T, in input) {
				if in.Email != "a@example.com" || in.Age != 30 || in.Score != 1.5 || !in.Active || len(in.Tags) != 1 ||
					in.Tags[0].Name != "go" || in.Parent == nil || in.Labels["k"] != "v" || in.StartAt.Year() != 2026 || in.Note != nil {
					t.Fatalf("decoded %+v", in)
				}
			}},
		{"charset utf-8", `{"email":"x"}`, "application/json; charset=utf-8", nil},
		{"charset upper case", `{"email":"x"}`, "Application/JSON; Charset=UTF-8", nil},
		{"null for pointer", `{"parent":null}`, "application/json", nil},
		{"surrounding white space", " \n{\"age\":1}\n ", "application/json", nil},
		{"unicode", `{"email":"zoë@example.com"}`, "application/json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodPost, "/v1/x", tt.body)
			req.Headers["Content-Type"] = tt.ct
			var in input
			if err := apigw.Decode(req, &in); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if tt.check != nil {
				tt.check(t, in)
			}
		})
	}
}

// TestDecodeRejects is the strict-JSON matrix: every kind of sloppiness the
// security guidance names is refused with the right status and names the
// offending member where json/v2 reports it.
func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		headers    map[string]string
		base64     bool
		max        int64
		wantStatus int
		wantCode   string
		wantField  string // "" means no field expected
		wantReason string
	}{
		{name: "unknown member", body: `{"email":"a","isAdmin":true}`, wantStatus: 400, wantCode: "invalid_body", wantField: "isAdmin", wantReason: "is not an accepted field"},
		{name: "nested unknown member", body: `{"tags":[{"name":"a"},{"name":"b","color":"red"}]}`, wantStatus: 400, wantCode: "invalid_body", wantField: "tags[1].color", wantReason: "is not an accepted field"},
		{name: "unknown in pointer struct", body: `{"parent":{"name":"x","id":1}}`, wantStatus: 400, wantCode: "invalid_body", wantField: "parent.id", wantReason: "is not an accepted field"},
		{name: "duplicate name", body: `{"email":"a@example.com","email":"admin@example.com"}`, wantStatus: 400, wantCode: "invalid_body", wantField: "email", wantReason: "appears more than once"},
		{name: "duplicate unknown name", body: `{"x":1,"x":2}`, wantStatus: 400, wantCode: "invalid_body", wantField: "x"},
		{name: "case mismatch", body: `{"Email":"a@example.com"}`, wantStatus: 400, wantCode: "invalid_body", wantField: "Email", wantReason: "is not an accepted field"},
		{name: "case mismatch nested", body: `{"tags":[{"NAME":"a"}]}`, wantStatus: 400, wantCode: "invalid_body", wantField: "tags[0].NAME", wantReason: "is not an accepted field"},
		{name: "string for int", body: `{"age":"5"}`, wantStatus: 400, wantCode: "invalid_body", wantField: "age", wantReason: "must be an integer"},
		{name: "fraction for int", body: `{"age":5.5}`, wantStatus: 400, wantCode: "invalid_body", wantField: "age", wantReason: "must be an integer"},
		{name: "int out of range", body: `{"age":99999999999999999999}`, wantStatus: 400, wantCode: "invalid_body", wantField: "age", wantReason: "is out of range"},
		{name: "number for string", body: `{"email":5}`, wantStatus: 400, wantCode: "invalid_body", wantField: "email", wantReason: "must be a string"},
		{name: "string for bool", body: `{"active":"true"}`, wantStatus: 400, wantCode: "invalid_body", wantField: "active", wantReason: "must be true or false"},
		{name: "number for bool", body: `{"active":1}`, wantStatus: 400, wantCode: "invalid_body", wantField: "active", wantReason: "must be true or false"},
		{name: "string for float", body: `{"score":"1.5"}`, wantStatus: 400, wantCode: "invalid_body", wantField: "score", wantReason: "must be a number"},
		{name: "object for array", body: `{"tags":{}}`, wantStatus: 400, wantCode: "invalid_body", wantField: "tags", wantReason: "must be an array"},
		{name: "array for object", body: `{"parent":[]}`, wantStatus: 400, wantCode: "invalid_body", wantField: "parent", wantReason: "must be an object"},
		{name: "number for time", body: `{"startAt":1700000000}`, wantStatus: 400, wantCode: "invalid_body", wantField: "startAt", wantReason: "must be a string"},
		{name: "bad time", body: `{"startAt":"yesterday"}`, wantStatus: 400, wantCode: "invalid_body", wantField: "startAt", wantReason: "has an invalid value"},
		{name: "null for string", body: `{"email":null}`, wantStatus: 400, wantCode: "invalid_body", wantField: "email", wantReason: "must not be null"},
		{name: "null for int", body: `{"age":null}`, wantStatus: 400, wantCode: "invalid_body", wantField: "age", wantReason: "must not be null"},
		{name: "null for slice", body: `{"tags":null}`, wantStatus: 400, wantCode: "invalid_body", wantField: "tags", wantReason: "must not be null"},
		{name: "null in array", body: `{"tags":[null]}`, wantStatus: 400, wantCode: "invalid_body", wantField: "tags[0]", wantReason: "must not be null"},
		{name: "null map value", body: `{"labels":{"k":null}}`, wantStatus: 400, wantCode: "invalid_body", wantField: "labels.k", wantReason: "must not be null"},
		{name: "null body", body: `null`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "array body", body: `[{"email":"a"}]`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "string body", body: `"hello"`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "trailing data", body: `{"age":1} {"age":2}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "trailing garbage", body: `{"age":1}x`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "invalid utf8 value", body: "{\"email\":\"a\xff@example.com\"}", wantStatus: 400, wantCode: "invalid_body", wantField: "email", wantReason: "contains invalid UTF-8"},
		{name: "invalid utf8 name", body: "{\"e\xffmail\":\"a\"}", wantStatus: 400, wantCode: "invalid_body"},
		{name: "truncated", body: `{"email":`, wantStatus: 400, wantCode: "invalid_body", wantField: "email", wantReason: "is not valid JSON"},
		{name: "not json", body: `email=a@example.com`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "single quotes", body: `{'email':'a'}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "trailing comma", body: `{"age":1,}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "comment", body: `{"age":1 /* admin */}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "NaN", body: `{"score":NaN}`, wantStatus: 400, wantCode: "invalid_body", wantField: "score", wantReason: "is not valid JSON"},

		{name: "empty body", body: ``, wantStatus: 400, wantCode: "bad_request"},
		{name: "blank body", body: "  \n", wantStatus: 400, wantCode: "bad_request"},
		{name: "empty base64 body", body: ``, base64: true, wantStatus: 400, wantCode: "bad_request"},
		{name: "bad base64", body: `!!!`, base64: true, wantStatus: 400, wantCode: "bad_request"},

		{name: "no content type", body: `{"age":1}`, headers: map[string]string{"Content-Type": ""}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "text plain", body: `{"age":1}`, headers: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "form", body: `{"age":1}`, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "json suffix type", body: `{"age":1}`, headers: map[string]string{"Content-Type": "application/merge-patch+json"}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "latin1 charset", body: `{"age":1}`, headers: map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "extra parameter", body: `{"age":1}`, headers: map[string]string{"Content-Type": "application/json; boundary=x"}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "malformed type", body: `{"age":1}`, headers: map[string]string{"Content-Type": "application/json;;"}, wantStatus: 415, wantCode: "unsupported_media_type"},

		{name: "too large", body: `{"email":"` + strings.Repeat("a", 100) + `"}`, max: 64, wantStatus: 413, wantCode: "payload_too_large"},
		{name: "too large default", body: `{"email":"` + strings.Repeat("a", 64<<10) + `"}`, wantStatus: 413, wantCode: "payload_too_large"},
		{name: "too large base64", body: base64.StdEncoding.EncodeToString([]byte(`{"email":"` + strings.Repeat("a", 100) + `"}`)), base64: true, max: 64, wantStatus: 413, wantCode: "payload_too_large"},
		{name: "base64 strict too", body: base64.StdEncoding.EncodeToString([]byte(`{"age":"5"}`)), base64: true, wantStatus: 400, wantCode: "invalid_body", wantField: "age", wantReason: "must be an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apigwtest.NewRequest(http.MethodPost, "/v1/x", tt.body)
			req.Headers["Content-Type"] = "application/json"
			for k, v := range tt.headers {
				req.Headers[k] = v
			}
			req.IsBase64Encoded = tt.base64
			var opts []apigw.DecodeOption
			if tt.max > 0 {
				opts = append(opts, apigw.MaxBodyBytes(tt.max))
			}
			var in input
			err := apigw.Decode(req, &in, opts...)
			var ae *apigw.Error
			if !errors.As(err, &ae) {
				t.Fatalf("Decode error = %v, want *apigw.Error", err)
			}
			if ae.Status != tt.wantStatus || ae.Code != tt.wantCode {
				t.Fatalf("got %d %s (%v), want %d %s", ae.Status, ae.Code, ae, tt.wantStatus, tt.wantCode)
			}
			if tt.wantField == "" {
				if len(ae.Fields) != 0 {
					t.Fatalf("fields = %+v, want none", ae.Fields)
				}
			} else {
				if len(ae.Fields) != 1 || ae.Fields[0].Field != tt.wantField {
					t.Fatalf("fields = %+v, want field %q", ae.Fields, tt.wantField)
				}
				if tt.wantReason != "" && ae.Fields[0].Reason != tt.wantReason {
					t.Fatalf("reason = %q, want %q", ae.Fields[0].Reason, tt.wantReason)
				}
			}
			assertNoInternals(t, ae)
		})
	}
}

// assertNoInternals checks that nothing of Go or the decoder leaks.
func assertNoInternals(t *testing.T, ae *apigw.Error) {
	t.Helper()
	texts := []string{ae.Message}
	for _, f := range ae.Fields {
		texts = append(texts, f.Field, f.Reason)
	}
	for _, s := range texts {
		for _, bad := range []string{"Go ", "apigw_test", "input", "main.", "jsontext", "json:", "int64", "float64", "time.Time", "interface", "offset"} {
			if strings.Contains(s, bad) {
				t.Errorf("client-visible text %q contains %q", s, bad)
			}
		}
	}
}

func TestDecodeBase64Body(t *testing.T) {
	req := apigwtest.NewRequest(http.MethodPost, "/v1/x", base64.StdEncoding.EncodeToString([]byte(`{"email":"b64@example.com"}`)))
	req.IsBase64Encoded = true
	var in input
	if err := apigw.Decode(req, &in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if in.Email != "b64@example.com" {
		t.Fatalf("Email = %q", in.Email)
	}
}

func TestDecodeSizeBoundary(t *testing.T) {
	body := `{"email":"` + strings.Repeat("a", 50) + `"}`
	for _, tt := range []struct {
		name string
		max  int64
		ok   bool
	}{{"exactly at cap", int64(len(body)), true}, {"one over", int64(len(body)) - 1, false}} {
		t.Run(tt.name, func(t *testing.T) {
			var in input
			err := apigw.Decode(apigwtest.NewRequest(http.MethodPost, "/v1/x", body), &in, apigw.MaxBodyBytes(tt.max))
			if (err == nil) != tt.ok {
				t.Fatalf("Decode = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestDecodeHeaderCaseAndRepeats(t *testing.T) {
	req := apigwtest.NewRequest(http.MethodPost, "/v1/x", `{"age":1}`)
	delete(req.Headers, "Content-Type")
	req.Headers["content-type"] = "application/json"
	var in input
	if err := apigw.Decode(req, &in); err != nil {
		t.Fatalf("lower-case header: %v", err)
	}
	req.MultiValueHeaders = map[string][]string{"content-type": {"application/json", "text/plain"}}
	var ae *apigw.Error
	if err := apigw.Decode(req, &in); !errors.As(err, &ae) || ae.Status != 415 {
		t.Fatalf("repeated Content-Type: %v, want 415", err)
	}
}

func TestDecodeNonPointerIsInternal(t *testing.T) {
	err := apigw.Decode(apigwtest.NewRequest(http.MethodPost, "/v1/x", `{}`), input{})
	var ae *apigw.Error
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("Decode(non-pointer) = %v, want a plain (500) error", err)
	}
}

func TestDecodeHugeUnknownNameIsTruncated(t *testing.T) {
	name := strings.Repeat("n", 5000)
	var in input
	err := apigw.Decode(apigwtest.NewRequest(http.MethodPost, "/v1/x", `{"`+name+`":1}`), &in)
	var ae *apigw.Error
	if !errors.As(err, &ae) || len(ae.Fields) != 1 {
		t.Fatalf("err = %v", err)
	}
	if n := len([]rune(ae.Fields[0].Field)); n > 201 {
		t.Fatalf("field name echoed with %d characters", n)
	}
}

func TestDecodeThenValidate(t *testing.T) {
	// The usual handler flow: strict decode, then field validation with
	// every failing field.
	var in input
	if err := apigw.Decode(apigwtest.NewRequest(http.MethodPost, "/v1/x", `{"email":"nope","age":200}`), &in); err != nil {
		t.Fatal(err)
	}
	v := validate.New()
	v.Email("email", in.Email)
	v.Range("age", in.Age, 16, 120)
	var ve validate.Errors
	if !errors.As(v.Err(), &ve) || len(ve) != 2 {
		t.Fatalf("validation = %v", v.Err())
	}
}
