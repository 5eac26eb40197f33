// SPDX-License-Identifier: Apache-2.0

// Package server is `routerwatch serve`: the dashboard (server-rendered
// html/template pages with the embedded htmx), the JSON API under
// /api/v1/ with its OpenAPI document, and Prometheus' /metrics, over
// internal/store and behind internal/auth.
//
// # Contract
//
//   - One route table (routeTable) lists every route with who may reach
//     it: public, an agent, loopback-or-admin (/metrics), or a user or
//     API token whose role may do the route's action in auth's role
//     table. The table is the only place a route is registered, so the
//     security tests walk it and a new route cannot be missed.
//   - The organisation is always the principal's: handlers reach data
//     only through Store.ForOrg(principal.OrgID), and no route takes an
//     organisation from the client. Another organisation's ID reads as
//     404, exactly like a missing one.
//   - Every change made through the server writes its audit entry in the
//     change's own transaction (store.WithAudit); logins, logouts and
//     exports are recorded too.
//   - Requests are bounded: bodies at most 1 MiB (JSON at most 256 KiB,
//     decoded strictly by internal/strictjson), lists paged (at most
//     store.MaxLimit), headers and slow clients bounded by the server's
//     timeouts.
//   - Every API error is {"error": {"code", "message"}}; a message never
//     holds a secret or a stored value.
//   - Every page is html/template (every device-supplied string is
//     escaped), under a Content-Security-Policy that allows scripts and
//     styles from this server only: no inline script or style anywhere.
//     The per-device report is internal/report's HTML (the same as
//     `check --format html`), served as its own sandboxed page with no
//     script at all.
//   - Secrets (passwords, tokens, session IDs, CSRF tokens) are never
//     logged: the access log is auth's, which logs no header, query or
//     body.
package server
