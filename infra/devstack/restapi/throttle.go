package restapi

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vip-platform/backend/infra/template"
)

// API Gateway's account-level limits, used for whichever of rate and burst
// a MethodSettings entry leaves unset.
const (
	accountRateLimit  = 10000
	accountBurstLimit = 5000
)

type methodSetting struct {
	path   string // "/*" or a resource path
	method string // "*" or an HTTP method
	rate   *float64
	burst  *float64
}

type throttleSettings struct {
	settings []methodSetting
}

func parseMethodSettings(t *template.Template, api apiConfig, env template.Env) (*throttleSettings, error) {
	raw, ok := api.Properties["MethodSettings"]
	if !ok {
		return nil, nil
	}
	resolved, err := t.Resolve(raw, env)
	if err != nil {
		return nil, fmt.Errorf("restapi: api %s MethodSettings: %w", api.LogicalID, err)
	}
	list, ok := resolved.([]any)
	if !ok {
		return nil, fmt.Errorf("restapi: api %s MethodSettings is not a list", api.LogicalID)
	}
	ts := &throttleSettings{}
	for i, e := range list {
		m, _ := e.(map[string]any)
		where := fmt.Sprintf("restapi: api %s MethodSettings[%d]", api.LogicalID, i)
		s := methodSetting{path: "/*", method: "*"}
		if p, ok := m["ResourcePath"].(string); ok {
			// CloudFormation writes a resource path with its slashes escaped
			// as "~1" after the leading one: /~1v1~1health is /v1/health.
			s.path = p
			if p != "/*" {
				s.path = strings.ReplaceAll(strings.TrimPrefix(p, "/"), "~1", "/")
				if !strings.HasPrefix(s.path, "/") {
					s.path = "/" + s.path
				}
			}
		}
		if hm, ok := m["HttpMethod"].(string); ok {
			s.method = strings.ToUpper(hm)
		}
		for field, dst := range map[string]**float64{"ThrottlingRateLimit": &s.rate, "ThrottlingBurstLimit": &s.burst} {
			v, ok := m[field]
			if !ok {
				continue
			}
			f, err := toFloat(v)
			if err != nil || f < 0 {
				return nil, fmt.Errorf("%s.%s: %v is not a non-negative number", where, field, v)
			}
			*dst = &f
		}
		ts.settings = append(ts.settings, s)
	}
	return ts, nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, fmt.Errorf("%T", v)
}

// bucketFor returns the token bucket of one method, merging the settings
// from the least specific (/* and *) to the most specific (its path and
// method), field by field, as stage and method overrides combine. nil means
// no setting limits this method.
func (ts *throttleSettings) bucketFor(resource, method string) *bucket {
	var rate, burst *float64
	for _, level := range [][2]string{{"/*", "*"}, {"/*", method}, {resource, "*"}, {resource, method}} {
		for _, s := range ts.settings {
			if s.path != level[0] || s.method != level[1] {
				continue
			}
			if s.rate != nil {
				rate = s.rate
			}
			if s.burst != nil {
				burst = s.burst
			}
		}
	}
	if rate == nil && burst == nil {
		return nil
	}
	b := &bucket{rate: accountRateLimit, burst: accountBurstLimit}
	if rate != nil {
		b.rate = *rate
	}
	if burst != nil {
		b.burst = *burst
	}
	return b
}

// bucket is a token bucket: it starts full (burst tokens) and refills at
// rate tokens per second.
type bucket struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	tokens  float64
	last    time.Time
	started bool
}

func (b *bucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		b.started, b.tokens, b.last = true, b.burst, now
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
