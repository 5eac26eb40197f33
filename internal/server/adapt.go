// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/store"
)

// authStore adapts a store.Store to the four interfaces internal/auth
// declares (Users, Tokens, Sessions, AuditLog). auth keeps IDs as
// strings and knows nothing of the store; the store keeps user and token
// IDs as integers and finds sessions by the SHA-256 of their secret,
// which is exactly auth's SessionRecord.Hash.
type authStore struct {
	st store.Store
}

// notFound maps the store's ErrNotFound to auth's, which is what auth
// tells apart from a store failure (a 401 against a 500).
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", auth.ErrNotFound, err)
	}
	return err
}

// parseID reads an ID auth got from us. A malformed one cannot name a
// row: it is not found, never a 500.
func parseID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: malformed ID", auth.ErrNotFound)
	}
	return n, nil
}

func userRecord(u store.User) auth.UserRecord {
	return auth.UserRecord{
		ID: strconv.FormatInt(u.ID, 10), OrgID: u.OrgID, Name: u.Name,
		Role: auth.Role(u.Role), PasswordHash: u.PasswordHash, Disabled: u.Disabled,
	}
}

// UserByName implements auth.Users.
func (a authStore) UserByName(ctx context.Context, name string) (auth.UserRecord, error) {
	u, err := a.st.UserByLogin(ctx, name)
	if errors.Is(err, store.ErrInvalid) {
		// A name the store refuses (control characters, too long) is
		// nobody's: auth spends the dummy hash and answers as for an
		// unknown name.
		return auth.UserRecord{}, fmt.Errorf("%w: unusable login name", auth.ErrNotFound)
	}
	if err != nil {
		return auth.UserRecord{}, notFound(err)
	}
	return userRecord(u), nil
}

// UserByID implements auth.Users.
func (a authStore) UserByID(ctx context.Context, id string) (auth.UserRecord, error) {
	n, err := parseID(id)
	if err != nil {
		return auth.UserRecord{}, err
	}
	u, err := a.st.UserByID(ctx, n)
	if err != nil {
		return auth.UserRecord{}, notFound(err)
	}
	return userRecord(u), nil
}

// SetPasswordHash implements auth.Users: through the user's own
// organisation, like every write of an organisation's data (the store
// also ends the user's sessions in the same transaction).
func (a authStore) SetPasswordHash(ctx context.Context, id, phc string) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	u, err := a.st.UserByID(ctx, n)
	if err != nil {
		return notFound(err)
	}
	_, err = a.st.ForOrg(u.OrgID).UpdateUser(ctx, n, store.UserUpdate{PasswordHash: phc})
	return notFound(err)
}

// RecordLogin implements auth.Users.
func (a authStore) RecordLogin(ctx context.Context, id string, at time.Time) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	return notFound(a.st.RecordLogin(ctx, n, at))
}

// tokenRecord turns a stored token into auth's record. An agent's token
// (a site, role "agent") gets no role: auth makes it a KindAgent
// principal bound to the site.
func tokenRecord(t store.Token) auth.TokenRecord {
	role := auth.Role(t.Role)
	if t.Role == store.RoleAgent {
		role = ""
	}
	return auth.TokenRecord{
		ID: strconv.FormatInt(t.ID, 10), OrgID: t.OrgID, Name: t.Name, Role: role,
		SiteID: t.SiteID, Prefix: t.Prefix, Hash: t.Hash, CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsed: t.LastUsed, Revoked: t.Revoked(),
	}
}

// TokenByPrefix implements auth.Tokens.
func (a authStore) TokenByPrefix(ctx context.Context, prefix string) (auth.TokenRecord, error) {
	t, err := a.st.TokenByPrefix(ctx, prefix)
	if err != nil {
		return auth.TokenRecord{}, notFound(err)
	}
	return tokenRecord(t), nil
}

// TouchToken implements auth.Tokens.
func (a authStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	return notFound(a.st.TouchToken(ctx, n, at))
}

// CreateSession implements auth.Sessions.
func (a authStore) CreateSession(ctx context.Context, s auth.SessionRecord) error {
	uid, err := parseID(s.UserID)
	if err != nil {
		return err
	}
	addr, _ := netip.ParseAddr(s.RemoteAddr) // "" when unknown: the zero Addr
	_, err = a.st.CreateSession(ctx, store.Session{
		ID: s.Hash, UserID: uid, CreatedAt: s.CreatedAt, LastSeen: s.LastSeen,
		ExpiresAt: s.ExpiresAt, RemoteAddr: addr,
	})
	return notFound(err)
}

// SessionByHash implements auth.Sessions. The store keeps no
// organisation with a session: it is the user's, read here (auth reads
// the user again and refuses a session whose user moved).
func (a authStore) SessionByHash(ctx context.Context, hash []byte) (auth.SessionRecord, error) {
	s, err := a.st.Session(ctx, hash)
	if errors.Is(err, store.ErrInvalid) {
		return auth.SessionRecord{}, fmt.Errorf("%w: malformed session ID", auth.ErrNotFound)
	}
	if err != nil {
		return auth.SessionRecord{}, notFound(err)
	}
	u, err := a.st.UserByID(ctx, s.UserID)
	if err != nil {
		return auth.SessionRecord{}, notFound(err)
	}
	rec := auth.SessionRecord{
		Hash: s.ID, UserID: strconv.FormatInt(s.UserID, 10), OrgID: u.OrgID,
		CreatedAt: s.CreatedAt, LastSeen: s.LastSeen, ExpiresAt: s.ExpiresAt,
	}
	if s.RemoteAddr.IsValid() {
		rec.RemoteAddr = s.RemoteAddr.String()
	}
	return rec, nil
}

// TouchSession implements auth.Sessions. The store's ExpiresAt stays the
// end of the absolute lifetime set at creation (auth enforces the idle
// timeout itself), so only LastSeen moves.
func (a authStore) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	s, err := a.st.Session(ctx, hash)
	if err != nil {
		return notFound(err)
	}
	_, err = a.st.TouchSession(ctx, hash, at, s.ExpiresAt)
	return notFound(err)
}

// DeleteSession implements auth.Sessions.
func (a authStore) DeleteSession(ctx context.Context, hash []byte) error {
	return notFound(a.st.DeleteSession(ctx, hash))
}

// DeleteUserSessions implements auth.Sessions. The store deletes a
// user's sessions whenever the password hash is written (in the same
// transaction), so writing the same hash again ends them all.
func (a authStore) DeleteUserSessions(ctx context.Context, id string) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	u, err := a.st.UserByID(ctx, n)
	if err != nil {
		return notFound(err)
	}
	_, err = a.st.ForOrg(u.OrgID).UpdateUser(ctx, n, store.UserUpdate{PasswordHash: u.PasswordHash})
	return notFound(err)
}

// AppendAudit implements auth.AuditLog (logins and logouts; changes go
// through storeAudit and the change's own transaction).
func (a authStore) AppendAudit(ctx context.Context, e auth.AuditEntry) error {
	_, err := a.st.ForOrg(e.OrgID).AppendAuditLog(ctx, storeAudit(e))
	return err
}

// storeAudit turns auth's entry into the store's: the actor reads
// "user 3 alice" or "token 7 nightly-export".
func storeAudit(e auth.AuditEntry) store.AuditEntry {
	addr, _ := netip.ParseAddr(e.RemoteAddr)
	return store.AuditEntry{
		OrgID:  e.OrgID,
		Actor:  fmt.Sprintf("%s %s %s", e.ActorKind, e.ActorID, e.ActorName),
		Action: e.Action, Object: e.Object, Detail: e.Detail, RemoteAddr: addr, At: e.At,
	}
}
