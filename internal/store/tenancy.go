// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"encoding/json"
	"net/netip"
	"time"
)

// Org is an organisation: an MSP's customer, or the one organisation of
// a single site (DefaultOrg).
type Org struct {
	// ID is the stable key chosen by whoever creates it ("acme").
	ID string `json:"id"`
	// Name is for people.
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Site is a place an organisation's devices (and its agent) are.
type Site struct {
	// ID is the stable key, unique within the organisation.
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	Name  string `json:"name"`
	// PublicAddr is the site's public address, which the server audits
	// from outside (the Internet's view); zero if unknown.
	PublicAddr netip.Addr `json:"public_addr,omitzero"`
	// Schedule is how often the site's audits run; zero means the
	// server's default.
	Schedule  time.Duration `json:"schedule,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// Role is what a user or a token may do. The store only keeps it;
// internal/auth decides what each allows.
type Role string

// Roles.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
	// RoleAgent is the role of an agent's token, and only of a token
	// bound to a site.
	RoleAgent Role = "agent"
)

// User is a person who logs in to the server.
type User struct {
	ID    int64  `json:"id"`
	OrgID string `json:"org_id"`
	// Name is the login name, unique over all organisations without
	// regard to ASCII case.
	Name string `json:"name"`
	// Role is RoleAdmin, RoleOperator or RoleViewer.
	Role Role `json:"role"`
	// PasswordHash is an argon2id PHC string made by the caller
	// ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"). It is never put in
	// JSON.
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// LastLogin is zero until the first login.
	LastLogin time.Time `json:"last_login,omitzero"`
}

// UserUpdate is what UpdateUser changes; zero fields are left alone.
type UserUpdate struct {
	Role         Role
	Disabled     *bool
	PasswordHash string
}

// Token is an API token. Its secret is never stored: Hash is the SHA-256
// of the secret and Prefix a short public part of the token that finds
// it.
type Token struct {
	ID    int64  `json:"id"`
	OrgID string `json:"org_id"`
	// SiteID is the site of an agent's token (Role RoleAgent), "" for
	// any other token.
	SiteID string `json:"site_id,omitempty"`
	// Name says what the token is for.
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Hash is the SHA-256 of the token's secret (32 bytes). It is never
	// put in JSON.
	Hash []byte `json:"-"`
	// Prefix is the public part that finds the token, unique over all
	// organisations, shown in lists.
	Prefix string `json:"prefix"`
	// CreatedBy names who made it.
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsed is zero until the token is first used.
	LastUsed time.Time `json:"last_used,omitzero"`
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is zero until the token is revoked.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Usable reports whether the token may be used at now: not revoked, not
// expired.
func (t Token) Usable(now time.Time) bool { return !t.Revoked() && !t.Expired(now) }

// Session is a web login. Its ID is the SHA-256 of the secret in the
// browser's cookie; the secret is never stored.
type Session struct {
	// ID is the SHA-256 of the cookie's secret (32 bytes). Never in JSON.
	ID     []byte `json:"-"`
	UserID int64  `json:"user_id"`
	// CSRFHash is the SHA-256 of the session's CSRF token (32 bytes), or
	// empty when the caller derives the token from the session instead.
	CSRFHash  []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastSeen  time.Time `json:"last_seen"`
	// RemoteAddr is the address the session was created from.
	RemoteAddr netip.Addr `json:"remote_addr,omitzero"`
}

// Expired reports whether the session has expired at now.
func (s Session) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// AuditEntry is one change made through the web or the API (or a login,
// an export): who did what to which object, when, from where.
type AuditEntry struct {
	ID    int64  `json:"id"`
	OrgID string `json:"org_id"`
	// Actor names who did it: a user or a token, by ID and name
	// ("user 3 alice", "token 7 nightly-export").
	Actor string `json:"actor"`
	// Action is an identifier ("site.create", "alert.ack", "login").
	Action string `json:"action"`
	// Object names what it was done to ("site office-b", "alert 42").
	Object string `json:"object,omitempty"`
	// Detail is free text: what changed, never a secret.
	Detail     string     `json:"detail,omitempty"`
	RemoteAddr netip.Addr `json:"remote_addr,omitzero"`
	At         time.Time  `json:"at"`
}

type auditKey struct{}

// WithAudit returns a context under which a Tenant's writes append e to
// the organisation's audit log in the same transaction as the change:
// the entry is there if and only if the change is. Every write method of
// a Tenant honours it (AppendAuditLog excepted: it appends its own
// argument), and so does CreateOrg, whose entry goes to the new
// organisation's log; AuthStore's writes and PutState ignore it, and so
// do reads. An empty e.OrgID means the write's organisation; another
// organisation's ID makes the write fail with ErrInvalid. A zero At means
// the time of the write. Use one context per change: each write under it
// appends the entry again.
func WithAudit(ctx context.Context, e AuditEntry) context.Context {
	return context.WithValue(ctx, auditKey{}, e)
}

// AuditFrom returns the entry WithAudit put in ctx, if any.
func AuditFrom(ctx context.Context) (AuditEntry, bool) {
	e, ok := ctx.Value(auditKey{}).(AuditEntry)
	return e, ok
}

// RangeScope is an authorised range audit: the prefixes an ISP or a CERT
// may audit, who owns them and why they are audited.
type RangeScope struct {
	ID    int64  `json:"id"`
	OrgID string `json:"org_id"`
	// Prefixes are the authorised prefixes (no host bits set, no
	// duplicates), in the order given.
	Prefixes []netip.Prefix `json:"prefixes"`
	// Owner is who holds the addresses and Reason why they are audited;
	// both are required.
	Owner     string    `json:"owner"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// PerPrefixRate bounds the audit's rate, in addresses per second per
	// prefix.
	PerPrefixRate float64 `json:"per_prefix_rate"`
}

// RangeState is the state of a range run.
type RangeState string

// Range run states: running until it finishes in one of the others.
const (
	RangeRunning   RangeState = "running"
	RangeDone      RangeState = "done"
	RangeFailed    RangeState = "failed"
	RangeCancelled RangeState = "cancelled"
)

// RangeRun is one run of a range scope.
type RangeRun struct {
	ID      int64 `json:"id"`
	ScopeID int64 `json:"scope_id"`
	// FinishedAt is zero while the run is running.
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at,omitzero"`
	State      RangeState `json:"state"`
}

// RangeRecord is what a run found at one address.
type RangeRecord struct {
	RunID int64 `json:"run_id"`
	// Address is the audited address (an IPv4-mapped IPv6 address is
	// kept as IPv4).
	Address netip.Addr `json:"address"`
	// Prefix is the prefix the address counts under in the run's
	// summary (its /24, or its scope prefix); it contains Address.
	Prefix netip.Prefix `json:"prefix"`
	// Record is the scan engine's record as JSON, byte for byte.
	Record json.RawMessage `json:"record,omitempty"`
	// Live: something answered at the address.
	Live bool `json:"live"`
	// Failing counts the failing findings, WorstSeverity is the highest
	// severity among them ("" if none) and Model the identified model
	// ("" if none).
	Failing       int    `json:"failing"`
	WorstSeverity string `json:"worst_severity,omitempty"`
	Model         string `json:"model,omitempty"`
	// At is when the address was audited.
	At time.Time `json:"at"`
}

// PrefixSummary counts a run's records under one Prefix.
type PrefixSummary struct {
	Prefix netip.Prefix `json:"prefix"`
	// Addresses counts the records, Live those where something
	// answered, Failing those with a failing finding, and FailingChecks
	// the failing findings.
	Addresses     int `json:"addresses"`
	Live          int `json:"live"`
	Failing       int `json:"failing"`
	FailingChecks int `json:"failing_checks"`
	// ByModel counts the records with an identified model, by model;
	// BySeverity the records with a failing finding, by worst severity.
	ByModel    map[string]int `json:"by_model"`
	BySeverity map[string]int `json:"by_severity"`
}
