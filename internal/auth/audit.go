// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"unicode/utf8"
)

// maxAuditDetail bounds an entry's Detail (bytes), so a handler that puts
// user input in it cannot fill the log.
const maxAuditDetail = 1024

// ErrNoPrincipal is returned when an entry is made for a request that was
// not authenticated.
var ErrNoPrincipal = errors.New("no authenticated principal in the request")

// NewAuditEntry describes a change the request's principal makes: action
// is a dotted verb ("site.create"), object what it acts on ("site:42"),
// detail a short text for people that never holds a secret (it is cut at
// 1 KiB). The server passes it to a store method that writes it in the
// same transaction as the change, or to [Authenticator.Audit].
func (a *Authenticator) NewAuditEntry(r *http.Request, action, object, detail string) (AuditEntry, error) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		return AuditEntry{}, ErrNoPrincipal
	}
	e := entryFor(p, a.ClientAddr(r), action, object)
	e.Detail = cut(detail, maxAuditDetail)
	e.At = a.now()
	return e, nil
}

// Audit appends an entry for a change the request's principal made (see
// NewAuditEntry). A change whose audit entry cannot be written should be
// reported as failed: the server calls it before answering.
func (a *Authenticator) Audit(r *http.Request, action, object, detail string) error {
	e, err := a.NewAuditEntry(r, action, object, detail)
	if err != nil {
		return err
	}
	return a.audit.AppendAudit(r.Context(), e)
}

// auditBestEffort records logins and logouts: not changes, so a failure
// to write them does not refuse the login.
func (a *Authenticator) auditBestEffort(ctx context.Context, p Principal, addr netip.Addr, action, object string) {
	e := entryFor(p, addr, action, object)
	e.At = a.now()
	if err := a.audit.AppendAudit(ctx, e); err != nil {
		a.log.Warn("writing the audit log failed", "action", action, "err", err)
	}
}

func entryFor(p Principal, addr netip.Addr, action, object string) AuditEntry {
	return AuditEntry{
		OrgID: p.OrgID, ActorKind: p.Kind, ActorID: p.ID, ActorName: p.Name,
		Action: action, Object: object, RemoteAddr: addrString(addr),
	}
}

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
