// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/store"
)

// insertAuditEntry appends a prepared entry.
func insertAuditEntry(ctx context.Context, tx pgx.Tx, e store.AuditEntry) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO audit_log (org_id, actor, action, object, detail, remote_addr, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		e.OrgID, e.Actor, e.Action, e.Object, e.Detail, addrText(e.RemoteAddr), e.At).Scan(&id)
	return id, err
}

// CreateOrg implements store.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o store.Org) (store.Org, error) {
	o, err := store.PrepareOrg(o)
	if err != nil {
		return store.Org{}, fmt.Errorf("create organisation: %w", err)
	}
	o.CreatedAt = store.Timestamp(s.now())
	// The audit entry goes to the new organisation's log.
	t := &tenant{db: s.db, org: o.ID}
	err = t.write(ctx, "create organisation", once, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)", o.ID, o.Name, o.CreatedAt)
		return err
	})
	if err != nil {
		return store.Org{}, err
	}
	return o, nil
}

func scanOrg(r row) (store.Org, error) {
	var o store.Org
	var created time.Time
	err := r.Scan(&o.ID, &o.Name, &created)
	o.CreatedAt = utc(created)
	return o, err
}

// Org implements store.OrgStore.
func (s *Store) Org(ctx context.Context, id string) (store.Org, error) {
	if err := store.CheckOrgID(id); err != nil {
		return store.Org{}, fmt.Errorf("get organisation: %w", err)
	}
	var o store.Org
	err := s.db.read(ctx, "get organisation", func(tx pgx.Tx) error {
		var err error
		o, err = scanOrg(tx.QueryRow(ctx, "SELECT id, name, created_at FROM orgs WHERE id = $1", id))
		return notFound(err, "organisation")
	})
	return o, err
}

// Orgs implements store.OrgStore.
func (s *Store) Orgs(ctx context.Context) ([]store.Org, error) {
	var out []store.Org
	err := s.db.read(ctx, "list organisations", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanOrg, "SELECT id, name, created_at FROM orgs ORDER BY id")
		return err
	})
	return out, err
}

// PutSite implements store.SiteStore.
func (s *tenant) PutSite(ctx context.Context, site store.Site) (store.Site, error) {
	site, err := store.PrepareSite(site, s.org)
	if err != nil {
		return store.Site{}, fmt.Errorf("put site: %w", err)
	}
	now := store.Timestamp(s.now())
	err = s.write(ctx, "put site", again, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		var created, updated time.Time
		err := tx.QueryRow(ctx, `
			INSERT INTO sites (org_id, id, name, public_addr, schedule, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)
			ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name, public_addr = excluded.public_addr,
				schedule = excluded.schedule, updated_at = excluded.updated_at
			RETURNING created_at, updated_at`,
			s.org, site.ID, site.Name, addrText(site.PublicAddr), int64(site.Schedule), now).Scan(&created, &updated)
		site.CreatedAt, site.UpdatedAt = utc(created), utc(updated)
		return err
	})
	if err != nil {
		return store.Site{}, err
	}
	return site, nil
}

const siteColumns = "org_id, id, name, public_addr, schedule, created_at, updated_at"

func scanSite(r row) (store.Site, error) {
	var st store.Site
	var addr string
	var schedule int64
	var created, updated time.Time
	if err := r.Scan(&st.OrgID, &st.ID, &st.Name, &addr, &schedule, &created, &updated); err != nil {
		return st, err
	}
	st.Schedule, st.CreatedAt, st.UpdatedAt = time.Duration(schedule), utc(created), utc(updated)
	var err error
	st.PublicAddr, err = parseAddr("site public address", addr)
	return st, err
}

// Site implements store.SiteStore.
func (s *tenant) Site(ctx context.Context, id string) (store.Site, error) {
	if err := store.CheckID("site ID", id); err != nil {
		return store.Site{}, fmt.Errorf("get site: %w", err)
	}
	var st store.Site
	err := s.read(ctx, "get site", func(tx pgx.Tx) error {
		var err error
		st, err = scanSite(tx.QueryRow(ctx, "SELECT "+siteColumns+" FROM sites WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "site")
	})
	return st, err
}

// Sites implements store.SiteStore.
func (s *tenant) Sites(ctx context.Context) ([]store.Site, error) {
	var out []store.Site
	err := s.read(ctx, "list sites", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanSite, "SELECT "+siteColumns+" FROM sites WHERE org_id = $1 ORDER BY id", s.org)
		return err
	})
	return out, err
}

const userColumns = "id, org_id, name, role, password_hash, disabled, created_at, last_login"

func scanUser(r row) (store.User, error) {
	var u store.User
	var role string
	var created time.Time
	var last *time.Time
	err := r.Scan(&u.ID, &u.OrgID, &u.Name, &role, &u.PasswordHash, &u.Disabled, &created, &last)
	u.Role, u.CreatedAt, u.LastLogin = store.Role(role), utc(created), fromNull(last)
	return u, err
}

// CreateUser implements store.UserStore.
func (s *tenant) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u, err := store.PrepareUser(u, s.org)
	if err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	u.CreatedAt = store.Timestamp(s.now())
	err = s.write(ctx, "create user", once, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO users (org_id, name, name_key, role, password_hash, disabled, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			s.org, u.Name, store.LoginKey(u.Name), string(u.Role), u.PasswordHash, u.Disabled, u.CreatedAt).Scan(&u.ID)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// User implements store.UserStore.
func (s *tenant) User(ctx context.Context, id int64) (store.User, error) {
	var u store.User
	err := s.read(ctx, "get user", func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "user")
	})
	return u, err
}

// Users implements store.UserStore.
func (s *tenant) Users(ctx context.Context, p store.Page) ([]store.User, error) {
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var out []store.User
	err = s.read(ctx, "list users", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanUser, "SELECT "+userColumns+" FROM users WHERE org_id = $1 ORDER BY name_key LIMIT $2 OFFSET $3",
			s.org, limit, offset)
		return err
	})
	return out, err
}

// UpdateUser implements store.UserStore.
func (s *tenant) UpdateUser(ctx context.Context, id int64, up store.UserUpdate) (store.User, error) {
	if err := store.PrepareUserUpdate(id, up); err != nil {
		return store.User{}, fmt.Errorf("update user: %w", err)
	}
	var u store.User
	err := s.write(ctx, "update user", again, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET role = coalesce($1, role), disabled = coalesce($2, disabled), password_hash = coalesce($3, password_hash)
			WHERE org_id = $4 AND id = $5 RETURNING `+userColumns,
			nullString(string(up.Role)), up.Disabled, nullString(up.PasswordHash), s.org, id))
		if err != nil {
			return notFound(err, "user")
		}
		if (up.Disabled != nil && *up.Disabled) || up.PasswordHash != "" {
			_, err = tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", id)
		}
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// UserByLogin implements store.AuthStore.
func (s *Store) UserByLogin(ctx context.Context, login string) (store.User, error) {
	if err := store.CheckID("login name", login); err != nil {
		return store.User{}, fmt.Errorf("user by login: %w", err)
	}
	var u store.User
	err := s.db.read(ctx, "user by login", func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE name_key = $1", store.LoginKey(login)))
		return notFound(err, "user")
	})
	return u, err
}

// UserByID implements store.AuthStore.
func (s *Store) UserByID(ctx context.Context, id int64) (store.User, error) {
	var u store.User
	err := s.db.read(ctx, "user by ID", func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
		return notFound(err, "user")
	})
	return u, err
}

// RecordLogin implements store.AuthStore.
func (s *Store) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	at, err := store.CheckEventTime("login", userID, at, nil)
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return s.db.write(ctx, "record login", again, func(tx pgx.Tx) error {
		return execOne(ctx, tx, "user", "UPDATE users SET last_login = $1 WHERE id = $2", at, userID)
	})
}

const tokenColumns = "id, org_id, site_id, name, role, hash, prefix, created_by, created_at, last_used, expires_at, revoked_at"

func scanToken(r row) (store.Token, error) {
	var t store.Token
	var site *string
	var role string
	var created time.Time
	var used, expires, revoked *time.Time
	err := r.Scan(&t.ID, &t.OrgID, &site, &t.Name, &role, &t.Hash, &t.Prefix, &t.CreatedBy, &created, &used, &expires, &revoked)
	t.SiteID, t.Role, t.CreatedAt = fromNullString(site), store.Role(role), utc(created)
	t.LastUsed, t.ExpiresAt, t.RevokedAt = fromNull(used), fromNull(expires), fromNull(revoked)
	return t, err
}

// CreateToken implements store.TokenStore.
func (s *tenant) CreateToken(ctx context.Context, t store.Token) (store.Token, error) {
	t, err := store.PrepareToken(t, s.org)
	if err != nil {
		return store.Token{}, fmt.Errorf("create token: %w", err)
	}
	t.CreatedAt = store.Timestamp(s.now())
	err = s.write(ctx, "create token", once, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		if t.SiteID != "" {
			if err := siteExists(ctx, tx, s.org, t.SiteID); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `
			INSERT INTO tokens (org_id, site_id, name, role, hash, prefix, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			s.org, nullString(t.SiteID), t.Name, string(t.Role), t.Hash, t.Prefix, t.CreatedBy, t.CreatedAt,
			nullTime(t.ExpiresAt)).Scan(&t.ID)
	})
	if err != nil {
		return store.Token{}, err
	}
	return t, nil
}

// Token implements store.TokenStore.
func (s *tenant) Token(ctx context.Context, id int64) (store.Token, error) {
	var t store.Token
	err := s.read(ctx, "get token", func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "token")
	})
	return t, err
}

// Tokens implements store.TokenStore.
func (s *tenant) Tokens(ctx context.Context, p store.Page) ([]store.Token, error) {
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	var out []store.Token
	err = s.read(ctx, "list tokens", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanToken, "SELECT "+tokenColumns+` FROM tokens WHERE org_id = $1
			ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, s.org, limit, offset)
		return err
	})
	return out, err
}

// RevokeToken implements store.TokenStore.
func (s *tenant) RevokeToken(ctx context.Context, id int64, at time.Time) (store.Token, error) {
	at, err := store.CheckEventTime("token revocation", id, at, s.now)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token: %w", err)
	}
	var t store.Token
	err = s.write(ctx, "revoke token", again, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, "UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE org_id = $2 AND id = $3 RETURNING "+tokenColumns,
			at, s.org, id))
		return notFound(err, "token")
	})
	return t, err
}

// TokenByPrefix implements store.AuthStore.
func (s *Store) TokenByPrefix(ctx context.Context, prefix string) (store.Token, error) {
	if err := store.CheckTokenPrefix(prefix); err != nil {
		return store.Token{}, fmt.Errorf("token by prefix: %w", err)
	}
	var t store.Token
	err := s.db.read(ctx, "token by prefix", func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE prefix = $1", prefix))
		return notFound(err, "token")
	})
	return t, err
}

// TouchToken implements store.AuthStore.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	at, err := store.CheckEventTime("token use", id, at, nil)
	if err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return s.db.write(ctx, "touch token", again, func(tx pgx.Tx) error {
		return execOne(ctx, tx, "token", "UPDATE tokens SET last_used = $1 WHERE id = $2", at, id)
	})
}

const sessionColumns = "id, user_id, csrf_hash, created_at, expires_at, last_seen, remote_addr"

func scanSession(r row) (store.Session, error) {
	var se store.Session
	var created, expires, seen time.Time
	var addr string
	if err := r.Scan(&se.ID, &se.UserID, &se.CSRFHash, &created, &expires, &seen, &addr); err != nil {
		return se, err
	}
	if len(se.CSRFHash) == 0 {
		se.CSRFHash = nil
	}
	se.CreatedAt, se.ExpiresAt, se.LastSeen = utc(created), utc(expires), utc(seen)
	var err error
	se.RemoteAddr, err = parseAddr("session remote address", addr)
	return se, err
}

// CreateSession implements store.AuthStore.
func (s *Store) CreateSession(ctx context.Context, se store.Session) (store.Session, error) {
	se, err := store.PrepareSession(se, s.now)
	if err != nil {
		return store.Session{}, fmt.Errorf("create session: %w", err)
	}
	err = s.db.write(ctx, "create session", once, func(tx pgx.Tx) error {
		if err := exists(ctx, tx, "user", "SELECT 1 FROM users WHERE id = $1", se.UserID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO sessions (id, user_id, csrf_hash, created_at, expires_at, last_seen, remote_addr)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			se.ID, se.UserID, se.CSRFHash, se.CreatedAt, se.ExpiresAt, se.LastSeen, addrText(se.RemoteAddr))
		return err
	})
	if err != nil {
		return store.Session{}, err
	}
	return se, nil
}

// Session implements store.AuthStore.
func (s *Store) Session(ctx context.Context, id []byte) (store.Session, error) {
	if err := store.CheckSessionID(id); err != nil {
		return store.Session{}, fmt.Errorf("get session: %w", err)
	}
	var se store.Session
	err := s.db.read(ctx, "get session", func(tx pgx.Tx) error {
		var err error
		se, err = scanSession(tx.QueryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = $1", id))
		return notFound(err, "session")
	})
	return se, err
}

// TouchSession implements store.AuthStore.
func (s *Store) TouchSession(ctx context.Context, id []byte, seen, expires time.Time) (store.Session, error) {
	seen, expires, err := store.CheckSessionTouch(id, seen, expires)
	if err != nil {
		return store.Session{}, fmt.Errorf("touch session: %w", err)
	}
	var se store.Session
	err = s.db.write(ctx, "touch session", again, func(tx pgx.Tx) error {
		var err error
		se, err = scanSession(tx.QueryRow(ctx, "UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE id = $3 RETURNING "+sessionColumns,
			seen, expires, id))
		return notFound(err, "session")
	})
	return se, err
}

// DeleteSession implements store.AuthStore.
func (s *Store) DeleteSession(ctx context.Context, id []byte) error {
	if err := store.CheckSessionID(id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return s.db.write(ctx, "delete session", again, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = $1", id)
		return err
	})
}

// DeleteExpiredSessions implements store.AuthStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	now, err := store.CheckEventTime("session expiry", 1, now, nil)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	var n int64
	err = s.db.write(ctx, "delete expired sessions", once, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1", now)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// AppendAuditLog implements store.AuditLogStore.
func (s *tenant) AppendAuditLog(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	e, err := store.PrepareAuditEntry(e, s.org, s.now)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append to the audit log: %w", err)
	}
	// Not s.write: the context's own entry, if any, is not appended too.
	err = s.db.write(ctx, "append to the audit log", once, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		var err error
		e.ID, err = insertAuditEntry(ctx, tx, e)
		return err
	})
	if err != nil {
		return store.AuditEntry{}, err
	}
	return e, nil
}

func scanAuditEntry(r row) (store.AuditEntry, error) {
	var e store.AuditEntry
	var addr string
	var at time.Time
	if err := r.Scan(&e.ID, &e.OrgID, &e.Actor, &e.Action, &e.Object, &e.Detail, &addr, &at); err != nil {
		return e, err
	}
	e.At = utc(at)
	var err error
	e.RemoteAddr, err = parseAddr("audit log remote address", addr)
	return e, err
}

// AuditLog implements store.AuditLogStore.
func (s *tenant) AuditLog(ctx context.Context, p store.Page) ([]store.AuditEntry, error) {
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list the audit log: %w", err)
	}
	var out []store.AuditEntry
	err = s.read(ctx, "list the audit log", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanAuditEntry, `
			SELECT id, org_id, actor, action, object, detail, remote_addr, at FROM audit_log
			WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3`, s.org, limit, offset)
		return err
	})
	return out, err
}
