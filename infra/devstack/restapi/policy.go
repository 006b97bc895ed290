package restapi

import (
	"errors"
	"fmt"
	"strings"
)

// statement is one statement of an authorizer's policy document.
type statement struct {
	effect    string // "Allow" or "Deny"
	actions   []string
	resources []string
}

type decision int

const (
	noMatch decision = iota
	allowed
	denied
)

// evaluate applies IAM's rules to the policy for execute-api:Invoke on arn:
// an explicit Deny wins, otherwise a matching Allow allows, otherwise the
// request is denied implicitly.
func evaluate(stmts []statement, arn string) decision {
	result := noMatch
	for _, s := range stmts {
		if !anyMatch(s.actions, "execute-api:Invoke", true) || !anyMatch(s.resources, arn, false) {
			continue
		}
		if s.effect == "Deny" {
			return denied
		}
		result = allowed
	}
	return result
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if wildcardMatch(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches IAM-style patterns: '*' is any run of characters
// (including '/' and ':'), '?' exactly one.
func wildcardMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// parsePolicy reads a policyDocument as an authorizer returns it: Statement
// may be one object or a list, Action and Resource a string or a list.
// Elements the devstack cannot evaluate faithfully are configuration errors
// rather than silently ignored, so a policy never grants more locally than
// it would in AWS.
func parsePolicy(doc any) ([]statement, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("policyDocument is not an object")
	}
	raw, ok := m["Statement"]
	if !ok {
		return nil, errors.New("policyDocument has no Statement")
	}
	var list []any
	switch x := raw.(type) {
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil, errors.New("policyDocument Statement is neither an object nor a list")
	}
	out := make([]statement, 0, len(list))
	for i, e := range list {
		sm, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is not an object", i)
		}
		for _, k := range []string{"NotAction", "NotResource", "Condition", "Principal", "NotPrincipal"} {
			if _, has := sm[k]; has {
				return nil, fmt.Errorf("statement %d: %s is not supported in authorizer policies here", i, k)
			}
		}
		var s statement
		s.effect, _ = sm["Effect"].(string)
		if s.effect != "Allow" && s.effect != "Deny" {
			return nil, fmt.Errorf("statement %d: Effect must be Allow or Deny", i)
		}
		var err error
		if s.actions, err = stringOrList(sm["Action"]); err != nil {
			return nil, fmt.Errorf("statement %d Action: %w", i, err)
		}
		if s.resources, err = stringOrList(sm["Resource"]); err != nil {
			return nil, fmt.Errorf("statement %d Resource: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func stringOrList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("list holds a non-string")
			}
			out = append(out, s)
		}
		return out, nil
	case nil:
		return nil, errors.New("missing")
	}
	return nil, errors.New("neither a string nor a list")
}
