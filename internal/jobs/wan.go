// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/riverqueue/river"

	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/target"
)

// AuditWAN is the kind of the audits the WAN checks store.
const AuditWAN = "wan"

// WAN check verdicts.
const (
	WANFailing  = "failing"   // a finding fails at high or above (exposed management, open resolver, …)
	WANClean    = "clean"     // the address answered and nothing failed at high or above
	WANNoAnswer = "no_answer" // nothing answered from the Internet's side
)

// wanRate bounds one WAN check's connections per second: one address,
// so the scan engine's default pacing is already gentle.
const wanRate = scan.DefaultRate

var errNoWANStore = errors.New("jobs: this worker has no WAN store")

// wanCheckWorker audits one site's public address from the server.
type wanCheckWorker struct {
	river.WorkerDefaults[WANCheckArgs]
	c *Client
}

func (w *wanCheckWorker) Timeout(*river.Job[WANCheckArgs]) time.Duration {
	return min(WANCheckTimeout, w.c.cfg.ChunkTimeout)
}

func (w *wanCheckWorker) Work(ctx context.Context, job *river.Job[WANCheckArgs]) error {
	ws := w.c.cfg.WAN
	if ws == nil {
		return errNoWANStore
	}
	a := job.Args
	if !a.Addr.IsValid() {
		return river.JobCancel(fmt.Errorf("%w: WAN check of site %q without an address", ErrInvalid, a.SiteID))
	}
	addr := a.Addr.Unmap()
	// The scope is the one address: nothing else can be contacted.
	o := w.c.scanOptions(target.NewSet(target.Range{First: addr, Last: addr}),
		target.NewScope(netip.PrefixFrom(addr, addr.BitLen())), wanRate)
	var rec *scan.Record
	o.Record = func(r *scan.Record) error {
		rec = r
		return nil
	}
	if _, err := scan.Run(ctx, o); err != nil {
		return fmt.Errorf("WAN check of site %q: %w", a.SiteID, err)
	}
	if rec == nil {
		return fmt.Errorf("WAN check of site %q: no record", a.SiteID)
	}
	w.c.cfg.Metrics.audited("wan", rec)
	report, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	au := store.Audit{Kind: AuditWAN, At: rec.StartedAt, Verdict: wanVerdict(rec), Headline: rec.Headline,
		Failing: rec.Summary.Fail, Report: report}
	// The job's ID keys the audit: a retry after a crash between the
	// write and the job's completion stores nothing more.
	if err := ws.PutWANAudit(ctx, a.OrgID, a.SiteID, fmt.Sprintf("wan_check:%d", job.ID), au); err != nil {
		return permanent(fmt.Errorf("WAN check of site %q: %w", a.SiteID, err))
	}
	return nil
}

func wanVerdict(r *scan.Record) string {
	switch {
	case r.WorstSeverity == "high" || r.WorstSeverity == "critical":
		return WANFailing
	case r.Status != scan.StatusAnswered:
		return WANNoAnswer
	}
	return WANClean
}

// wanScheduleWorker enqueues the WAN checks that are due: each site is
// checked once per period of its schedule, at an offset inside the period
// drawn from its ID (so that a thousand sites on the same schedule do
// not start in the same second). Unique by site and period: the schedule
// running again in the same period inserts nothing.
type wanScheduleWorker struct {
	river.WorkerDefaults[WANScheduleArgs]
	c *Client
}

// Timeout lets River rescue a schedule whose worker died in it (see
// rangeFinishWorker.Timeout).
func (w *wanScheduleWorker) Timeout(*river.Job[WANScheduleArgs]) time.Duration {
	return shortJobTimeout
}

func (w *wanScheduleWorker) Work(ctx context.Context, _ *river.Job[WANScheduleArgs]) error {
	_, err := w.c.ScheduleWANChecks(ctx, time.Now())
	return err
}

// ScheduleWANChecks enqueues the WAN checks due in the schedule period
// that holds now, each at its site's slot; a check already enqueued for
// its period is not enqueued again. It returns how many it enqueued.
func (c *Client) ScheduleWANChecks(ctx context.Context, now time.Time) (int, error) {
	ws := c.cfg.WAN
	if ws == nil {
		return 0, nil // no sites to check from this deployment
	}
	n := 0
	var batch []river.InsertManyParams
	insert := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := c.river.InsertMany(ctx, batch)
		batch = batch[:0]
		if err != nil {
			return c.dbError("enqueueing WAN checks", err)
		}
		for _, r := range res {
			if !r.UniqueSkippedAsDuplicate {
				n++
			}
		}
		return nil
	}
	err := ws.WANSites(ctx, func(s WANSite) error {
		if s.Every < time.Minute || !s.Addr.IsValid() {
			return nil
		}
		batch = append(batch, river.InsertManyParams{
			Args:       WANCheckArgs{OrgID: s.OrgID, SiteID: s.SiteID, Addr: s.Addr.Unmap()},
			InsertOpts: &river.InsertOpts{ScheduledAt: slot(now, s), UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: s.Every}}})
		if len(batch) >= insertBatch {
			return insert()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, insert()
}

// slot is the time of site s's check in the period that holds now: the
// period's start (UTC multiples of s.Every, as River's ByPeriod counts
// them) plus an offset from the site's ID. A slot already past runs now.
func slot(now time.Time, s WANSite) time.Time {
	start := now.UTC().Truncate(s.Every)
	h := fnv.New64a()
	h.Write([]byte(s.OrgID + "\x00" + s.SiteID))
	at := start.Add(time.Duration(h.Sum64() % uint64(s.Every)))
	if at.Before(now) {
		return now
	}
	return at
}
