package config

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func goodBase() map[string]string {
	return map[string]string{
		"STAGE":            "dev",
		"TABLE_NAME":       "vip-dev-main",
		"AUDIT_TABLE_NAME": "vip-dev-audit",
		"LOG_LEVEL":        "debug",
		"ALLOWED_ORIGINS":  "http://localhost:5173, https://app.example.com",
	}
}

func TestLoadBase(t *testing.T) {
	l := NewLoaderFrom(MapLookup(goodBase()))
	b := LoadBase(l)
	if err := l.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	want := Base{
		Stage: "dev", TableName: "vip-dev-main", AuditTableName: "vip-dev-audit",
		LogLevel: slog.LevelDebug, AllowedOrigins: []string{"http://localhost:5173", "https://app.example.com"},
	}
	if b.Stage != want.Stage || b.TableName != want.TableName || b.AuditTableName != want.AuditTableName ||
		b.LogLevel != want.LogLevel || !slices.Equal(b.AllowedOrigins, want.AllowedOrigins) {
		t.Fatalf("LoadBase = %+v, want %+v", b, want)
	}
}

func TestLoadBaseErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]string)
		want   []string // variable names reported, in order
	}{
		{"log level defaults to info", func(m map[string]string) { delete(m, "LOG_LEVEL") }, nil},
		{"missing table", func(m map[string]string) { delete(m, "TABLE_NAME") }, []string{"TABLE_NAME"}},
		{"blank table", func(m map[string]string) { m["TABLE_NAME"] = "  " }, []string{"TABLE_NAME"}},
		{"everything missing", func(m map[string]string) { clear(m) }, []string{"STAGE", "TABLE_NAME", "AUDIT_TABLE_NAME", "ALLOWED_ORIGINS"}},
		{"bad level", func(m map[string]string) { m["LOG_LEVEL"] = "verbose" }, []string{"LOG_LEVEL"}},
		{"bad stage", func(m map[string]string) { m["STAGE"] = "Prod!" }, []string{"STAGE"}},
		{"wildcard origin", func(m map[string]string) { m["ALLOWED_ORIGINS"] = "*" }, []string{"ALLOWED_ORIGINS"}},
		{"subdomain wildcard", func(m map[string]string) { m["ALLOWED_ORIGINS"] = "https://*.example.com" }, []string{"ALLOWED_ORIGINS"}},
		{"origin with path", func(m map[string]string) { m["ALLOWED_ORIGINS"] = "https://app.example.com/" }, []string{"ALLOWED_ORIGINS"}},
		{"empty entry", func(m map[string]string) { m["ALLOWED_ORIGINS"] = "https://a.example.com,,https://b.example.com" }, []string{"ALLOWED_ORIGINS"}},
		{"two at once", func(m map[string]string) { m["LOG_LEVEL"] = "x"; delete(m, "STAGE") }, []string{"STAGE", "LOG_LEVEL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := goodBase()
			tt.mutate(m)
			l := NewLoaderFrom(MapLookup(m))
			LoadBase(l)
			err := l.Err()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Err() = %v, want Errors", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("reported %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestTypedGetters(t *testing.T) {
	secretish := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:do-not-log"
	m := map[string]string{
		"NAME":      "x",
		"TTL":       "90s",
		"BAD_TTL":   secretish,
		"NEG_TTL":   "-1s",
		"N":         "42",
		"BAD_N":     "4x2",
		"FLAG":      "true",
		"BAD_FLAG":  "yes please",
		"LIST":      " a , b ",
		"MODE":      "fast",
		"BAD_MODE":  "slow",
		"EMPTY_VAR": "",
	}
	l := NewLoaderFrom(MapLookup(m))
	if got := l.String("NAME"); got != "x" {
		t.Errorf("String = %q", got)
	}
	if got := l.Optional("UNSET", "def"); got != "def" {
		t.Errorf("Optional unset = %q", got)
	}
	if got := l.Optional("EMPTY_VAR", "def"); got != "def" {
		t.Errorf("Optional empty = %q", got)
	}
	if got := l.Duration("TTL", time.Second); got != 90*time.Second {
		t.Errorf("Duration = %v", got)
	}
	if got := l.Duration("UNSET", time.Second); got != time.Second {
		t.Errorf("Duration default = %v", got)
	}
	if got := l.Int("N", 1); got != 42 {
		t.Errorf("Int = %v", got)
	}
	if got := l.Int("UNSET", 7); got != 7 {
		t.Errorf("Int default = %v", got)
	}
	if got := l.Bool("FLAG", false); !got {
		t.Errorf("Bool = %v", got)
	}
	if got := l.List("LIST"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List = %q", got)
	}
	if got := l.OneOf("MODE", "fast", "safe"); got != "fast" {
		t.Errorf("OneOf = %q", got)
	}
	if err := l.Err(); err != nil {
		t.Fatalf("Err() after good reads = %v", err)
	}

	l.Duration("BAD_TTL", time.Second)
	l.Duration("NEG_TTL", time.Second)
	l.Int("BAD_N", 1)
	l.Bool("BAD_FLAG", false)
	l.OneOf("BAD_MODE", "fast", "safe")
	l.String("MISSING")
	l.List("MISSING_LIST")
	err := l.Err()
	if err == nil {
		t.Fatal("Err() = nil after bad reads")
	}
	msg := err.Error()
	for _, name := range []string{"BAD_TTL", "NEG_TTL", "BAD_N", "BAD_FLAG", "BAD_MODE", "MISSING", "MISSING_LIST"} {
		if !strings.Contains(msg, name) {
			t.Errorf("error %q does not name %s", msg, name)
		}
	}
	for _, v := range []string{secretish, "4x2", "yes please", "slow"} {
		if strings.Contains(msg, v) {
			t.Errorf("error %q leaks value %q", msg, v)
		}
	}
}

func TestIsOrigin(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"https://app.example.com", true},
		{"http://localhost:5173", true},
		{"http://127.0.0.1:8080", true},
		{"https://app.example.com/", false},
		{"https://app.example.com/path", false},
		{"https://APP.example.com", false},
		{"ftp://example.com", false},
		{"app.example.com", false},
		{"https://user@app.example.com", false},
		{"https://app.example.com?x=1", false},
		{"*", false},
		{"null", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := IsOrigin(tt.in); got != tt.want {
				t.Fatalf("IsOrigin(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
