// SPDX-License-Identifier: Apache-2.0

// Package store is where routerwatch keeps what it has seen of the routers
// it watches: the devices, their configuration snapshots (normalized, and
// the raw pages with secrets already redacted), the baseline of each
// device, the results of audits, the changes found between snapshots and
// the state of alerts, so that `watch` alerts once per change of state
// and still knows after a restart what it already said.
//
// Store is the contract; sub-packages implement it (sqlite, the embedded
// default; postgres, for the fleet) and storetest is the suite every
// implementation must pass. The contract holds for all of them, so
// nothing here depends on one database's behaviour:
//
//   - Every write is one transaction: a reader sees all of it or none of
//     it, and a write that returns an error has changed nothing.
//   - Organisations never see each other's data. Everything a fleet keeps
//     (devices, sites, snapshots, audits, alerts, users, tokens, the audit
//     log, range audits) belongs to one organisation, and a Tenant (from
//     ForOrg) reads and writes only its own organisation's rows: the ID of
//     another organisation's record is ErrNotFound, exactly as if it did
//     not exist, and a list never holds another organisation's row. A
//     Store's own Tenant methods are those of DefaultOrg, so a single site
//     (the CLI, watch) never names an organisation. Only the lookups that
//     come before the organisation is known (AuthStore: a login name, a
//     token's prefix, a session) and the organisations themselves
//     (OrgStore) cross organisations.
//   - Errors are classified with errors.Is: ErrNotFound (an unknown ID, or
//     an ID that belongs to another device or organisation), ErrInvalid
//     (bad input; the message names the field, never its value),
//     ErrConflict (a unique name or ID already taken), ErrClosed (after
//     Close), ErrSchemaTooNew (the database was written by a newer
//     routerwatch), and the context's own error when ctx is done.
//   - Times are kept in UTC to the microsecond (what PostgreSQL's
//     timestamptz holds); what a method returns is what a later read
//     returns (see Timestamp).
//   - Identifiers (organisation, site and device IDs, kinds, alert keys,
//     adapters, login names) must be valid UTF-8 without control
//     characters and at most MaxIDLen bytes; they are refused otherwise.
//     Free text (labels, titles, words, artifact names) is kept with
//     invalid UTF-8 and NUL replaced by U+FFFD, since it often comes from
//     a device and refusing it would lose the record.
//   - Bytes (artifact bodies, audit reports, range records) come back byte
//     for byte.
//   - Lists are newest first (by the record's own time, then by ID, which
//     grows with every insert) and paged with Page, unless a method says
//     otherwise.
//   - Secrets never reach a store: passwords arrive as argon2id PHC
//     strings and API tokens and session IDs as SHA-256 hashes, made by
//     the caller (internal/auth).
//   - A store never logs and never puts a stored value in an error: the
//     snapshots are redacted by the adapters, but the history of a
//     router's configuration is still the owner's business.
//   - Every change made through the web or the API is in the audit log,
//     written in the same transaction as the change: see WithAudit.
//   - A Store is safe for concurrent use by many goroutines, and (for
//     PostgreSQL) by many processes. Close may be called more than once;
//     every other call after it returns ErrClosed.
package store

import (
	"context"
	"errors"
	"iter"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
)

// Errors, for errors.Is.
var (
	// ErrNotFound: no record with that ID (for that device).
	ErrNotFound = errors.New("not found in the store")
	// ErrInvalid: the input breaks the contract; the message says which
	// field and why, not its value.
	ErrInvalid = errors.New("invalid input to the store")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("the store is closed")
	// ErrSchemaTooNew: the database was migrated by a newer routerwatch;
	// this one refuses it rather than misread it.
	ErrSchemaTooNew = errors.New("the store was written by a newer version of routerwatch")
	// ErrConflict: a record with that unique ID or name exists (an
	// organisation ID, a login name, a token prefix or hash, a session
	// ID). Login names are global, so the conflict may be with another
	// organisation's user; the error never says whose.
	ErrConflict = errors.New("already in the store")
)

// DefaultOrg is the organisation of a single site: the data that a
// Store's own Tenant methods read and write. Every store has it from its
// first migration on, so the CLI and watch keep working without ever
// naming an organisation.
const DefaultOrg = "default"

// Store is everything routerwatch keeps. The parts are separate
// interfaces so that a consumer can ask for only what it uses.
type Store interface {
	// Tenant: a Store is also DefaultOrg's data.
	Tenant
	StateStore
	OrgStore
	AuthStore
	// ForOrg returns organisation id's data. It does not check that the
	// organisation exists: reads of an unknown organisation find nothing
	// and writes fail with ErrNotFound; an invalid ID makes every call
	// fail with ErrInvalid. The Tenant shares the Store's connections and
	// needs no closing.
	ForOrg(id string) Tenant
	// Close releases the store. Methods called after it return
	// ErrClosed, those of its Tenants included. Closing twice is not an
	// error.
	Close() error
}

// Tenant is one organisation's data. Every method reads or writes only
// that organisation's rows (see the package documentation): a server
// gets the Tenant of the organisation its caller was authenticated for,
// and cannot reach another's.
type Tenant interface {
	// OrgID returns the organisation whose data this is.
	OrgID() string
	DeviceStore
	SiteStore
	SnapshotStore
	BaselineStore
	AuditStore
	ChangeStore
	AlertStore
	UserStore
	TokenStore
	AuditLogStore
	RangeStore
}

// DeviceStore keeps the routers being watched.
type DeviceStore interface {
	// PutDevice creates the device or replaces its fields (CreatedAt is
	// kept). It returns the device as stored. A device's Site, if set,
	// must be a site of the organisation (ErrNotFound otherwise).
	PutDevice(ctx context.Context, d Device) (Device, error)
	// Device returns the device with that ID, or ErrNotFound.
	Device(ctx context.Context, id string) (Device, error)
	// Devices returns every device, ordered by site, then ID.
	Devices(ctx context.Context) ([]Device, error)
}

// SnapshotStore keeps configuration snapshots.
type SnapshotStore interface {
	// PutSnapshot stores a snapshot of a known device (ErrNotFound
	// otherwise) and returns its metadata with its new ID and the hash
	// of its normalized configuration. The snapshot must have an
	// adapter and a TakenAt (ErrInvalid otherwise); its raw artifacts
	// may total at most MaxSnapshotBytes.
	PutSnapshot(ctx context.Context, deviceID string, s *device.Snapshot) (SnapshotMeta, error)
	// Snapshot returns one snapshot with its configuration and raw
	// artifacts, or ErrNotFound.
	Snapshot(ctx context.Context, id int64) (StoredSnapshot, error)
	// LatestSnapshot returns the device's newest snapshot (greatest
	// TakenAt, then greatest ID), or ErrNotFound if it has none.
	LatestSnapshot(ctx context.Context, deviceID string) (StoredSnapshot, error)
	// Snapshots returns the device's history, newest first, metadata
	// only. An unknown device has an empty history.
	Snapshots(ctx context.Context, deviceID string, p Page) ([]SnapshotMeta, error)
	// CountSnapshots returns how many snapshots the device has.
	CountSnapshots(ctx context.Context, deviceID string) (int, error)
}

// BaselineStore keeps the snapshot each device is compared with. Setting
// a baseline appends to the device's baseline history; the newest one is
// the baseline.
type BaselineStore interface {
	// SetBaseline makes b.SnapshotID the device's baseline. The snapshot
	// must be one of that device's (ErrNotFound otherwise). A zero SetAt
	// means now.
	SetBaseline(ctx context.Context, b Baseline) (Baseline, error)
	// Baseline returns the device's current baseline, or ErrNotFound.
	Baseline(ctx context.Context, deviceID string) (Baseline, error)
	// Baselines returns every baseline the device had, newest first.
	Baselines(ctx context.Context, deviceID string, p Page) ([]Baseline, error)
}

// AuditStore keeps the results of audits (dns, check, config).
type AuditStore interface {
	// PutAudit stores an audit result. DeviceID may be empty (an audit of
	// the network, not of a watched device); if set, the device must
	// exist (ErrNotFound). A zero At means now.
	PutAudit(ctx context.Context, a Audit) (Audit, error)
	// Audit returns one audit result, or ErrNotFound.
	Audit(ctx context.Context, id int64) (Audit, error)
	// Audits returns audit results matching f, newest first.
	Audits(ctx context.Context, f AuditFilter, p Page) ([]Audit, error)
}

// ChangeStore keeps what changed between two snapshots of a device.
type ChangeStore interface {
	// PutChanges stores one change event. Both snapshots must belong to
	// the device (ErrNotFound otherwise). A zero At means now.
	PutChanges(ctx context.Context, e ChangeEvent) (ChangeEvent, error)
	// ChangeEvents returns the device's change events with their
	// changes, newest first; an empty DeviceID lists every device's.
	ChangeEvents(ctx context.Context, deviceID string, p Page) ([]ChangeEvent, error)
}

// StateStore keeps small named blobs of a component's own state, each
// replaced whole (the watcher's alert delivery queue: which channel has
// not taken which event yet), so that it survives a restart.
type StateStore interface {
	// State returns the blob called name, or ErrNotFound.
	State(ctx context.Context, name string) ([]byte, error)
	// PutState replaces the blob called name; at most MaxStateBytes.
	PutState(ctx context.Context, name string, b []byte) error
}

// AlertStore keeps the open problems of each device so that a watcher
// alerts on changes of state only, across restarts.
//
// A watcher calls ReconcileAlerts after each run with the problems that
// run found, sends a notice for each alert PendingAlerts returns, and
// records each notice with MarkNotified. A notice that could not be sent
// stays pending and is sent after a restart.
type AlertStore interface {
	// ReconcileAlerts compares the problems one run of the given kind
	// found on the device with that device's open alerts of that kind,
	// in one transaction: a problem without an open alert opens one, an
	// open alert whose problem is present again is updated (LastSeen,
	// and Title, Severity and Detail as given), and an open alert whose
	// problem is absent is resolved at `at`. Alerts of other kinds are
	// left alone (a config pull that failed resolves nothing the DNS
	// audit found). Keys must be unique in present (ErrInvalid).
	ReconcileAlerts(ctx context.Context, deviceID, kind string, at time.Time, present []Problem) (Reconciliation, error)
	// PendingAlerts returns the alerts whose current state (open or
	// resolved) has not been notified yet, oldest change first; an empty
	// deviceID means every device's. An alert suppressed until a time
	// still to come (by the store's clock) is not pending until then.
	PendingAlerts(ctx context.Context, deviceID string) ([]Alert, error)
	// MarkNotified records that the alert's given state was notified at
	// `at`. ErrNotFound for an unknown alert.
	MarkNotified(ctx context.Context, alertID int64, state AlertState, at time.Time) error
	// Alerts returns alerts matching f, newest first (by FirstSeen).
	Alerts(ctx context.Context, f AlertFilter, p Page) ([]Alert, error)
	// Alert returns one alert, or ErrNotFound.
	Alert(ctx context.Context, id int64) (Alert, error)
	// AckAlert records that a person (by, free text: the actor's name)
	// acknowledged the alert at `at` (zero means now), replacing an
	// earlier acknowledgement, and returns the alert. It changes nothing
	// else: an acknowledged alert stays open until its problem is gone.
	AckAlert(ctx context.Context, id int64, by string, at time.Time) (Alert, error)
	// SuppressAlert keeps the alert from being pending for notification
	// until `until`; a zero until lifts the suppression. It returns the
	// alert.
	SuppressAlert(ctx context.Context, id int64, until time.Time) (Alert, error)
}

// OrgStore keeps the organisations (an MSP's customers). It crosses
// organisations: only the server's own administration uses it.
type OrgStore interface {
	// CreateOrg creates an organisation (CreatedAt is now) and returns
	// it. ErrConflict if the ID is taken.
	CreateOrg(ctx context.Context, o Org) (Org, error)
	// Org returns the organisation, or ErrNotFound.
	Org(ctx context.Context, id string) (Org, error)
	// Orgs returns every organisation, ordered by ID.
	Orgs(ctx context.Context) ([]Org, error)
}

// SiteStore keeps an organisation's sites: the places its devices (and
// its agent) are.
type SiteStore interface {
	// PutSite creates the site or replaces its name, public address and
	// schedule (CreatedAt is kept), and returns it as stored.
	PutSite(ctx context.Context, s Site) (Site, error)
	// Site returns the site, or ErrNotFound.
	Site(ctx context.Context, id string) (Site, error)
	// Sites returns every site of the organisation, ordered by ID.
	Sites(ctx context.Context) ([]Site, error)
}

// UserStore keeps an organisation's users. The password hash is made by
// the caller; the store never sees a password and refuses anything but
// an argon2id PHC string in PasswordHash.
type UserStore interface {
	// CreateUser creates the user (CreatedAt is now) and returns it with
	// its new ID. Login names are global (a login form needs no
	// organisation): ErrConflict if the name is taken in any
	// organisation, compared without regard to ASCII case.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns the user, or ErrNotFound.
	User(ctx context.Context, id int64) (User, error)
	// Users returns the organisation's users, ordered by login name.
	Users(ctx context.Context, p Page) ([]User, error)
	// UpdateUser changes what u sets and returns the user. Disabling a
	// user or changing the password hash also deletes the user's
	// sessions, in the same transaction: a changed password or a
	// disabled account logs out everywhere.
	UpdateUser(ctx context.Context, id int64, u UserUpdate) (User, error)
}

// TokenStore keeps an organisation's API tokens. The store keeps the
// SHA-256 of a token's secret and a short public prefix, never the
// secret.
type TokenStore interface {
	// CreateToken stores the token (CreatedAt is now) and returns it with
	// its new ID. An agent's token names a site of the organisation
	// (ErrNotFound otherwise). ErrConflict if the prefix or the hash is
	// taken (the caller makes new random ones and tries again).
	CreateToken(ctx context.Context, t Token) (Token, error)
	// Token returns the token, or ErrNotFound.
	Token(ctx context.Context, id int64) (Token, error)
	// Tokens returns the organisation's tokens, newest first, revoked
	// and expired ones included.
	Tokens(ctx context.Context, p Page) ([]Token, error)
	// RevokeToken revokes the token at `at` (zero means now) and returns
	// it. Revoking a revoked token keeps the first time.
	RevokeToken(ctx context.Context, id int64, at time.Time) (Token, error)
}

// AuthStore holds the lookups made before the caller's organisation is
// known: a login, a bearer token, a session cookie. What they return
// names its organisation; every later call goes through that
// organisation's Tenant. Their writes (last login and use, sessions) are
// not changes of an organisation's data and do not take an audit entry
// from the context (see WithAudit): the server logs logins with
// AppendAuditLog.
type AuthStore interface {
	// UserByLogin returns the user with that login name (compared
	// without regard to ASCII case), disabled or not, or ErrNotFound.
	UserByLogin(ctx context.Context, login string) (User, error)
	// UserByID returns the user, in whichever organisation, or
	// ErrNotFound: a session names its user by ID.
	UserByID(ctx context.Context, id int64) (User, error)
	// RecordLogin sets the user's LastLogin.
	RecordLogin(ctx context.Context, userID int64, at time.Time) error
	// TokenByPrefix returns the token with that prefix, or ErrNotFound.
	// It returns revoked and expired tokens too: the caller compares
	// the SHA-256 of the presented secret with Hash in constant time
	// (crypto/subtle) and then checks Usable. A lookup by the public
	// prefix, not by the hash, keeps the database's index out of the
	// secret's comparison.
	TokenByPrefix(ctx context.Context, prefix string) (Token, error)
	// TouchToken sets the token's LastUsed (the caller decides how
	// often: a write per request is not needed).
	TouchToken(ctx context.Context, id int64, at time.Time) error
	// CreateSession stores a session of a known user (ErrNotFound
	// otherwise); ErrConflict if the ID is taken.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// Session returns the session with that ID (the SHA-256 of the
	// cookie's secret), expired or not (the caller checks Expired and
	// its idle timeout), or ErrNotFound.
	Session(ctx context.Context, id []byte) (Session, error)
	// TouchSession sets the session's LastSeen and ExpiresAt (a sliding
	// expiry; the caller bounds it) and returns the session.
	TouchSession(ctx context.Context, id []byte, seen, expires time.Time) (Session, error)
	// DeleteSession deletes the session (a logout); deleting a session
	// that is not there is not an error.
	DeleteSession(ctx context.Context, id []byte) error
	// DeleteExpiredSessions deletes the sessions whose ExpiresAt is not
	// after now and returns how many it deleted.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// AuditLogStore keeps the record of every change made through the web or
// the API: who, what, when, from where.
type AuditLogStore interface {
	// AppendAuditLog appends an entry that is not part of a store write
	// (a login, a failed login, an export) and returns it with its ID.
	// A zero At means now.
	AppendAuditLog(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditLog returns the organisation's entries, newest first.
	AuditLog(ctx context.Context, p Page) ([]AuditEntry, error)
}

// RangeStore keeps an organisation's range audits (an ISP's or a CERT's
// audit of its own address space): the authorised scopes, their runs,
// and one record per audited address per run.
type RangeStore interface {
	// CreateRangeScope records an authorised scope (CreatedAt is now)
	// and returns it with its new ID.
	CreateRangeScope(ctx context.Context, sc RangeScope) (RangeScope, error)
	// RangeScope returns the scope, or ErrNotFound.
	RangeScope(ctx context.Context, id int64) (RangeScope, error)
	// RangeScopes returns the organisation's scopes, newest first.
	RangeScopes(ctx context.Context, p Page) ([]RangeScope, error)
	// StartRangeRun starts a run of a scope (ErrNotFound for an unknown
	// scope) at `at` (zero means now), in state RangeRunning.
	StartRangeRun(ctx context.Context, scopeID int64, at time.Time) (RangeRun, error)
	// FinishRangeRun ends a run in a final state at `at` (zero means
	// now) and returns it. Finishing a finished run changes nothing and
	// returns it as it is (a retried job finishes once).
	FinishRangeRun(ctx context.Context, id int64, state RangeState, at time.Time) (RangeRun, error)
	// RangeRun returns the run, or ErrNotFound.
	RangeRun(ctx context.Context, id int64) (RangeRun, error)
	// RangeRuns returns the runs of a scope, newest first; an unknown
	// scope has none.
	RangeRuns(ctx context.Context, scopeID int64, p Page) ([]RangeRun, error)
	// PutRangeRecords writes a batch of at most MaxItems records of one
	// run (ErrNotFound for an unknown run), in one transaction. A record
	// for an address the run already has replaces it, so that a retried
	// batch writes nothing twice.
	PutRangeRecords(ctx context.Context, runID int64, recs []RangeRecord) error
	// RangeRecords returns the run's records of the addresses in
	// `within` (all of them for the zero Prefix), ordered by address.
	RangeRecords(ctx context.Context, runID int64, within netip.Prefix, p Page) ([]RangeRecord, error)
	// RangeDone returns the addresses in `within` (all for the zero
	// Prefix) that the run has a record of, ordered: what a resumed run
	// skips.
	RangeDone(ctx context.Context, runID int64, within netip.Prefix) ([]netip.Addr, error)
	// RangeSummary returns one summary per Prefix the run's records
	// count under, ordered by prefix.
	RangeSummary(ctx context.Context, runID int64) ([]PrefixSummary, error)
	// ExportRangeRecords streams every record of the run, ordered by
	// address, without holding them all in memory. The sequence ends
	// after the first error, which it yields; stopping early is fine.
	// An unknown run yields ErrNotFound.
	ExportRangeRecords(ctx context.Context, runID int64) iter.Seq2[RangeRecord, error]
}
