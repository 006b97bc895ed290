package template

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Env says what intrinsic functions resolve to. The devstack fills it with
// local names and endpoints; the IAM checks with symbolic names.
type Env struct {
	// Params holds parameter values; missing ones fall back to Default.
	Params map[string]string
	// Pseudo holds pseudo parameters such as AWS::Region, AWS::AccountId,
	// AWS::Partition, AWS::StackName.
	Pseudo map[string]string
	// Ref resolves !Ref to a resource's logical ID.
	Ref func(logicalID string) (string, error)
	// GetAtt resolves !GetAtt logicalID.attribute.
	GetAtt func(logicalID, attr string) (string, error)
}

// ErrUnresolvable is returned for an intrinsic that Env cannot resolve.
var ErrUnresolvable = errors.New("unresolvable intrinsic")

// Resolve returns v with every intrinsic resolved against env: strings stay
// strings, lists and maps are resolved element by element.
func (t *Template) Resolve(v any, env Env) (any, error) {
	switch x := v.(type) {
	case Intrinsic:
		return t.resolveIntrinsic(x, env)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := t.Resolve(e, env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := t.Resolve(e, env)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

// ResolveString resolves v and renders it as a string (numbers and booleans
// as CloudFormation renders them into environment variables).
func (t *Template) ResolveString(v any, env Env) (string, error) {
	r, err := t.Resolve(v, env)
	if err != nil {
		return "", err
	}
	return scalarString(r)
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("value %v is not a scalar", v)
}

func (t *Template) resolveIntrinsic(in Intrinsic, env Env) (any, error) {
	switch in.Fn {
	case "Ref":
		name, ok := in.Arg.(string)
		if !ok {
			return nil, fmt.Errorf("!Ref argument %v is not a name", in.Arg)
		}
		return t.ref(name, env)
	case "Fn::GetAtt":
		l := asList(in.Arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("!GetAtt %v: want [Resource, Attribute]", in.Arg)
		}
		id, _ := l[0].(string)
		attr, _ := l[1].(string)
		if env.GetAtt == nil {
			return nil, fmt.Errorf("!GetAtt %s.%s: %w", id, attr, ErrUnresolvable)
		}
		return env.GetAtt(id, attr)
	case "Fn::Sub":
		return t.sub(in.Arg, env)
	case "Fn::Join":
		l := asList(in.Arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("!Join %v: want [delimiter, list]", in.Arg)
		}
		sep, _ := l[0].(string)
		items, err := t.Resolve(l[1], env)
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, it := range asList(items) {
			s, err := scalarString(it)
			if err != nil {
				return nil, fmt.Errorf("!Join: %w", err)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		l := asList(in.Arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("!Select %v: want [index, list]", in.Arg)
		}
		idxV, err := t.Resolve(l[0], env)
		if err != nil {
			return nil, err
		}
		idxS, err := scalarString(idxV)
		if err != nil {
			return nil, err
		}
		idx, err := strconv.Atoi(idxS)
		if err != nil {
			return nil, fmt.Errorf("!Select index %q: %w", idxS, err)
		}
		items, err := t.Resolve(l[1], env)
		if err != nil {
			return nil, err
		}
		list := asList(items)
		if idx < 0 || idx >= len(list) {
			return nil, fmt.Errorf("!Select index %d out of range", idx)
		}
		return list[idx], nil
	case "Fn::Split":
		l := asList(in.Arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("!Split %v: want [delimiter, string]", in.Arg)
		}
		sep, _ := l[0].(string)
		s, err := t.ResolveString(l[1], env)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		l := asList(in.Arg)
		if len(l) != 3 {
			return nil, fmt.Errorf("!If %v: want [condition, then, else]", in.Arg)
		}
		name, _ := l[0].(string)
		ok, err := t.condition(name, env)
		if err != nil {
			return nil, err
		}
		if ok {
			return t.Resolve(l[1], env)
		}
		return t.Resolve(l[2], env)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return t.evalCondition(in, env)
	}
	return nil, fmt.Errorf("%s: %w", in.Fn, ErrUnresolvable)
}

func (t *Template) ref(name string, env Env) (any, error) {
	if v, ok := env.Pseudo[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, fmt.Errorf("pseudo parameter %s: %w", name, ErrUnresolvable)
	}
	if p, ok := t.Parameters[name]; ok {
		if v, ok := env.Params[name]; ok {
			return v, nil
		}
		if p.Default == nil {
			return nil, fmt.Errorf("parameter %s has no value and no default", name)
		}
		return scalarString(p.Default)
	}
	if _, ok := t.Resources[name]; ok {
		if env.Ref == nil {
			return nil, fmt.Errorf("!Ref %s: %w", name, ErrUnresolvable)
		}
		return env.Ref(name)
	}
	return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (t *Template) sub(arg any, env Env) (any, error) {
	var format string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		format = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("!Sub %v: want string or [string, map]", arg)
		}
		format, _ = a[0].(string)
		vars = asMap(a[1])
	default:
		return nil, fmt.Errorf("!Sub %v: want string or [string, map]", arg)
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(format, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		var err error
		if local, ok := vars[name]; ok {
			v, err = t.Resolve(local, env)
		} else if id, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = t.resolveIntrinsic(Intrinsic{Fn: "Fn::GetAtt", Arg: []any{id, attr}}, env)
		} else {
			v, err = t.ref(name, env)
		}
		if err == nil {
			var s string
			s, err = scalarString(v)
			if err == nil {
				return s
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("!Sub ${%s}: %w", name, err)
		}
		return m
	})
	if firstErr != nil {
		return nil, firstErr
	}
	// ${!Literal} renders as ${Literal}.
	return strings.ReplaceAll(out, "${!", "${"), nil
}

func (t *Template) condition(name string, env Env) (bool, error) {
	c, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s not defined", name)
	}
	v, err := t.Resolve(c, env)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is not boolean", name)
	}
	return b, nil
}

func (t *Template) evalCondition(in Intrinsic, env Env) (any, error) {
	if in.Fn == "Condition" {
		name, _ := in.Arg.(string)
		return t.condition(name, env)
	}
	args, err := t.Resolve(in.Arg, env)
	if err != nil {
		return nil, err
	}
	l := asList(args)
	switch in.Fn {
	case "Fn::Equals":
		if len(l) != 2 {
			return nil, errors.New("!Equals wants two values")
		}
		a, errA := scalarString(l[0])
		b, errB := scalarString(l[1])
		if errA != nil || errB != nil {
			return nil, errors.New("!Equals wants scalars")
		}
		return a == b, nil
	case "Fn::Not":
		if len(l) != 1 {
			return nil, errors.New("!Not wants one condition")
		}
		b, ok := l[0].(bool)
		if !ok {
			return nil, errors.New("!Not wants a boolean")
		}
		return !b, nil
	case "Fn::And", "Fn::Or":
		and := in.Fn == "Fn::And"
		acc := and
		for _, e := range l {
			b, ok := e.(bool)
			if !ok {
				return nil, fmt.Errorf("%s wants booleans", in.Fn)
			}
			if and {
				acc = acc && b
			} else {
				acc = acc || b
			}
		}
		return acc, nil
	}
	return nil, fmt.Errorf("%s: %w", in.Fn, ErrUnresolvable)
}

// Statement is one IAM policy statement of a function, kept symbolic.
type Statement struct {
	Effect    string
	Actions   []string
	Resources []any // strings or Intrinsic
}

// Statements returns the IAM statements of f's inline policy documents, and
// the names of any managed policies or SAM policy templates it uses (which
// the IAM checks reject: the project writes explicit statements).
func (f Function) Statements() (stmts []Statement, others []string) {
	for _, p := range f.Policies {
		switch x := p.(type) {
		case string:
			others = append(others, x)
		case map[string]any:
			st, isDoc := x["Statement"]
			if !isDoc {
				for k := range x {
					others = append(others, k)
				}
				continue
			}
			for _, s := range asList(st) {
				sm := asMap(s)
				stmt := Statement{}
				stmt.Effect, _ = sm["Effect"].(string)
				for _, a := range stringOrList(sm["Action"]) {
					if s, ok := a.(string); ok {
						stmt.Actions = append(stmt.Actions, s)
					}
				}
				stmt.Resources = stringOrList(sm["Resource"])
				stmts = append(stmts, stmt)
			}
		}
	}
	return stmts, others
}

func stringOrList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}
