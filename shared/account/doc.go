// Package account is the self-service and admin side of identity: the
// caller's profile (GET/PATCH /v1/me), their sessions (list, revoke one),
// TOTP enrolment (start, confirm) and the admin CLI operations (bootstrap the
// first platform admin, suspend and reinstate users).
//
// Each operation is a small service built from exactly the dependencies it
// needs, as interfaces declared here (*store.Store, *keys.Envelope and
// *audit.Writer satisfy them), so every Lambda wires only what it uses.
// Services are protocol-neutral: they return validate.Errors for bad input
// and the sentinel errors of errors.go for refused operations; ToHTTP maps
// those to API responses and RunCLI to messages for the operator.
//
// Audit: every change and every refusal that matters is recorded
// (account.profile.updated, auth.session.revoked, auth.mfa.*,
// admin.bootstrap, admin.user.*, authz.denied). An audit write that fails
// fails the call with an internal error, even when the change it records has
// already been made: an unaudited admin action must be noticed, and every
// operation here is safe to repeat (repeats are audited again).
//
// Secrets: a TOTP secret leaves the service exactly once, in the answer that
// starts an enrolment (or in the bootstrap result); it is stored only
// envelope-encrypted under TOTPEncryptionContext and never logged.
package account
