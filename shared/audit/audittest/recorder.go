// Package audittest provides an in-memory audit.Auditor for handler tests.
package audittest

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/vip-platform/backend/shared/audit"
)

// Recorder records appended entries in order. It applies the same Validate as
// the real Writer, so a handler that would put a secret into an entry fails
// its tests too. The zero value is ready to use and it is safe for concurrent
// use.
type Recorder struct {
	mu      sync.Mutex
	entries []audit.Entry
	failErr error
}

var _ audit.Auditor = (*Recorder)(nil)

// Append validates and records e, or returns the error set by FailWith.
func (r *Recorder) Append(_ context.Context, e audit.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failErr != nil {
		return r.failErr
	}
	e.Details = maps.Clone(e.Details)
	r.entries = append(r.entries, e)
	return nil
}

// FailWith makes later Appends return err (nil restores success), to test a
// handler's behaviour when auditing fails.
func (r *Recorder) FailWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failErr = err
}

// Entries returns a copy of the recorded entries in append order.
func (r *Recorder) Entries() []audit.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]audit.Entry, len(r.entries))
	for i, e := range r.entries {
		e.Details = maps.Clone(e.Details)
		out[i] = e
	}
	return out
}

// Actions returns the recorded actions in append order.
func (r *Recorder) Actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.entries))
	for i, e := range r.entries {
		out[i] = e.Action
	}
	return out
}

// Find returns the recorded entries with the given action.
func (r *Recorder) Find(action string) []audit.Entry {
	return slices.DeleteFunc(r.Entries(), func(e audit.Entry) bool { return e.Action != action })
}

// Reset forgets every recorded entry.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = nil
}
