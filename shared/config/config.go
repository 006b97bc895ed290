// Package config reads a function's settings from its environment once, at
// cold start, and reports every missing or invalid variable in one error, so
// a misconfigured deployment fails its first invocation with the whole list
// instead of one variable per redeploy. Errors name variables, never values:
// environment values may be secrets' names or endpoints that do not belong in
// logs.
//
// Usage:
//
//	l := config.NewLoader()
//	base := config.LoadBase(l)
//	ttl := l.Duration("KEY_CACHE_TTL", 5*time.Minute)
//	if err := l.Err(); err != nil {
//		return err // realMain returns it; main exits non-zero
//	}
package config

import (
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VarError is one missing or invalid variable.
type VarError struct {
	Name    string
	Problem string
}

// Errors lists every variable that failed to load.
type Errors []VarError

// Error names each variable and its problem, never the value.
func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, v := range e {
		parts[i] = v.Name + " " + v.Problem
	}
	return "config: " + strings.Join(parts, "; ")
}

// Loader reads typed values from an environment and collects failures. Its
// methods return the zero value (or the default) for failed variables, so a
// caller reads everything and checks Err once.
type Loader struct {
	lookup func(string) (string, bool)
	errs   Errors
}

// NewLoader reads the process environment.
func NewLoader() *Loader { return NewLoaderFrom(os.LookupEnv) }

// NewLoaderFrom reads from lookup (os.LookupEnv's shape); tests pass a map.
func NewLoaderFrom(lookup func(string) (string, bool)) *Loader {
	return &Loader{lookup: lookup}
}

// MapLookup adapts a map to NewLoaderFrom.
func MapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// Err returns Errors listing every failure so far, or nil.
func (l *Loader) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return slices.Clone(l.errs)
}

func (l *Loader) fail(name, problem string) {
	l.errs = append(l.errs, VarError{Name: name, Problem: problem})
}

// get returns the trimmed value and whether it is set to something non-blank.
func (l *Loader) get(name string) (string, bool) {
	v, ok := l.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns a required variable; unset or blank is an error.
func (l *Loader) String(name string) string {
	v, ok := l.get(name)
	if !ok {
		l.fail(name, "is required")
	}
	return v
}

// Optional returns the variable, or def when it is unset or blank.
func (l *Loader) Optional(name, def string) string {
	if v, ok := l.get(name); ok {
		return v
	}
	return def
}

// OneOf returns a required variable that must be one of allowed.
func (l *Loader) OneOf(name string, allowed ...string) string {
	v, ok := l.get(name)
	switch {
	case !ok:
		l.fail(name, "is required")
	case !slices.Contains(allowed, v):
		l.fail(name, "must be one of "+strings.Join(allowed, ", "))
		return ""
	}
	return v
}

// Duration returns a Go duration ("250ms", "5m"), or def when unset. It must
// be positive.
func (l *Loader) Duration(name string, def time.Duration) time.Duration {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, "must be a positive duration such as 500ms or 5m")
		return def
	}
	return d
}

// Int returns a base-10 integer, or def when unset.
func (l *Loader) Int(name string, def int) int {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.fail(name, "must be an integer")
		return def
	}
	return n
}

// Bool returns true/false (strconv.ParseBool spellings), or def when unset.
func (l *Loader) Bool(name string, def bool) bool {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "must be true or false")
		return def
	}
	return b
}

// List returns a required comma-separated list with entries trimmed; an
// empty entry ("a,,b") is an error because it is always a typo.
func (l *Loader) List(name string) []string {
	v, ok := l.get(name)
	if !ok {
		l.fail(name, "is required")
		return nil
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			l.fail(name, "must be a comma-separated list without empty entries")
			return nil
		}
	}
	return parts
}

// Base is the configuration every function gets from the template's
// Globals.
type Base struct {
	// Stage is the deployment stage (dev, prod, or a devstack name).
	Stage string
	// TableName is the main single-table DynamoDB table.
	TableName string
	// AuditTableName is the append-only audit table.
	AuditTableName string
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// AllowedOrigins are the browser origins CORS answers, exact
	// scheme://host[:port] strings.
	AllowedOrigins []string
}

var stagePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// LoadBase reads STAGE, TABLE_NAME, AUDIT_TABLE_NAME, LOG_LEVEL (debug, info,
// warn, error; default info) and ALLOWED_ORIGINS (comma-separated origins,
// no wildcards). Failures are collected in l.
func LoadBase(l *Loader) Base {
	b := Base{
		Stage:          l.String("STAGE"),
		TableName:      l.String("TABLE_NAME"),
		AuditTableName: l.String("AUDIT_TABLE_NAME"),
	}
	if b.Stage != "" && !stagePattern.MatchString(b.Stage) {
		l.fail("STAGE", "must be lowercase letters, digits and hyphens")
	}
	switch l.Optional("LOG_LEVEL", "info") {
	case "debug", "DEBUG":
		b.LogLevel = slog.LevelDebug
	case "info", "INFO":
		b.LogLevel = slog.LevelInfo
	case "warn", "WARN":
		b.LogLevel = slog.LevelWarn
	case "error", "ERROR":
		b.LogLevel = slog.LevelError
	default:
		l.fail("LOG_LEVEL", "must be one of debug, info, warn, error")
	}
	origins := l.List("ALLOWED_ORIGINS")
	for _, o := range origins {
		if !IsOrigin(o) {
			l.fail("ALLOWED_ORIGINS", "must list origins like https://app.example.com (scheme, host, optional port; no path, no wildcard)")
			origins = nil
			break
		}
	}
	b.AllowedOrigins = origins
	return b
}

// IsOrigin reports whether s is a serialized web origin as browsers send it
// in the Origin header: http or https, a host, an optional port, nothing
// else. Comparing such strings exactly is what makes CORS matching safe.
func IsOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	if u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	if strings.Contains(u.Host, "*") || u.Host != strings.ToLower(u.Host) {
		return false
	}
	return s == u.Scheme+"://"+u.Host
}
