package apigw

import (
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestIfMatch(t *testing.T) {
	cases := []struct {
		name        string
		headers     map[string]string
		multi       map[string][]string
		want        int64
		wantPresent bool
		wantErr     bool
	}{
		{"absent", nil, nil, 0, false, false},
		{"quoted", map[string]string{"If-Match": `"3"`}, nil, 3, true, false},
		{"bare", map[string]string{"if-match": "12"}, nil, 12, true, false},
		{"wildcard refused", map[string]string{"If-Match": "*"}, nil, 0, true, true},
		{"weak tag refused", map[string]string{"If-Match": `W/"3"`}, nil, 0, true, true},
		{"list refused", map[string]string{"If-Match": `"3", "4"`}, nil, 0, true, true},
		{"zero refused", map[string]string{"If-Match": `"0"`}, nil, 0, true, true},
		{"overflow refused", map[string]string{"If-Match": "99999999999999999999"}, nil, 0, true, true},
		{"sent twice refused", map[string]string{"If-Match": `"3"`}, map[string][]string{"If-Match": {`"3"`, `"4"`}}, 0, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, present, err := IfMatch(events.APIGatewayProxyRequest{Headers: tc.headers, MultiValueHeaders: tc.multi})
			var apiErr *Error
			if tc.wantErr != (err != nil) || (err != nil && (!errors.As(err, &apiErr) || apiErr.Status != 400)) {
				t.Fatalf("err = %v, want a 400: %v", err, tc.wantErr)
			}
			if got != tc.want || present != tc.wantPresent {
				t.Fatalf("IfMatch = %d, %v; want %d, %v", got, present, tc.want, tc.wantPresent)
			}
		})
	}
	if ETag(7) != `"7"` {
		t.Errorf("ETag(7) = %s", ETag(7))
	}
}
