// Package enrollment is the application and enrollment side of the
// internship domain: an intern applies to an open program (one live
// application per program), withdraws while pending; an org admin of the
// program's organization lists and decides applications, accepting with a
// mentor of the same organization (the enrollment is created in the same
// transaction, never past capacity) or rejecting with a reason; interns and
// mentors list their enrollments, and the parties of an enrollment read it
// with its per-task progress.
//
// Each operation is a small service built from exactly the dependencies it
// needs, as interfaces declared here (*store.Store, *audit.Writer,
// *cursor.Sealer and *idempotency.Store satisfy them). Services are
// protocol-neutral: they return validate.Errors for bad input and the
// sentinel errors of errors.go for refusals; ToHTTP maps them to API
// answers.
//
// Authorization follows api-docs/authorization.yaml. Writes re-read the
// caller's user from the store (role, organization and status as stored,
// not as the access token remembers them), so a mentor or org admin removed
// from an organization, or a suspended intern, loses write access at once.
// A resource the caller may not see answers 404 exactly like a missing one;
// every denial is audited as authz.denied with the route and the rule that
// failed (an audit write that fails fails the request).
//
// Listings are paged with sealed cursors bound to the route, the caller and
// the filter (shared/cursor), so a cursor cannot be read, forged, or
// replayed against another listing (400).
package enrollment
