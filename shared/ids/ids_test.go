package ids

import (
	"strings"
	"testing"
)

var allPrefixes = []Prefix{User, Org, Program, Task, Application, Enrollment, Submission, Upload, Certificate, Session, Invite, Review, Notification}

func TestNewIsValidForEveryPrefix(t *testing.T) {
	for _, p := range allPrefixes {
		t.Run(string(p), func(t *testing.T) {
			id := New(p)
			if !Valid(id, p) {
				t.Fatalf("New(%q) = %q, not Valid", p, id)
			}
			if len(id) != len(p)+1+EncodedLen {
				t.Fatalf("len(%q) = %d", id, len(id))
			}
			if id != strings.ToLower(id) {
				t.Fatalf("%q is not lowercase", id)
			}
		})
	}
}

func TestNewIsUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := New(User)
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
	}
}

func TestValid(t *testing.T) {
	good := New(User)
	tests := []struct {
		name string
		id   string
		p    Prefix
		want bool
	}{
		{"fresh", good, User, true},
		{"known canonical", "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", User, true},
		{"wrong prefix", good, Org, false},
		{"no underscore", "usr" + good[4:], User, false},
		{"uppercase", strings.ToUpper(good[:4]) + good[4:], User, false},
		{"uppercase body", "usr_" + strings.ToUpper(good[4:]), User, false},
		{"too short", good[:len(good)-1], User, false},
		{"too long", good + "a", User, false},
		{"padding bits set", "usr_aaaaaaaaaaaaaaaaaaaaaaaaab", User, false},
		{"bad alphabet", "usr_aaaaaaaaaaaaaaaaaaaaaaaa1a", User, false},
		{"empty", "", User, false},
		{"invalid prefix", "us_aaaaaaaaaaaaaaaaaaaaaaaaaa", Prefix("us"), false},
		{"uppercase prefix", "USR_aaaaaaaaaaaaaaaaaaaaaaaaaa", Prefix("USR"), false},
		{"dynamo key shape", "USER#123", User, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.id, tt.p); got != tt.want {
				t.Fatalf("Valid(%q, %q) = %v, want %v", tt.id, tt.p, got, tt.want)
			}
		})
	}
}
