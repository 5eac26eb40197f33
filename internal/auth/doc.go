// SPDX-License-Identifier: Apache-2.0

// Package auth authenticates and authorises the requests `routerwatch
// serve` answers: local users with argon2id password hashes, API tokens
// (agent tokens are API tokens bound to one site), browser sessions in a
// cookie, CSRF protection, login rate limiting, roles, the audit trail of
// changes and the server's TLS certificate.
//
// # Contract
//
//   - auth never imports the store. It declares the small interfaces it
//     needs ([Users], [Tokens], [Sessions], [AuditLog]) over its own record
//     types; the server adapts the store to them. Every record carries its
//     organisation, and the [Principal] a request runs as carries the
//     organisation every data access must be filtered by.
//   - Secrets are never stored, logged or put in errors: passwords are kept
//     as argon2id PHC strings, API tokens and session IDs as SHA-256 hashes,
//     and [AccessLog] redacts the Authorization, Cookie, Set-Cookie and
//     X-CSRF-Token headers and never logs query strings.
//   - [Authenticator.Authenticate] answers 401 with `WWW-Authenticate:
//     Bearer` when a request has no credentials or invalid ones, and 403
//     when a browser session's state-changing request fails the CSRF
//     checks. [Require] and [RequireAction] answer 403 to a valid principal
//     whose role does not allow the route.
//   - A login attempt that is rate limited is refused before the password
//     is looked at, so a flood of guesses costs at most a few argon2
//     computations; unknown users and wrong passwords get the same error
//     after the same work.
//
// # Roles
//
// Roles are ordered: viewer < operator < admin; a role may do everything
// the roles below it may. Agents are not users: an agent token's principal
// has no role, may only use the agent routes ([RequireAgent]) and only for
// its own site, so a stolen agent token reads nothing. The table is the
// one [Can] uses (a test holds the two together):
//
//	| Action              | What                                                   | viewer | operator | admin |
//	|---------------------|--------------------------------------------------------|--------|----------|-------|
//	| view                | sites, devices, findings, alerts, config history, DNS  | yes    | yes      | yes   |
//	| account.password    | change one's own password, log out                     | yes    | yes      | yes   |
//	| audit.run           | run an audit now, start a range audit on a scope       | -      | yes      | yes   |
//	| alert.ack           | acknowledge or suppress an alert                       | -      | yes      | yes   |
//	| site.edit           | add a site, edit its name, address and schedule        | -      | yes      | yes   |
//	| site.delete         | delete a site and its history                          | -      | -        | yes   |
//	| agent_token.manage  | issue or revoke a site's agent token                   | -      | -        | yes   |
//	| token.manage        | issue or revoke API tokens                             | -      | -        | yes   |
//	| user.manage         | add users, change roles, disable, reset passwords      | -      | -        | yes   |
//	| range_scope.manage  | authorise address space for range audits               | -      | -        | yes   |
//	| advisory.manage     | import or update advisory data                         | -      | -        | yes   |
//	| auditlog.view       | read the audit log                                     | -      | -        | yes   |
//
// Operators run the day-to-day work (audits, alerts, sites) but cannot
// create credentials, change who may do what, destroy history or
// authorise scanning address space: those are the admin's, because each
// widens what somebody can do or reach.
package auth
