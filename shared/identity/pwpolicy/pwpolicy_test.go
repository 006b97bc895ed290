package pwpolicy_test

import (
	"testing"

	"github.com/vip-platform/backend/shared/identity/pwpolicy"
)

func TestReject(t *testing.T) {
	tests := []struct {
		name, password, email, displayName, want string
	}{
		{"accepted", "kitten-violin-31-parsnip", "jane.doe@example.com", "Jane Doe", ""},
		{"too short", "vQ7#xL2!mZ9", "jane.doe@example.com", "Jane Doe", "must be at least 12 characters"},
		{"too common", "password1234", "jane.doe@example.com", "Jane Doe", "is too common"},
		{"built from the email", "xx-jane.doe-xx-91!", "jane.doe@example.com", "Jane Doe", "must not contain your email or name"},
		{"built from the name", "alexandra!2024xyz", "a.s@corp.test", "Alexandra Smith", "must not contain your email or name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (pwpolicy.Policy{}).Reject(tc.password, tc.email, tc.displayName); got != tc.want {
				t.Errorf("Reject = %q, want %q", got, tc.want)
			}
		})
	}
}
