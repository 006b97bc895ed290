package obs

import (
	"encoding/json/v2"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units the platform's metrics use.
const (
	UnitCount        Unit = "Count"
	UnitMilliseconds Unit = "Milliseconds"
	UnitBytes        Unit = "Bytes"
	UnitNone         Unit = "None"
)

// Metrics writes CloudWatch Embedded Metric Format lines: each Emit is one
// JSON object on one line, which CloudWatch Logs turns into a metric
// datapoint under Namespace with the fixed dimensions. It is safe for
// concurrent use.
type Metrics struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	dims      map[string]string
	dimKeys   []string
	now       func() time.Time
}

// maxDimensions is CloudWatch's limit per dimension set.
const maxDimensions = 30

// NewMetrics returns a Metrics writing to w (os.Stdout in Lambda) under
// namespace, with dimensions attached to every datapoint (e.g. function and
// stage). Keep dimension values low-cardinality: never user or request IDs.
func NewMetrics(w io.Writer, namespace string, dimensions map[string]string) (*Metrics, error) {
	if w == nil || namespace == "" {
		return nil, errors.New("obs: metrics need a writer and a namespace")
	}
	if len(dimensions) > maxDimensions {
		return nil, fmt.Errorf("obs: %d metric dimensions, at most %d allowed", len(dimensions), maxDimensions)
	}
	for k, v := range dimensions {
		if k == "" || k == "_aws" || v == "" {
			return nil, errors.New("obs: metric dimensions need a name (not _aws) and a value")
		}
	}
	return &Metrics{
		w:         w,
		namespace: namespace,
		dims:      maps.Clone(dimensions),
		dimKeys:   slices.Sorted(maps.Keys(dimensions)),
		now:       time.Now,
	}, nil
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// Emit writes one datapoint. The name must not collide with a dimension name.
func (m *Metrics) Emit(name string, value float64, unit Unit) error {
	if name == "" || name == "_aws" {
		return errors.New("obs: metric needs a name (not _aws)")
	}
	if _, clash := m.dims[name]; clash {
		return fmt.Errorf("obs: metric %q has a dimension's name", name)
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return fmt.Errorf("obs: metric %q value is not finite", name)
	}
	doc := make(map[string]any, len(m.dims)+2)
	for k, v := range m.dims {
		doc[k] = v
	}
	doc[name] = value
	doc["_aws"] = emfMeta{
		Timestamp: m.now().UnixMilli(),
		CloudWatchMetrics: []emfDirective{{
			Namespace:  m.namespace,
			Dimensions: [][]string{m.dimKeys},
			Metrics:    []emfMetric{{Name: name, Unit: unit}},
		}},
	}
	line, err := json.Marshal(doc, json.Deterministic(true))
	if err != nil {
		return fmt.Errorf("obs: encode metric %q: %w", name, err)
	}
	line = append(line, '\n')
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.w.Write(line); err != nil {
		return fmt.Errorf("obs: write metric %q: %w", name, err)
	}
	return nil
}

// Count emits a Count datapoint of n.
func (m *Metrics) Count(name string, n int) error {
	return m.Emit(name, float64(n), UnitCount)
}
