// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// siteExists returns store.ErrNotFound when the site is not in org.
func siteExists(ctx context.Context, tx *sql.Tx, org, id string) error {
	return exists(ctx, tx, "site", "SELECT 1 FROM sites WHERE org_id = ? AND id = ?", org, id)
}

// insertAuditEntry appends a prepared entry.
func insertAuditEntry(ctx context.Context, tx *sql.Tx, e store.AuditEntry) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO audit_log (org_id, actor, action, object, detail, remote_addr, at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.OrgID, e.Actor, e.Action, e.Object, e.Detail, addrText(e.RemoteAddr), micros(e.At)).Scan(&id)
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
	err = t.write(ctx, "create organisation", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)", o.ID, o.Name, micros(o.CreatedAt))
		return err
	})
	if err != nil {
		return store.Org{}, err
	}
	return o, nil
}

func scanOrg(row interface{ Scan(...any) error }) (store.Org, error) {
	var o store.Org
	var created int64
	err := row.Scan(&o.ID, &o.Name, &created)
	o.CreatedAt = fromMicros(created)
	return o, err
}

// Org implements store.OrgStore.
func (s *Store) Org(ctx context.Context, id string) (store.Org, error) {
	if err := store.CheckOrgID(id); err != nil {
		return store.Org{}, fmt.Errorf("get organisation: %w", err)
	}
	var o store.Org
	err := s.db.read(ctx, "get organisation", func(tx *sql.Tx) error {
		var err error
		o, err = scanOrg(tx.QueryRowContext(ctx, "SELECT id, name, created_at FROM orgs WHERE id = ?", id))
		return notFound(err, "organisation")
	})
	return o, err
}

// Orgs implements store.OrgStore.
func (s *Store) Orgs(ctx context.Context) ([]store.Org, error) {
	var out []store.Org
	err := s.db.read(ctx, "list organisations", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanOrg, "SELECT id, name, created_at FROM orgs ORDER BY id")
		return err
	})
	return out, err
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, tx *sql.Tx, scan func(interface{ Scan(...any) error }) (T, error), q string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PutSite implements store.SiteStore.
func (s *tenant) PutSite(ctx context.Context, site store.Site) (store.Site, error) {
	site, err := store.PrepareSite(site, s.org)
	if err != nil {
		return store.Site{}, fmt.Errorf("put site: %w", err)
	}
	now := micros(store.Timestamp(s.now()))
	err = s.write(ctx, "put site", func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		var created, updated int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO sites (org_id, id, name, public_addr, schedule, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name, public_addr = excluded.public_addr,
				schedule = excluded.schedule, updated_at = excluded.updated_at
			RETURNING created_at, updated_at`,
			s.org, site.ID, site.Name, addrText(site.PublicAddr), int64(site.Schedule), now, now).Scan(&created, &updated)
		site.CreatedAt, site.UpdatedAt = fromMicros(created), fromMicros(updated)
		return err
	})
	if err != nil {
		return store.Site{}, err
	}
	return site, nil
}

// orgExists returns store.ErrNotFound when the organisation is not there.
func orgExists(ctx context.Context, tx *sql.Tx, org string) error {
	return exists(ctx, tx, "organisation", "SELECT 1 FROM orgs WHERE id = ?", org)
}

const siteColumns = "org_id, id, name, public_addr, schedule, created_at, updated_at"

func scanSite(row interface{ Scan(...any) error }) (store.Site, error) {
	var st store.Site
	var addr string
	var schedule, created, updated int64
	if err := row.Scan(&st.OrgID, &st.ID, &st.Name, &addr, &schedule, &created, &updated); err != nil {
		return st, err
	}
	st.Schedule, st.CreatedAt, st.UpdatedAt = time.Duration(schedule), fromMicros(created), fromMicros(updated)
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
	err := s.read(ctx, "get site", func(tx *sql.Tx) error {
		var err error
		st, err = scanSite(tx.QueryRowContext(ctx, "SELECT "+siteColumns+" FROM sites WHERE org_id = ? AND id = ?", s.org, id))
		return notFound(err, "site")
	})
	return st, err
}

// Sites implements store.SiteStore.
func (s *tenant) Sites(ctx context.Context) ([]store.Site, error) {
	var out []store.Site
	err := s.read(ctx, "list sites", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanSite, "SELECT "+siteColumns+" FROM sites WHERE org_id = ? ORDER BY id", s.org)
		return err
	})
	return out, err
}

const userColumns = "id, org_id, name, role, password_hash, disabled, created_at, last_login"

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var role string
	var created int64
	var last sql.NullInt64
	err := row.Scan(&u.ID, &u.OrgID, &u.Name, &role, &u.PasswordHash, &u.Disabled, &created, &last)
	u.Role, u.CreatedAt, u.LastLogin = store.Role(role), fromMicros(created), fromNullMicros(last)
	return u, err
}

// CreateUser implements store.UserStore.
func (s *tenant) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u, err := store.PrepareUser(u, s.org)
	if err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	u.CreatedAt = store.Timestamp(s.now())
	err = s.write(ctx, "create user", func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO users (org_id, name, name_key, role, password_hash, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.org, u.Name, store.LoginKey(u.Name), string(u.Role), u.PasswordHash, u.Disabled, micros(u.CreatedAt)).Scan(&u.ID)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// User implements store.UserStore.
func (s *tenant) User(ctx context.Context, id int64) (store.User, error) {
	var u store.User
	err := s.read(ctx, "get user", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE org_id = ? AND id = ?", s.org, id))
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
	err = s.read(ctx, "list users", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanUser, "SELECT "+userColumns+" FROM users WHERE org_id = ? ORDER BY name_key LIMIT ? OFFSET ?",
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
	err := s.write(ctx, "update user", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE org_id = ? AND id = ?", s.org, id))
		if err != nil {
			return notFound(err, "user")
		}
		logout := (up.Disabled != nil && *up.Disabled) || up.PasswordHash != ""
		if up.Role != "" {
			u.Role = up.Role
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if up.PasswordHash != "" {
			u.PasswordHash = up.PasswordHash
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, disabled = ?, password_hash = ? WHERE id = ?",
			string(u.Role), u.Disabled, u.PasswordHash, id); err != nil {
			return err
		}
		if logout {
			_, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", id)
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
	err := s.db.read(ctx, "user by login", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE name_key = ?", store.LoginKey(login)))
		return notFound(err, "user")
	})
	return u, err
}

// UserByID implements store.AuthStore.
func (s *Store) UserByID(ctx context.Context, id int64) (store.User, error) {
	var u store.User
	err := s.db.read(ctx, "user by ID", func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
		return notFound(err, "user")
	})
	return u, err
}

// execOne runs an UPDATE or DELETE that must change one row.
func execOne(ctx context.Context, tx *sql.Tx, what, q string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// RecordLogin implements store.AuthStore.
func (s *Store) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	at, err := store.CheckEventTime("login", userID, at, nil)
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return s.db.write(ctx, "record login", func(tx *sql.Tx) error {
		return execOne(ctx, tx, "user", "UPDATE users SET last_login = ? WHERE id = ?", micros(at), userID)
	})
}

const tokenColumns = "id, org_id, site_id, name, role, hash, prefix, created_by, created_at, last_used, expires_at, revoked_at"

func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var site sql.NullString
	var role string
	var created int64
	var used, expires, revoked sql.NullInt64
	err := row.Scan(&t.ID, &t.OrgID, &site, &t.Name, &role, &t.Hash, &t.Prefix, &t.CreatedBy, &created, &used, &expires, &revoked)
	t.SiteID, t.Role, t.CreatedAt = site.String, store.Role(role), fromMicros(created)
	t.LastUsed, t.ExpiresAt, t.RevokedAt = fromNullMicros(used), fromNullMicros(expires), fromNullMicros(revoked)
	return t, err
}

// CreateToken implements store.TokenStore.
func (s *tenant) CreateToken(ctx context.Context, t store.Token) (store.Token, error) {
	t, err := store.PrepareToken(t, s.org)
	if err != nil {
		return store.Token{}, fmt.Errorf("create token: %w", err)
	}
	t.CreatedAt = store.Timestamp(s.now())
	err = s.write(ctx, "create token", func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		if t.SiteID != "" {
			if err := siteExists(ctx, tx, s.org, t.SiteID); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO tokens (org_id, site_id, name, role, hash, prefix, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.org, nullString(t.SiteID), t.Name, string(t.Role), t.Hash, t.Prefix, t.CreatedBy, micros(t.CreatedAt),
			nullMicros(t.ExpiresAt)).Scan(&t.ID)
	})
	if err != nil {
		return store.Token{}, err
	}
	return t, nil
}

// Token implements store.TokenStore.
func (s *tenant) Token(ctx context.Context, id int64) (store.Token, error) {
	var t store.Token
	err := s.read(ctx, "get token", func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE org_id = ? AND id = ?", s.org, id))
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
	err = s.read(ctx, "list tokens", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanToken, "SELECT "+tokenColumns+` FROM tokens WHERE org_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, s.org, limit, offset)
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
	err = s.write(ctx, "revoke token", func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE org_id = ? AND id = ? RETURNING "+tokenColumns,
			micros(at), s.org, id))
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
	err := s.db.read(ctx, "token by prefix", func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE prefix = ?", prefix))
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
	return s.db.write(ctx, "touch token", func(tx *sql.Tx) error {
		return execOne(ctx, tx, "token", "UPDATE tokens SET last_used = ? WHERE id = ?", micros(at), id)
	})
}

const sessionColumns = "id, user_id, csrf_hash, created_at, expires_at, last_seen, remote_addr"

func scanSession(row interface{ Scan(...any) error }) (store.Session, error) {
	var se store.Session
	var created, expires, seen int64
	var addr string
	if err := row.Scan(&se.ID, &se.UserID, &se.CSRFHash, &created, &expires, &seen, &addr); err != nil {
		return se, err
	}
	if len(se.CSRFHash) == 0 {
		se.CSRFHash = nil
	}
	se.CreatedAt, se.ExpiresAt, se.LastSeen = fromMicros(created), fromMicros(expires), fromMicros(seen)
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
	err = s.db.write(ctx, "create session", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "user", "SELECT 1 FROM users WHERE id = ?", se.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO sessions (id, user_id, csrf_hash, created_at, expires_at, last_seen, remote_addr)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			se.ID, se.UserID, se.CSRFHash, micros(se.CreatedAt), micros(se.ExpiresAt), micros(se.LastSeen), addrText(se.RemoteAddr))
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
	err := s.db.read(ctx, "get session", func(tx *sql.Tx) error {
		var err error
		se, err = scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id))
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
	err = s.db.write(ctx, "touch session", func(tx *sql.Tx) error {
		var err error
		se, err = scanSession(tx.QueryRowContext(ctx, "UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id = ? RETURNING "+sessionColumns,
			micros(seen), micros(expires), id))
		return notFound(err, "session")
	})
	return se, err
}

// DeleteSession implements store.AuthStore.
func (s *Store) DeleteSession(ctx context.Context, id []byte) error {
	if err := store.CheckSessionID(id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return s.db.write(ctx, "delete session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id)
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
	err = s.db.write(ctx, "delete expired sessions", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
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
	err = s.db.write(ctx, "append to the audit log", func(tx *sql.Tx) error {
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

func scanAuditEntry(row interface{ Scan(...any) error }) (store.AuditEntry, error) {
	var e store.AuditEntry
	var addr string
	var at int64
	if err := row.Scan(&e.ID, &e.OrgID, &e.Actor, &e.Action, &e.Object, &e.Detail, &addr, &at); err != nil {
		return e, err
	}
	e.At = fromMicros(at)
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
	err = s.read(ctx, "list the audit log", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanAuditEntry, `
			SELECT id, org_id, actor, action, object, detail, remote_addr, at FROM audit_log
			WHERE org_id = ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, s.org, limit, offset)
		return err
	})
	return out, err
}
