package enrollment_test

import (
	"encoding/json/v2"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/idempotency"
	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
	"github.com/vip-platform/backend/shared/validate"
)

func decodeApplication(t *testing.T, body []byte) enrollment.ApplicationView {
	t.Helper()
	var v enrollment.ApplicationView
	if err := json.Unmarshal(body, &v, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("decode application %s: %v", body, err)
	}
	return v
}

func TestApply(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 2)
	intern := w.Interns[0]
	resp, err := e.applier.Apply(ctx(t), caller(intern), enrollment.ApplyInput{ProgramID: w.Program.ID, Motivation: "  " + motivation + "\n"})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if resp.Status != http.StatusCreated || resp.Headers["Etag"] != `"1"` {
		t.Fatalf("status %d headers %v", resp.Status, resp.Headers)
	}
	v := decodeApplication(t, resp.Body)
	if !ids.Valid(v.ID, ids.Application) || v.ProgramID != w.Program.ID || v.InternID != intern.ID ||
		v.Motivation != motivation || v.Status != "pending" || v.Version != 1 || !v.CreatedAt.Equal(base) ||
		v.DecidedAt != nil || v.EnrollmentID != "" || v.Reason != "" {
		t.Fatalf("application = %+v", v)
	}
	stored, err := e.Store.GetApplication(ctx(t), v.ID)
	if err != nil || stored.InternID != intern.ID || stored.OrgID != w.Org {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if _, err := e.applier.Apply(ctx(t), caller(intern), enrollment.ApplyInput{ProgramID: w.Program.ID, Motivation: motivation}); !errors.Is(err, enrollment.ErrAlreadyApplied) {
		t.Fatalf("second apply: err = %v, want ErrAlreadyApplied", err)
	}
	if h := enrollment.ToHTTP(enrollment.ErrAlreadyApplied); statusOf(h) != http.StatusConflict {
		t.Fatalf("ErrAlreadyApplied answers %d", statusOf(h))
	}
	if len(e.denials()) != 0 {
		t.Fatalf("unexpected denials %+v", e.denials())
	}
}

// statusOf is the status apigw.Wrap would answer for err: an *apigw.Error's
// own, 400 for validate.Errors, 500 for anything else.
func statusOf(err error) int {
	var ae *apigw.Error
	var ve validate.Errors
	switch {
	case errors.As(err, &ae):
		return ae.Status
	case errors.As(err, &ve):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func TestApplyRefusals(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 1)
	intern := w.Interns[0]
	suspended := e.User(t, apigw.RoleIntern, "")
	if _, err := e.Store.SetStatus(ctx(t), suspended.ID, store.UserSuspended, suspended.Version); err != nil {
		t.Fatal(err)
	}
	draft := w.Program
	draft.ID, draft.Status = ids.New(ids.Program), domain.ProgramDraft
	if _, err := e.Store.CreateProgram(ctx(t), draft); err != nil {
		t.Fatal(err)
	}
	// A token that says intern for a user stored as a mentor.
	mentorAsIntern := caller(w.Mentor)
	mentorAsIntern.Role = apigw.RoleIntern

	tests := []struct {
		name     string
		c        enrollment.Caller
		program  string
		motiv    string
		want     error
		field    string
		audited  bool
		httpCode int
	}{
		{"mentor role", caller(w.Mentor), w.Program.ID, motivation, enrollment.ErrForbidden, "", true, 403},
		{"org admin role", caller(w.Admin), w.Program.ID, motivation, enrollment.ErrForbidden, "", true, 403},
		{"stored user is not an intern", mentorAsIntern, w.Program.ID, motivation, enrollment.ErrForbidden, "", true, 403},
		{"suspended intern", caller(suspended), w.Program.ID, motivation, enrollment.ErrForbidden, "", true, 403},
		{"unknown program", caller(intern), ids.New(ids.Program), motivation, enrollment.ErrNotFound, "", false, 404},
		{"draft program", caller(intern), draft.ID, motivation, enrollment.ErrNotFound, "", true, 404},
		{"motivation too short", caller(intern), w.Program.ID, "Please take me.", nil, "motivation", false, 400},
		{"motivation too long", caller(intern), w.Program.ID, strings.Repeat("a", domain.MaxMotivationLen+1), nil, "motivation", false, 400},
		{"motivation with control characters", caller(intern), w.Program.ID, motivation + "\x00", nil, "motivation", false, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Audit.Reset()
			_, err := e.applier.Apply(ctx(t), tc.c, enrollment.ApplyInput{ProgramID: tc.program, Motivation: tc.motiv})
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.field != "" {
				var ve validate.Errors
				if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != tc.field {
					t.Fatalf("err = %v, want a field error on %s", err, tc.field)
				}
			}
			if got := statusOf(enrollment.ToHTTP(err)); got != tc.httpCode {
				t.Errorf("HTTP status %d, want %d", got, tc.httpCode)
			}
			if d := e.denials(); (len(d) == 1) != tc.audited {
				t.Fatalf("denials %+v, audited want %v", d, tc.audited)
			} else if tc.audited && (d[0].Details["route"] != enrollment.RouteApply || d[0].Actor != tc.c.UserID || d[0].Outcome != "denied") {
				t.Fatalf("denial entry %+v", d[0])
			}
			apps, _, err := e.Store.ListInternApplications(ctx(t), tc.c.UserID, 50, nil)
			if err != nil || len(apps) != 0 {
				t.Fatalf("refused apply stored %d applications (%v)", len(apps), err)
			}
		})
	}

	t.Run("outside the window", func(t *testing.T) {
		e.Clock.Advance(11 * 24 * time.Hour)
		defer e.Clock.Advance(-11 * 24 * time.Hour)
		_, err := e.applier.Apply(ctx(t), caller(intern), enrollment.ApplyInput{ProgramID: w.Program.ID, Motivation: motivation})
		if !errors.Is(err, enrollment.ErrNotAccepting) || statusOf(enrollment.ToHTTP(err)) != 409 {
			t.Fatalf("err = %v, want ErrNotAccepting (409)", err)
		}
	})
}

func TestApplyConcurrentOnce(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 1)
	intern := w.Interns[0]
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.applier.Apply(ctx(t), caller(intern), enrollment.ApplyInput{ProgramID: w.Program.ID, Motivation: motivation})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, enrollment.ErrAlreadyApplied), errors.Is(err, enrollment.ErrConflict):
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	apps, _, err := e.Store.ListInternApplications(ctx(t), intern.ID, 50, nil)
	if err != nil || ok != 1 || len(apps) != 1 {
		t.Fatalf("%d succeeded, %d stored (%v); want exactly one", ok, len(apps), err)
	}
}

func TestApplyIdempotency(t *testing.T) {
	e := newEnv(t)
	w := e.World(t, 3, 2)
	intern := w.Interns[0]
	body := []byte(`{"motivation":"` + motivation + `"}`)
	path := "/v1/programs/" + w.Program.ID + "/applications"
	in := enrollment.ApplyInput{
		ProgramID: w.Program.ID, Motivation: motivation, IdempotencyKey: "key-1",
		RequestHash: idempotency.RequestHash(http.MethodPost, path, body),
	}
	first, err := e.applier.Apply(ctx(t), caller(intern), in)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	e.Clock.Advance(time.Minute)
	replay, err := e.applier.Apply(ctx(t), caller(intern), in)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if replay.Status != http.StatusCreated || string(replay.Body) != string(first.Body) ||
		replay.Headers[idempotency.ReplayedHeader] != "true" || replay.Headers["Etag"] != first.Headers["Etag"] {
		t.Fatalf("replay = %d %v %s, first %s", replay.Status, replay.Headers, replay.Body, first.Body)
	}
	apps, _, _ := e.Store.ListInternApplications(ctx(t), intern.ID, 50, nil)
	if len(apps) != 1 {
		t.Fatalf("replay wrote: %d applications", len(apps))
	}

	t.Run("same key, different body", func(t *testing.T) {
		other := in
		other.Motivation = motivation + " Also, I like testing."
		other.RequestHash = idempotency.RequestHash(http.MethodPost, path, []byte(`{"motivation":"`+other.Motivation+`"}`))
		_, err := e.applier.Apply(ctx(t), caller(intern), other)
		if !errors.Is(err, enrollment.ErrIdempotencyMismatch) || statusOf(enrollment.ToHTTP(err)) != http.StatusUnprocessableEntity {
			t.Fatalf("err = %v, want ErrIdempotencyMismatch (422)", err)
		}
	})
	t.Run("same key, another caller", func(t *testing.T) {
		// Keys are per caller: another intern's identical key is a new
		// request of theirs.
		if _, err := e.applier.Apply(ctx(t), caller(w.Interns[1]), in); err != nil {
			t.Fatalf("other intern: %v", err)
		}
	})
	t.Run("failed request releases the key", func(t *testing.T) {
		late := e.User(t, apigw.RoleIntern, "")
		e.Clock.Advance(11 * 24 * time.Hour)
		k := in
		k.IdempotencyKey = "late-key"
		if _, err := e.applier.Apply(ctx(t), caller(late), k); !errors.Is(err, enrollment.ErrNotAccepting) {
			t.Fatalf("closed window: err = %v", err)
		}
		// Reopen the window by moving the clock back: the same key runs
		// again rather than replaying or blocking.
		e.Clock.Advance(-11 * 24 * time.Hour)
		if _, err := e.applier.Apply(ctx(t), caller(late), k); err != nil {
			t.Fatalf("retry after failure: %v", err)
		}
	})
}
