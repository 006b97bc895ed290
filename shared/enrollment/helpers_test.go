package enrollment_test

import (
	"context"
	"testing"

	"github.com/vip-platform/backend/shared/audit"
	"github.com/vip-platform/backend/shared/enrollment"
	"github.com/vip-platform/backend/shared/enrollment/enrollmenttest"
	"github.com/vip-platform/backend/shared/store"
)

var base = enrollmenttest.Base

const motivation = enrollmenttest.Motivation

type world = enrollmenttest.World

// env is the harness plus every service over it.
type env struct {
	*enrollmenttest.Env
	applier *enrollment.Applier
	lister  *enrollment.ApplicationLister
	withdr  *enrollment.Withdrawer
	decider *enrollment.Decider
	reader  *enrollment.EnrollmentReader
}

func newEnv(t *testing.T) *env {
	t.Helper()
	h := enrollmenttest.New(t)
	return &env{
		Env: h, applier: h.Applier(t), lister: h.Lister(t), withdr: h.Withdrawer(t),
		decider: h.Decider(t), reader: h.Reader(t),
	}
}

func ctx(t *testing.T) context.Context { return enrollmenttest.Ctx(t) }

func caller(u store.User) enrollment.Caller { return enrollmenttest.Caller(u) }

// apply files a pending application of intern through the service, without
// an idempotency key.
func (e *env) apply(t *testing.T, w world, intern store.User) enrollment.ApplicationView {
	t.Helper()
	resp, err := e.applier.Apply(ctx(t), caller(intern), enrollment.ApplyInput{ProgramID: w.Program.ID, Motivation: motivation})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return decodeApplication(t, resp.Body)
}

// denials returns the authz.denied entries recorded since the last Reset.
func (e *env) denials() []audit.Entry { return e.Denials() }
