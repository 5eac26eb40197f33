// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"errors"
	"net/url"
	"strings"
)

// Backends.
const (
	BackendPostgres = "postgres"
	BackendSQLite   = "sqlite"
)

// Backend returns which backend dsn names: BackendPostgres for a
// postgres:// or postgresql:// URL, BackendSQLite for anything else (a
// file path, optionally written sqlite:PATH).
func Backend(dsn string) string {
	l := strings.ToLower(dsn)
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
		return BackendPostgres
	}
	return BackendSQLite
}

// SQLitePath returns the file a SQLite DSN names (sqlite:PATH or PATH).
func SQLitePath(dsn string) string {
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return p
	}
	return dsn
}

// JobsFile is the SQLite file of River's tables for the store file
// storePath: a sibling, so that River's single connection and its polling
// never contend for the store's write lock (see the package doc of
// internal/store/sqlite: one writing connection, BEGIN IMMEDIATE).
func JobsFile(storePath string) string { return storePath + ".jobs" }

// RedactDSN returns dsn fit to print: a PostgreSQL URL's password is
// replaced by "xxxxx", and a key=value DSN's password value too.
func RedactDSN(dsn string) string {
	if Backend(dsn) == BackendPostgres {
		u, err := url.Parse(dsn)
		if err != nil {
			// An unparsable URL may still hold a password after the
			// scheme: show only the scheme.
			scheme, _, _ := strings.Cut(dsn, "://")
			return scheme + "://(unparsable)"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsn
}

// dsnPassword returns the password a PostgreSQL DSN carries, or "".
func dsnPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	if p, has := u.User.Password(); has {
		return p
	}
	return u.Query().Get("password")
}

// redactError hides secret in err's message (a driver may quote the
// connection string it was given). The wrapped error stays reachable for
// errors.Is.
func redactError(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), secret, "xxxxx"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// errUnparsable is returned for a PostgreSQL DSN that does not parse; its
// text never quotes the DSN.
var errUnparsable = errors.New("the PostgreSQL DSN does not parse (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?sslmode=...)")
