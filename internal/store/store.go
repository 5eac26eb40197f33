// SPDX-License-Identifier: Apache-2.0

// Package store is where routerwatch keeps what it has seen of the routers
// it watches: the devices, their configuration snapshots (normalized, and
// the raw pages with secrets already redacted), the baseline of each
// device, the results of audits, the changes found between snapshots and
// the state of alerts, so that `watch` alerts once per change of state
// and still knows after a restart what it already said.
//
// Store is the contract; sub-packages implement it (sqlite, the embedded
// default; PostgreSQL for the fleet later) and storetest is the suite
// every implementation must pass. The contract holds for all of them, so
// nothing here depends on one database's behaviour:
//
//   - Every write is one transaction: a reader sees all of it or none of
//     it, and a write that returns an error has changed nothing.
//   - Errors are classified with errors.Is: ErrNotFound (an unknown ID, or
//     an ID that belongs to another device), ErrInvalid (bad input; the
//     message names the field, never its value), ErrClosed (after Close),
//     ErrSchemaTooNew (the database was written by a newer routerwatch),
//     and the context's own error when ctx is done.
//   - Times are kept in UTC to the microsecond (what PostgreSQL's
//     timestamptz holds); what a method returns is what a later read
//     returns (see Timestamp).
//   - Identifiers (device IDs, sites, kinds, alert keys, adapters) must be
//     valid UTF-8 without control characters and at most MaxIDLen bytes;
//     they are refused otherwise. Free text (labels, titles, words, artifact
//     names) is kept with invalid UTF-8 and NUL replaced by U+FFFD, since
//     it often comes from a device and refusing it would lose the record.
//   - Bytes (artifact bodies, audit reports) come back byte for byte.
//   - Lists are newest first (by the record's own time, then by ID, which
//     grows with every insert) and paged with Page.
//   - A store never logs and never puts a stored value in an error: the
//     snapshots are redacted by the adapters, but the history of a
//     router's configuration is still the owner's business.
//   - A Store is safe for concurrent use by many goroutines. Close may be
//     called more than once; every other call after it returns ErrClosed.
package store

import (
	"context"
	"errors"
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
)

// Store is everything routerwatch keeps. The parts are separate
// interfaces so that a consumer can ask for only what it uses.
type Store interface {
	DeviceStore
	SnapshotStore
	BaselineStore
	AuditStore
	ChangeStore
	AlertStore
	StateStore
	// Close releases the store. Methods called after it return
	// ErrClosed. Closing twice is not an error.
	Close() error
}

// DeviceStore keeps the routers being watched.
type DeviceStore interface {
	// PutDevice creates the device or replaces its fields (CreatedAt is
	// kept). It returns the device as stored.
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
	// deviceID means every device's.
	PendingAlerts(ctx context.Context, deviceID string) ([]Alert, error)
	// MarkNotified records that the alert's given state was notified at
	// `at`. ErrNotFound for an unknown alert.
	MarkNotified(ctx context.Context, alertID int64, state AlertState, at time.Time) error
	// Alerts returns alerts matching f, newest first (by FirstSeen).
	Alerts(ctx context.Context, f AlertFilter, p Page) ([]Alert, error)
}
