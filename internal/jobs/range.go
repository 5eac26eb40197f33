// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/target"
)

// errNoRangeStore fails range jobs on a client built without a range
// store; the job is retried, by a worker that has one.
var errNoRangeStore = errors.New("jobs: this worker has no range store")

// permanent turns errors that no retry can fix (the run or scope is gone,
// the input is refused) into a cancelled job.
func permanent(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) || errors.Is(err, ErrInvalid) {
		return river.JobCancel(err)
	}
	return err
}

// rangeRunWorker fans a run out into its chunk jobs and the finish job.
type rangeRunWorker struct {
	river.WorkerDefaults[RangeRunArgs]
	c *Client
}

func (w *rangeRunWorker) Timeout(*river.Job[RangeRunArgs]) time.Duration { return 10 * time.Minute }

func (w *rangeRunWorker) Work(ctx context.Context, job *river.Job[RangeRunArgs]) error {
	rs := w.c.cfg.Range
	if rs == nil {
		return errNoRangeStore
	}
	a := job.Args
	plan, err := rs.RangeRunPlan(ctx, a.OrgID, a.RunID)
	if err != nil {
		return permanent(fmt.Errorf("range run %d: %w", a.RunID, err))
	}
	chunks, err := Chunks(plan.Prefixes)
	if err != nil {
		return permanent(fmt.Errorf("range run %d: %w", a.RunID, err))
	}
	if err := rs.SetRangeRunState(ctx, a.OrgID, a.RunID, RunRunning, time.Now()); err != nil {
		return permanent(fmt.Errorf("range run %d: %w", a.RunID, err))
	}
	// Unique by args: a retried fan-out inserts only the chunks it had
	// not inserted yet.
	tags := []string{runTag(a.RunID)}
	opts := &river.InsertOpts{Queue: QueueRange, Tags: tags, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	for i := 0; i < len(chunks); i += insertBatch {
		batch := chunks[i:min(i+insertBatch, len(chunks))]
		params := make([]river.InsertManyParams, len(batch))
		for j, ch := range batch {
			params[j] = river.InsertManyParams{Args: RangeChunkArgs{OrgID: a.OrgID, RunID: a.RunID, Chunk: ch}, InsertOpts: opts}
		}
		if _, err := w.c.river.InsertMany(ctx, params); err != nil {
			return w.c.dbError("inserting chunks", err)
		}
	}
	_, err = w.c.river.Insert(ctx, RangeFinishArgs(a), &river.InsertOpts{
		Tags: tags, UniqueOpts: river.UniqueOpts{ByArgs: true}, ScheduledAt: time.Now().Add(finishPoll)})
	if err != nil {
		return w.c.dbError("inserting the run's finish job", err)
	}
	return nil
}

// rangeChunkWorker audits one chunk.
type rangeChunkWorker struct {
	river.WorkerDefaults[RangeChunkArgs]
	c *Client
}

func (w *rangeChunkWorker) Timeout(*river.Job[RangeChunkArgs]) time.Duration {
	return w.c.cfg.ChunkTimeout
}

func (w *rangeChunkWorker) Work(ctx context.Context, job *river.Job[RangeChunkArgs]) error {
	rs := w.c.cfg.Range
	if rs == nil {
		return errNoRangeStore
	}
	a := job.Args
	plan, err := rs.RangeRunPlan(ctx, a.OrgID, a.RunID)
	if err != nil {
		return permanent(fmt.Errorf("range run %d: %w", a.RunID, err))
	}
	scope := target.NewScope(plan.Prefixes...)
	if !a.Chunk.IsValid() || !scope.ContainsRange(target.Range{First: a.Chunk.Masked().Addr(), Last: lastOf(a.Chunk)}) {
		// Never audit outside what the scope authorises, whatever the
		// job's arguments say.
		return river.JobCancel(fmt.Errorf("range run %d: chunk %s is outside the run's scope", a.RunID, a.Chunk))
	}
	done, err := rs.RangeDone(ctx, a.OrgID, a.RunID, a.Chunk)
	if err != nil {
		return permanent(fmt.Errorf("range run %d: %w", a.RunID, err))
	}
	todo := remaining(a.Chunk, done)
	if todo.IsEmpty() {
		return nil
	}
	rate := plan.PerPrefixRate
	if rate <= 0 || math.IsNaN(rate) {
		rate = DefaultPerPrefixRate
	}
	// The scan engine counts connections (and the sweep's packets): an
	// address takes about SocketsPerTarget of them.
	o := w.c.scanOptions(todo, scope, min(rate*scan.SocketsPerTarget, scan.MaxRate))
	// A failed write stops the scan: what it would measure next could
	// not be kept, and the retry measures it anyway.
	scanCtx, stopScan := context.WithCancel(ctx)
	defer stopScan()
	batch := make([]RangeRecord, 0, w.c.cfg.Batch)
	var writeErr error
	flush := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		if err := rs.PutRangeRecords(ctx, a.OrgID, a.RunID, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	o.Record = func(r *scan.Record) error {
		w.c.cfg.Metrics.audited("range", r)
		rr, err := rangeRecord(a.Chunk, r)
		if err != nil {
			return err
		}
		batch = append(batch, rr)
		if len(batch) >= w.c.cfg.Batch && writeErr == nil {
			if writeErr = flush(ctx); writeErr != nil {
				stopScan()
			}
		}
		return writeErr
	}
	_, runErr := scan.Run(scanCtx, o)
	if writeErr == nil {
		// What was measured is kept even when the job is stopping: the
		// next attempt skips it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		writeErr = flush(fctx)
		cancel()
	}
	switch {
	case writeErr != nil:
		return fmt.Errorf("range run %d chunk %s: writing records: %w", a.RunID, a.Chunk, writeErr)
	case runErr != nil && errors.Is(runErr, scan.ErrInvalid):
		return river.JobCancel(fmt.Errorf("range run %d chunk %s: %w", a.RunID, a.Chunk, runErr))
	case runErr != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The client is stopping: hand the job back at once, without
		// spending an attempt; the next worker continues the chunk.
		return river.JobSnooze(0)
	case runErr != nil:
		return fmt.Errorf("range run %d chunk %s: %w", a.RunID, a.Chunk, runErr)
	}
	return nil
}

// scanOptions are the scan engine's options for one job: the targets,
// the scope (never wider than what the job may contact), the rate, and
// the Internet side's verdicts.
func (c *Client) scanOptions(targets target.Set, scope target.Scope, rate float64) scan.Options {
	j := c.cfg.Judge
	j.Vantage = exposure.WAN
	if j.Noun == "" {
		j.Noun = "device"
	}
	// A chunk lies inside one /24 (or /120, inside one /64), so its
	// rate over all is the rate into its prefix: the sweep's packets and
	// the audits' connections together stay under it. Only live
	// addresses get records (the sweep finds them; a retried chunk sweeps
	// the silent ones again, which costs a packet per port). A silent
	// address is swept twice: an ISP's path loses packets, and one lost
	// SYN would leave a live router unaudited.
	return scan.Options{Targets: targets, Scope: scope, Ports: c.cfg.Ports, Judge: j,
		Workers: c.cfg.ScanWorkers, Rate: rate, PrefixRate: rate, Timeout: c.cfg.ScanTimeout,
		Sweep: c.cfg.Sweep, SweepRetries: 1, FailOn: finding.SeverityHigh, Logger: c.log}
}

// rangeRecord turns a scan record into a range record.
func rangeRecord(chunk netip.Prefix, r *scan.Record) (RangeRecord, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return RangeRecord{}, err
	}
	rr := RangeRecord{Prefix: chunk, Record: b, Live: r.Status == scan.StatusAnswered, Failing: r.Summary.Fail,
		WorstSeverity: r.WorstSeverity, Model: modelOf(r), At: r.StartedAt}
	if err := rr.Address.UnmarshalText([]byte(r.Target)); err != nil {
		return RangeRecord{}, fmt.Errorf("record of %q: %w", r.Target, err)
	}
	return rr, nil
}

// modelOf names the record's identified model ("MikroTik RB750Gr3"), or
// "".
func modelOf(r *scan.Record) string {
	id := r.Identity
	if id.Model == "" {
		return ""
	}
	s := id.Model
	if id.Vendor != "" {
		s = id.Vendor + " " + s
	}
	if id.HWRev != "" {
		s += " V" + id.HWRev
	}
	return s
}

// rangeFinishWorker marks a run finished once none of its chunks is left
// to work; until then it snoozes (which spends no attempt).
type rangeFinishWorker struct {
	river.WorkerDefaults[RangeFinishArgs]
	c *Client
}

// Timeout bounds one look (two job listings and the run's end). It is
// what lets River rescue a finish job whose worker died in it, or that a
// fetch timing out on the worker's side left running: River never
// rescues a job whose timeout is negative (the client's, without this),
// and the run would stay running, its unique finish job never inserted
// again.
func (w *rangeFinishWorker) Timeout(*river.Job[RangeFinishArgs]) time.Duration {
	return min(shortJobTimeout, w.c.cfg.ChunkTimeout)
}

func (w *rangeFinishWorker) Work(ctx context.Context, job *river.Job[RangeFinishArgs]) error {
	rs := w.c.cfg.Range
	if rs == nil {
		return errNoRangeStore
	}
	a := job.Args
	left, err := w.c.river.JobList(ctx, river.NewJobListParams().Kinds(KindRangeChunk).TagsAll(runTag(a.RunID)).
		States(rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled).First(1))
	if err != nil {
		return w.c.dbError("listing the run's chunks", err)
	}
	if len(left.Jobs) > 0 {
		return river.JobSnooze(finishPoll)
	}
	lost, err := w.c.river.JobList(ctx, river.NewJobListParams().Kinds(KindRangeChunk).TagsAll(runTag(a.RunID)).
		States(rivertype.JobStateDiscarded, rivertype.JobStateCancelled).First(1))
	if err != nil {
		return w.c.dbError("listing the run's chunks", err)
	}
	state := RunDone
	if len(lost.Jobs) > 0 {
		state = RunFailed
	}
	return permanent(rs.SetRangeRunState(ctx, a.OrgID, a.RunID, state, time.Now()))
}
