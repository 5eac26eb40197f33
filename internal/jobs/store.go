// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// RangeStore is what range jobs read and write. Every method takes the
// organisation: a run of another organisation is store.ErrNotFound.
type RangeStore interface {
	// RangeRunPlan returns what the run may audit.
	RangeRunPlan(ctx context.Context, orgID string, runID int64) (RunPlan, error)
	// RangeDone returns the addresses inside prefix already recorded for
	// the run.
	RangeDone(ctx context.Context, orgID string, runID int64, prefix netip.Prefix) ([]netip.Addr, error)
	// PutRangeRecords writes records of the run in one transaction. An
	// address already recorded for the run is left as it was, so a batch
	// written twice (a retried job) is written once.
	PutRangeRecords(ctx context.Context, orgID string, runID int64, recs []RangeRecord) error
	// SetRangeRunState records the run's state: RunRunning when its
	// fan-out starts (at is the start; a second call keeps the first
	// start), RunDone or RunFailed when every chunk has ended (at is the
	// end).
	SetRangeRunState(ctx context.Context, orgID string, runID int64, state string, at time.Time) error
}

// Range run states.
const (
	RunQueued  = "queued"
	RunRunning = "running"
	// RunDone: every chunk finished.
	RunDone = "done"
	// RunFailed: some chunk was given up (its attempts ran out or it was
	// cancelled); the records of the others are kept.
	RunFailed = "failed"
)

// RunPlan is what a range run may audit: its scope's authorised prefixes
// and the rate into each prefix.
type RunPlan struct {
	Prefixes []netip.Prefix
	// PerPrefixRate bounds the addresses audited per second in one /24
	// (or /120), as the store's scope says; 0 means DefaultPerPrefixRate.
	PerPrefixRate float64
}

// RangeRecord is one audited address of a run.
type RangeRecord struct {
	Address netip.Addr
	// Prefix is the chunk the address was audited in (its /24 or /120,
	// or the scope's prefix when smaller).
	Prefix netip.Prefix
	// Record is the scan engine's record (scan.Record) as JSON.
	Record json.RawMessage
	// Live is true when the address answered on some port.
	Live bool
	// Failing counts the record's failing findings.
	Failing int
	// WorstSeverity is the worst failing finding's severity, or "".
	WorstSeverity string
	// Model names the identified device ("MikroTik RB750Gr3"), or "".
	Model string
	// At is when the address was audited.
	At time.Time
}

// WANSite is a site whose public address the server checks from outside.
type WANSite struct {
	OrgID, SiteID string
	Addr          netip.Addr
	// Every is the site's schedule; 0 means the site is not checked.
	Every time.Duration
}

// WANStore is what the WAN checks read and write.
type WANStore interface {
	// WANSites calls each for every site with a public address and a
	// schedule, in any order, stopping at the first error.
	WANSites(ctx context.Context, each func(WANSite) error) error
	// PutWANAudit stores the audit of a site's public address. key is
	// unique per check: a second call with the same key stores nothing
	// (a retried job).
	PutWANAudit(ctx context.Context, orgID, siteID, key string, a store.Audit) error
}
