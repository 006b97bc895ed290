// Package work is the intern's work and its review: an enrolled intern
// submits work per task (a new version after changes were requested, every
// version kept), the parties of an enrollment list every version with its
// review, and the enrollment's assigned mentor reviews a version exactly
// once (score, feedback, decision). When a review leaves every required
// task of the program accepted, the enrollment is completed in the same
// transaction and a domain.EnrollmentCompleted event is handed to the
// service's CompletionHook (certificate issuance plugs in there).
//
// Services are protocol-neutral: they take a Caller (the authenticated
// principal plus request facts for audit) and return views or the sentinel
// errors of errors.go; ToHTTP maps those to API answers.
//
// # Authorization (api-docs/authorization.yaml)
//
//   - submit: interns only (another role: 403). The enrollment is re-read
//     from the store: only its intern may submit (anyone else: 404, the
//     enrollment is not theirs to see); an enrollment that is completed or
//     ended refuses further work with 409 — its intern can still read it, so
//     the state is no secret, but write access ended with it.
//   - list: the enrollment's intern, its assigned mentor, org admins of its
//     organization (others: 404; platform admins are not listed for this
//     route: 403). Mentors and org admins are re-read from the store, so one
//     removed from the organization loses read access at once too.
//   - review: mentors only (another role: 403). The submission and its
//     enrollment are re-read, and so is the mentor's user: the caller must be
//     the enrollment's mentor AND still an active mentor of the enrollment's
//     organization as stored. Otherwise 404 (the submission is no longer
//     theirs to see), whatever the access token still says.
//
// Every denial is audited as authz.denied with the route and the rule that
// failed; an audit write that fails fails the request.
//
// # Consistency
//
// Each write is one transaction (docs/data-model.md, submit and review)
// conditioned on the enrollment version read, so it never acts on stale
// state: a rival write that got in between makes the service re-read and
// decide again (a bounded number of times), which is how two submissions of
// different tasks both succeed while two submissions of one task produce
// exactly one version, and how concurrent reviews of one version leave
// exactly one decision (the losers get ErrAlreadyReviewed, 409).
package work
