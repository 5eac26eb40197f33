// SPDX-License-Identifier: Apache-2.0

package store

import (
	"encoding/json"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// Device is a router the user watches.
type Device struct {
	// ID is the stable key the user or the CLI chose ("home-router",
	// "192.0.2.1").
	ID string `json:"id"`
	// Site is the ID of the organisation's site the device is at, or ""
	// for none (a single site's devices). A device belongs to the
	// organisation of the Tenant that stored it, which is its site's.
	Site string `json:"site,omitempty"`
	// Address is how the router is reached: an address or a host name.
	Address string `json:"address,omitempty"`
	// Adapter names the adapter that reads it ("tplink-legacy").
	Adapter string `json:"adapter,omitempty"`
	// Label is free text for people.
	Label     string    `json:"label,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Page selects part of a list: at most Limit records after skipping
// Offset. A Limit of zero or less means DefaultLimit; more than MaxLimit
// means MaxLimit. A negative Offset is invalid.
type Page struct {
	Limit  int
	Offset int
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// SnapshotMeta is what a history lists about a snapshot.
type SnapshotMeta struct {
	ID       int64      `json:"id"`
	DeviceID string     `json:"device_id"`
	Adapter  string     `json:"adapter"`
	Target   netip.Addr `json:"target,omitzero"`
	TakenAt  time.Time  `json:"taken_at"`
	// StoredAt is when the store wrote it.
	StoredAt time.Time `json:"stored_at"`
	// ConfigHash is ConfigHash of the normalized configuration: two
	// snapshots with the same hash read the same settings.
	ConfigHash string `json:"config_hash"`
	// Artifacts counts the raw artifacts and RawBytes their bodies'
	// total size.
	Artifacts int   `json:"artifacts"`
	RawBytes  int64 `json:"raw_bytes"`
	// Warnings counts the snapshot's warnings.
	Warnings int `json:"warnings"`
}

// StoredSnapshot is one snapshot as stored: its metadata and the
// snapshot itself.
type StoredSnapshot struct {
	Meta     SnapshotMeta
	Snapshot device.Snapshot
}

// Baseline marks the snapshot a device is compared with.
type Baseline struct {
	ID         int64     `json:"id"`
	DeviceID   string    `json:"device_id"`
	SnapshotID int64     `json:"snapshot_id"`
	SetAt      time.Time `json:"set_at"`
	// Note says why, in the user's words.
	Note string `json:"note,omitempty"`
}

// Audit kinds.
const (
	AuditDNS    = "dns"
	AuditCheck  = "check"
	AuditConfig = "config"
)

// Audit is the result of one audit run.
type Audit struct {
	ID int64 `json:"id"`
	// DeviceID is the device audited, or "" for an audit not tied to a
	// watched device.
	DeviceID string `json:"device_id,omitempty"`
	// Kind is AuditDNS, AuditCheck, AuditConfig or another identifier.
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Verdict is the audit's one-word outcome ("clean", "hijacked").
	Verdict string `json:"verdict"`
	// Headline is the one line a person reads first.
	Headline string `json:"headline,omitempty"`
	// Failing counts the failing findings.
	Failing int `json:"failing"`
	// Report is the full report as JSON (or empty), kept byte for byte.
	Report json.RawMessage `json:"report,omitempty"`
}

// AuditFilter selects audits; empty fields match everything.
type AuditFilter struct {
	DeviceID string
	Kind     string
}

// Change is one change between two snapshots as judged by the policy.
type Change struct {
	device.Change
	Severity finding.Severity `json:"severity"`
	// Words is the sentence a person reads, with the policy's judgement
	// ("DHCP DNS primary changed from 192.168.0.1 to 203.0.113.7 — not
	// in your allowed resolvers").
	Words string `json:"words"`
}

// ChangeEvent is what changed between two snapshots of a device.
type ChangeEvent struct {
	ID           int64     `json:"id"`
	DeviceID     string    `json:"device_id"`
	FromSnapshot int64     `json:"from_snapshot"`
	ToSnapshot   int64     `json:"to_snapshot"`
	At           time.Time `json:"at"`
	Changes      []Change  `json:"changes"`
}

// AlertState is the state of an alert.
type AlertState string

// Alert states.
const (
	AlertOpen     AlertState = "open"
	AlertResolved AlertState = "resolved"
)

// Problem is one thing a run found wrong.
type Problem struct {
	// Key identifies the problem on its device within its kind, the same
	// from run to run ("dhcp-dns-not-allowed", a finding ID).
	Key      string           `json:"key"`
	Title    string           `json:"title"`
	Severity finding.Severity `json:"severity"`
	Detail   string           `json:"detail,omitempty"`
}

// Alert is a problem of a device from when it was first seen until it
// was resolved.
type Alert struct {
	ID       int64  `json:"id"`
	DeviceID string `json:"device_id"`
	Kind     string `json:"kind"`
	Problem
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// ResolvedAt is zero while the alert is open.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Notified is the last state notified ("" if none) and LastNotified
	// when.
	Notified     AlertState `json:"notified,omitempty"`
	LastNotified time.Time  `json:"last_notified,omitzero"`
	// AckedBy names who acknowledged the alert and AckedAt when; both
	// are zero until someone does.
	AckedBy string    `json:"acked_by,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
	// SuppressedUntil, while in the future, keeps the alert from being
	// pending for notification.
	SuppressedUntil time.Time `json:"suppressed_until,omitzero"`
}

// State returns whether the alert is open or resolved.
func (a Alert) State() AlertState {
	if a.ResolvedAt.IsZero() {
		return AlertOpen
	}
	return AlertResolved
}

// Pending reports whether the alert's state has not been notified. It
// does not look at suppression, which depends on the time: see
// Suppressed.
func (a Alert) Pending() bool { return a.Notified != a.State() }

// Suppressed reports whether the alert is suppressed at now.
func (a Alert) Suppressed(now time.Time) bool { return now.Before(a.SuppressedUntil) }

// Reconciliation is what ReconcileAlerts did, each list ordered by key.
type Reconciliation struct {
	// Opened are the new alerts.
	Opened []Alert
	// Changed are open alerts whose title, severity or detail changed.
	Changed []Alert
	// Resolved are the alerts resolved by this run.
	Resolved []Alert
	// Open are all alerts of the kind open after this run (Opened and
	// Changed included).
	Open []Alert
}

// AlertFilter selects alerts; empty fields match everything.
type AlertFilter struct {
	DeviceID string
	Kind     string
	State    AlertState
}
