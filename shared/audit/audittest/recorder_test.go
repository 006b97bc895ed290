package audittest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/audit/audittest"
)

func entry(action string) audit.Entry {
	return audit.Entry{Actor: audit.ActorAnonymous, Action: action, Outcome: audit.OutcomeFailure, Details: map[string]string{"n": "1"}}
}

func TestRecorder(t *testing.T) {
	ctx := context.Background()
	var r audittest.Recorder
	for _, a := range []string{"auth.login.failed", "auth.throttled", "auth.login.failed"} {
		if err := r.Append(ctx, entry(a)); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if got := r.Actions(); fmt.Sprint(got) != "[auth.login.failed auth.throttled auth.login.failed]" {
		t.Fatalf("actions %v", got)
	}
	if got := len(r.Find("auth.login.failed")); got != 2 {
		t.Fatalf("found %d, want 2", got)
	}
	// Returned entries are copies.
	r.Entries()[0].Details["n"] = "changed"
	if r.Entries()[0].Details["n"] != "1" {
		t.Fatal("Entries shares its maps with the recorder")
	}

	bad := entry("auth.login.failed")
	bad.Details = map[string]string{"password": "x"}
	if err := r.Append(ctx, bad); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("append with a password detail: got %v, want ErrInvalidEntry", err)
	}

	boom := errors.New("audit down")
	r.FailWith(boom)
	if err := r.Append(ctx, entry("auth.throttled")); !errors.Is(err, boom) {
		t.Fatalf("append: got %v, want %v", err, boom)
	}
	r.FailWith(nil)
	r.Reset()
	if len(r.Entries()) != 0 {
		t.Fatal("Reset kept entries")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r audittest.Recorder
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if err := r.Append(context.Background(), entry("authz.denied")); err != nil {
				t.Error(err)
			}
			_ = r.Actions()
		})
	}
	wg.Wait()
	if n := len(r.Entries()); n != 100 {
		t.Fatalf("%d entries, want 100", n)
	}
}
