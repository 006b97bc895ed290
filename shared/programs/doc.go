// Package programs is the organizations side of the internship domain: the
// admin-create-org CLI operation, org invites and members, programs (create,
// list, public listing and reading, edit, publish/close/archive) and their
// tasks. Rules live in shared/domain, persistence in shared/store; this
// package authorizes, sequences and audits.
//
// # Authorization
//
// Every operation re-reads the caller's user from the store: a suspended
// or deleted user is 401, and role and organization come from the stored
// user, never from the token alone, so a mentor moved out of an
// organization loses access on the next request. Routes follow
// api-docs/authorization.yaml:
//
//   - org_admin_of_org (invites, program create): an org admin of the path
//     organization. Its mentors see the organization and get 403; anyone
//     else 404.
//   - org_member (members, org program list): mentors and org admins of the
//     organization; anyone else 404.
//   - program_org_admin (program edit and transitions, task create and
//     edit): an org admin of the program's organization. A caller who may
//     read the program (anyone, for an open or closed program; members of
//     its organization always) gets 403; anyone else 404, as for an unknown
//     ID.
//   - program_member (task list): members of the program's organization and
//     interns with an active enrollment in it; anyone else 404.
//   - public (listing, read): open programs are listed, open and closed ones
//     readable; drafts and archived programs answer 404.
//
// Every denial is audited as authz.denied with the route and the rule.
//
// # Decisions
//
//   - Publishing needs at least one required task, every task's due date
//     inside the program, and an application window that has not closed
//     (domain.Program.Publish); a publish that fails them answers 400 with
//     the reasons, a move the state machine does not allow 409.
//   - Org admins invite mentors only; further org admins are invited by a
//     platform admin (admin-create-org invites the first), so
//     administrative rights spread only through platform admins.
//   - Invite codes are 256-bit secrets (domain.NewInvite) stored only as
//     their SHA-256. Because the code exists only in the first answer, a
//     retried invite create with the same Idempotency-Key answers 409
//     instead of replaying it.
//   - Updates need If-Match (428 without, 412 when stale); the stored
//     write is conditioned on the same version, so a concurrent change
//     between read and write is 412 too.
//   - Task creates and edits are conditioned on the program's state in the
//     same transaction: a task can never be added to a program closed
//     meanwhile.
//   - Cursors are sealed (shared/cursor) with a purpose naming the route
//     and, for org listings, the organization and caller, for the public
//     listing the skill filter: a cursor opens nowhere else (400).
//   - Public shapes (PublicProgramView) have no organization ID, email,
//     capacity, count or version field at all.
package programs
