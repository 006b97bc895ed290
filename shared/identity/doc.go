// Package identity implements the authentication flows behind the
// /v1/auth/* routes: registration, the password and TOTP steps of a login,
// refresh-token rotation, logout, logout everywhere and password change. The
// Lambda handlers only decode the body, call a Service method and map its
// result (APIError turns the errors below into the public envelope), so every
// rule lives here, once.
//
// # Registration cannot be used to harvest addresses
//
// Register answers 202 with the same body whether or not the email is
// already registered, and does the same work in both cases: the argon2id
// hash is computed before the conditional create, so "taken" costs what
// "created" costs (one hash, one transaction). A taken address creates
// nothing and is audited as auth.register.duplicate (outcome failure),
// which the client never sees but operators can alert on: a burst of
// duplicates is what harvesting looks like. Registrations are rate limited
// per source IP (ScopeRegisterIP). The price of this choice is UX: someone
// who forgot they had an account is not told so, and must sign in (or reset
// the password) instead.
//
// # Login gives one answer for every failure
//
// An unknown email, a wrong password and a correct password on a suspended
// account all answer the same 401 invalid_credentials body. The unknown
// email runs Hasher.DummyVerify, a real argon2id derivation at the current
// parameters, so it takes about as long as a wrong password (ory/kratos
// sleeps a random delay instead; real work is indistinguishable by design
// and needs no tuning). A suspended account is deliberately not revealed:
// telling "suspended" only after a correct password would confirm the
// password to whoever guessed it. Suspended logins are audited (outcome
// denied) and count as failures for the rate limits, so the limiter's
// behaviour is no oracle either.
//
// # Rate limits
//
// Before every attempt Login checks three counters (see RateLimitPolicies):
// per source IP, per account (normalized email, known or not) and per
// (account, IP). Only failures count, and a throttled attempt is refused
// before it is counted, so:
//
//   - a burst of wrong passwords from one IP against one account stops at
//     the (account, IP) limit (5), long before the account-wide one (20);
//   - a spray of one password over many accounts from one IP stops at the
//     IP limit (50);
//   - the owner, from another IP, still gets in: the burst left the account
//     counter at 5 of 20 and their own (account, IP) counter is clean;
//   - every counter expires with its window: throttling grows (1 s, 2 s,
//     4 s, ... up to 15 min) but never becomes a lockout.
//
// A patient attacker spreading guesses over many IPs does reach the account
// limit, which then slows the owner too, for at most MaxBackoff: the
// accepted trade-off for capping guesses per account. Only the (account, IP)
// counter is reset by a successful login: resetting the IP or account
// counters would let one valid login launder an attacker's count.
//
// The TOTP step checks and counts the same scopes (the challenge names the
// user), and a password change has its own per-account scope.
//
// # Sessions and tokens
//
// A successful login creates a session (absolute lifetime SessionLifetime)
// with its first refresh token (RefreshTTL, capped by the session) and
// issues an access token (the Issuer's TTL, 10 to 15 minutes). Refresh
// tokens are single use: a refresh spends the presented token and returns
// the next one; presenting a spent token revokes the whole session (its
// family), which also kills the thief's or the owner's newer token, and is
// audited as auth.refresh.reuse. This is strict on purpose: two tabs
// refreshing with the same token at once log the user out rather than
// granting a grace period a thief could use.
//
// Platform admins cannot log in without TOTP (403 mfa_required); accounts
// with TOTP get a single-use, 5-minute challenge instead of tokens. Secrets,
// passwords, tokens and codes never appear in errors, logs or audit entries.
package identity
