// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"errors"
	"time"
)

// The interfaces below are what auth needs from the store. The server
// adapts internal/store to them (auth must not import it, to stay below
// the store in the layering and to be testable with maps). Every method
// returns an error wrapping ErrNotFound when the row does not exist;
// other errors are failures of the store and make the request fail with
// 500, never a login.

// ErrNotFound is what the adapters return (wrapped or not) for a row that
// does not exist.
var ErrNotFound = errors.New("not found")

// UserRecord is what the store keeps of a user.
type UserRecord struct {
	ID    string
	OrgID string
	// Name is the login name; the store decides whether it is unique
	// across organisations (it must be, for a login form without an
	// organisation field).
	Name string
	Role Role
	// PasswordHash is an argon2id PHC string made by [Hasher.Hash]; the
	// store never sees a password.
	PasswordHash string
	Disabled     bool
}

// Users reads and updates users.
type Users interface {
	UserByName(ctx context.Context, name string) (UserRecord, error)
	UserByID(ctx context.Context, id string) (UserRecord, error)
	// SetPasswordHash replaces a user's hash (password change, or a
	// rehash with new parameters at login).
	SetPasswordHash(ctx context.Context, id, phc string) error
	// RecordLogin notes a successful login.
	RecordLogin(ctx context.Context, id string, at time.Time) error
}

// Tokens reads API tokens (creating and revoking them is the server's
// business, with [GenerateToken]).
type Tokens interface {
	// TokenByPrefix returns the token with that prefix; the caller
	// compares the hash in constant time, so the store needs no
	// constant-time lookup. Prefixes are unique (the store's constraint;
	// a collision on insert is retried with a new token).
	TokenByPrefix(ctx context.Context, prefix string) (TokenRecord, error)
	// TouchToken sets LastUsed; auth calls it at most once a minute per
	// token.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// SessionRecord is what the store keeps of a browser session. The
// session ID itself (the cookie's value) is never stored.
type SessionRecord struct {
	// Hash is the SHA-256 of the session ID; the key.
	Hash   []byte
	UserID string
	OrgID  string
	// CreatedAt starts the absolute lifetime, LastSeen the idle timeout.
	CreatedAt time.Time
	LastSeen  time.Time
	// ExpiresAt is the end of the absolute lifetime, for the store to
	// delete expired sessions; auth checks both limits itself.
	ExpiresAt  time.Time
	RemoteAddr string
}

// Sessions stores browser sessions by the hash of their ID.
type Sessions interface {
	CreateSession(ctx context.Context, s SessionRecord) error
	SessionByHash(ctx context.Context, hash []byte) (SessionRecord, error)
	// TouchSession sets LastSeen; auth calls it at most once a minute per
	// session.
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteSession removes one session; deleting a missing one is not an
	// error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteUserSessions removes every session of a user (password
	// change, account disabled).
	DeleteUserSessions(ctx context.Context, userID string) error
}

// AuditEntry records one change made through the server: who (the
// principal), what (Action, Object, Detail), from where, when. Detail is
// free text for people and must never hold a secret.
type AuditEntry struct {
	OrgID      string
	ActorKind  Kind
	ActorID    string
	ActorName  string
	Action     string
	Object     string
	Detail     string
	RemoteAddr string
	At         time.Time
}

// AuditLog appends to the audit log.
type AuditLog interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
}
