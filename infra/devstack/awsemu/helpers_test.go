package awsemu

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/vip-platform/backend/infra/template"
)

const (
	repoTemplate = "../../../template.yaml"
	testTemplate = "testdata/template.yaml"
)

// start starts emulators for one test and closes them at its end.
func start(t *testing.T, opts Options) *Emulators {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	e, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// provisioned starts emulators and provisions a template into them.
func provisioned(t *testing.T, path string, params map[string]string, opts Options) (*Emulators, *template.Template, template.Env) {
	t.Helper()
	e := start(t, opts)
	tpl := load(t, path)
	env, err := NewResourceEnv(tpl, params, e.Region(), e.AccountID())
	if err != nil {
		t.Fatalf("NewResourceEnv: %v", err)
	}
	if err := e.Provision(t.Context(), tpl, env, nil); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return e, tpl, env
}

func load(t *testing.T, path string) *template.Template {
	t.Helper()
	tpl, err := template.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return tpl
}

func ref(t *testing.T, env template.Env, id string) string {
	t.Helper()
	v, err := env.Ref(id)
	if err != nil {
		t.Fatalf("Ref %s: %v", id, err)
	}
	return v
}

// errorCode returns the AWS error code of an SDK error ("" for nil).
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "non-API error: " + err.Error()
}

// eventSink collects S3 events from the hook.
type eventSink struct {
	mu     sync.Mutex
	events []ObjectEvent
	notify chan struct{}
}

func newEventSink() *eventSink { return &eventSink{notify: make(chan struct{}, 1)} }

func (s *eventSink) hook(ev ObjectEvent) {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// waitFor waits until an event matching name/bucket/key arrived and returns it.
func (s *eventSink) waitFor(t *testing.T, name, bucket, key string) ObjectEvent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		for _, ev := range s.events {
			if ev.Name == name && ev.Bucket == bucket && ev.Key == key {
				s.mu.Unlock()
				return ev
			}
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("no %s event for %s/%s; got %+v", name, bucket, key, s.snapshot())
		}
	}
}

func (s *eventSink) snapshot() []ObjectEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ObjectEvent(nil), s.events...)
}
