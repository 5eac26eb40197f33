// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/store"
)

// Defaults and bounds.
const (
	// DefaultWorkers is how many jobs of each queue one process works at
	// once: a chunk audits up to scan.DefaultWorkers addresses at once
	// itself, so a few chunks keep a process busy.
	DefaultWorkers = 4
	// MaxWorkers bounds Config.Workers.
	MaxWorkers = 256
	// DefaultPerPrefixRate is the addresses audited per second in one
	// /24 when a scope sets none: an address takes about
	// scan.SocketsPerTarget connections, so about 100 new connections a
	// second into the prefix.
	DefaultPerPrefixRate = 6
	// MaxRangeAddresses bounds one run: a /8 of IPv4 (65,536 chunks).
	MaxRangeAddresses = 1 << 24
	// DefaultBatch is how many records a chunk writes per transaction.
	DefaultBatch = 32
	// ChunkTimeout bounds one chunk job: 256 silent addresses at the
	// scan engine's per-target deadline, 64 at once, take about a minute;
	// a slow per-prefix rate (1 connection a second) takes about 70
	// minutes. A chunk cut here keeps its records and goes on at its
	// next attempt.
	ChunkTimeout = 90 * time.Minute
	// WANCheckTimeout bounds one WAN check (one address), or the chunk
	// timeout when that is shorter.
	WANCheckTimeout = 2 * time.Minute
	// DefaultScheduleEvery is how often the WAN schedule looks for due
	// sites.
	DefaultScheduleEvery = time.Minute
	// DefaultRetention is how long finished jobs are kept.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultPruneEvery is how often finished jobs are pruned.
	DefaultPruneEvery = time.Hour
	// shortJobTimeout bounds the jobs that only read and write the
	// database (a run's finish, the WAN schedule, the prune), so that River
	// rescues one whose worker died (see rangeFinishWorker.Timeout).
	shortJobTimeout = 10 * time.Minute
	// finishPoll is how often a run's finish job looks again.
	finishPoll = 5 * time.Second
	// insertBatch bounds one InsertMany of a run's fan-out.
	insertBatch = 1000
)

// ErrSchemaTooNew is returned by Open for a database whose River schema
// is newer than this binary knows (it matches store.ErrSchemaTooNew).
var ErrSchemaTooNew = store.ErrSchemaTooNew

// ErrInvalid marks a bad Config or bad enqueue arguments.
var ErrInvalid = errors.New("invalid jobs input")

// ErrUnavailable marks a database that could not be reached.
var ErrUnavailable = errors.New("the job database could not be reached")

// Config configures a Client.
type Config struct {
	// DSN names the job database: a postgres:// URL, or the SQLite file
	// of River's tables (JobsFile of the store's file).
	DSN string
	// Workers is how many jobs of each queue in Queues this process works
	// at once; 0 makes an insert-only client (the web server's, when
	// workers run elsewhere).
	Workers int
	// Queues are the queues to work; nil means all (Queues()).
	Queues []string
	// Range and WAN are the store sides of the jobs; a nil one makes its
	// jobs fail (they stay in the queue for a worker that has it).
	Range RangeStore
	WAN   WANStore
	// Judge configures the verdicts (Index is required for a client that
	// works jobs). Vantage is set per job: range audits and WAN checks
	// judge from the Internet's side.
	Judge audit.Options
	// Ports moves the device probes' ports (tests).
	Ports audit.Ports
	// ScanWorkers bounds the addresses one job measures at once (0: the
	// scan engine's default); ScanTimeout is the per-address deadline.
	ScanWorkers int
	ScanTimeout time.Duration
	// Sweep is the scan engine's sweep mode ("" is auto: SYN as root,
	// connect otherwise, for chunks of more than scan.SweepAutoMin).
	Sweep scan.SweepMode
	// Batch is how many records a chunk writes per transaction.
	Batch int
	// Periodic runs the periodic jobs (WAN schedule, prune) when this
	// client is River's leader.
	Periodic bool
	// ScheduleEvery, Retention and PruneEvery override the defaults.
	ScheduleEvery, Retention, PruneEvery time.Duration
	// ChunkTimeout overrides the ChunkTimeout constant: a chunk running
	// longer is cut (it keeps its records and goes on at its next
	// attempt).
	ChunkTimeout time.Duration
	// RescueAfter is how long a job may run before River takes it for
	// stuck and retries it (its worker died); it must be longer than the
	// chunk timeout, since River rescues a job only once its own timeout
	// has passed. 0 means the chunk timeout plus ten minutes.
	RescueAfter time.Duration
	// FetchPoll overrides River's fetch poll interval (tests; the
	// SQLite backend polls, having no LISTEN/NOTIFY).
	FetchPoll time.Duration
	// Metrics receives the counters; nil means none.
	Metrics *Metrics
	// Logger receives River's and the jobs' lines; nil discards them.
	Logger *slog.Logger
}

// riverClient is the part of river.Client both backends' clients share
// (river.Client[pgx.Tx] and river.Client[*sql.Tx] differ only in their
// transaction type, which this package never uses).
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobDeleteMany(ctx context.Context, params *river.JobDeleteManyParams) (*river.JobDeleteManyResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// Client enqueues and works routerwatch's jobs.
type Client struct {
	cfg     Config
	backend string
	river   riverClient
	db      database
	log     *slog.Logger
	started bool
	unsub   func()
	events  chan struct{}
}

// Open connects to the job database, brings River's schema up to date
// (refusing a newer one with ErrSchemaTooNew) and returns a client that
// is not started. A database that cannot be reached is ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.defaults()
	c := &Client{cfg: cfg, backend: Backend(cfg.DSN), log: cfg.Logger}
	rc := c.riverConfig()
	var err error
	switch c.backend {
	case BackendPostgres:
		c.river, c.db, err = openPostgres(ctx, cfg.DSN, rc, cfg.Logger)
	default:
		c.river, c.db, err = openSQLite(ctx, SQLitePath(cfg.DSN), rc, cfg.Logger)
	}
	if err != nil {
		return nil, redactError(err, dsnPassword(cfg.DSN))
	}
	return c, nil
}

func (cfg *Config) check() error {
	switch {
	case cfg.DSN == "":
		return fmt.Errorf("%w: no job database given", ErrInvalid)
	case cfg.Workers < 0 || cfg.Workers > MaxWorkers:
		return fmt.Errorf("%w: workers must be between 0 and %d", ErrInvalid, MaxWorkers)
	case cfg.Workers > 0 && cfg.Judge.Index == nil:
		return fmt.Errorf("%w: a working client needs the advisory index", ErrInvalid)
	case cfg.Batch < 0:
		return fmt.Errorf("%w: batch must not be negative", ErrInvalid)
	case cfg.ChunkTimeout < 0 || cfg.RescueAfter < 0:
		return fmt.Errorf("%w: timeouts must not be negative", ErrInvalid)
	case cfg.RescueAfter > 0 && cfg.RescueAfter <= cmp.Or(cfg.ChunkTimeout, ChunkTimeout):
		return fmt.Errorf("%w: the rescue delay must be longer than the chunk timeout", ErrInvalid)
	}
	for _, q := range cfg.Queues {
		if q != QueueDefault && q != QueueRange {
			return fmt.Errorf("%w: unknown queue %q (queues: %s, %s)", ErrInvalid, q, QueueDefault, QueueRange)
		}
	}
	if err := cfg.Ports.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

func (cfg *Config) defaults() {
	if cfg.Queues == nil {
		cfg.Queues = Queues()
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.ScheduleEvery == 0 {
		cfg.ScheduleEvery = DefaultScheduleEvery
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PruneEvery == 0 {
		cfg.PruneEvery = DefaultPruneEvery
	}
	if cfg.ChunkTimeout == 0 {
		cfg.ChunkTimeout = ChunkTimeout
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = cfg.ChunkTimeout + 10*time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// riverConfig builds River's configuration: the workers, the queues this
// process works, the periodic jobs.
func (c *Client) riverConfig() *river.Config {
	cfg := c.cfg
	rc := &river.Config{
		Logger:               cfg.Logger,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// Each worker bounds its own jobs (Timeout); River's default of
		// a minute would cut chunks, and a client-wide bound would have
		// to stay below RescueStuckJobsAfter.
		JobTimeout: -1,
		// Finished jobs are pruned by the prune job on its schedule and
		// retention; River's own cleaner would do the same with
		// different settings.
		CompletedJobRetentionPeriod: -1,
		CancelledJobRetentionPeriod: -1,
		DiscardedJobRetentionPeriod: -1,
		MaxAttempts:                 10,
		// Jobs are inserted by clients that may not work them (the web
		// server's insert-only client).
		SkipUnknownJobCheck: true,
	}
	if cfg.FetchPoll > 0 {
		rc.FetchPollInterval = cfg.FetchPoll
		rc.FetchCooldown = min(cfg.FetchPoll, 100*time.Millisecond)
	}
	if cfg.Workers == 0 {
		return rc
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &rangeRunWorker{c: c})
	river.AddWorker(ws, &rangeChunkWorker{c: c})
	river.AddWorker(ws, &rangeFinishWorker{c: c})
	river.AddWorker(ws, &wanCheckWorker{c: c})
	river.AddWorker(ws, &wanScheduleWorker{c: c})
	river.AddWorker(ws, &pruneWorker{c: c})
	rc.Workers = ws
	rc.Queues = map[string]river.QueueConfig{}
	for _, q := range cfg.Queues {
		rc.Queues[q] = river.QueueConfig{MaxWorkers: cfg.Workers}
	}
	if cfg.Periodic {
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.ScheduleEvery),
				func() (river.JobArgs, *river.InsertOpts) { return WANScheduleArgs{}, nil },
				&river.PeriodicJobOpts{ID: KindWANSchedule, RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.PruneEvery),
				func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil },
				&river.PeriodicJobOpts{ID: KindPrune, RunOnStart: true}),
		}
	}
	return rc
}

// Backend returns BackendPostgres or BackendSQLite.
func (c *Client) Backend() string { return c.backend }

// Start starts working jobs (a client with Workers 0 only inserts, and
// Start does nothing for it). Jobs stop being fetched when ctx ends;
// call Stop to wait for the running ones.
func (c *Client) Start(ctx context.Context) error {
	if c.cfg.Workers == 0 {
		return nil
	}
	if c.cfg.Metrics != nil {
		c.subscribe()
	}
	if err := c.river.Start(ctx); err != nil {
		return redactError(err, dsnPassword(c.cfg.DSN))
	}
	c.started = true
	return nil
}

// Stop stops working: running jobs may finish until ctx ends, then their
// contexts are cancelled and they release their jobs (a chunk keeps what
// it measured). It then closes the database.
func (c *Client) Stop(ctx context.Context) error {
	var err error
	if c.started {
		err = c.river.Stop(ctx)
		if ctx.Err() != nil {
			// Soft stop ran out: cancel the jobs and wait for them to
			// hand their jobs back (bounded: a job's context is done).
			hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			err = c.river.StopAndCancel(hard)
			cancel()
		}
		c.started = false
	}
	if c.unsub != nil {
		c.unsub()
		<-c.events
		c.unsub = nil
	}
	c.db.close()
	return err
}

// Close closes a client that was never started (an insert-only one).
func (c *Client) Close() error { return c.Stop(context.Background()) }

// EnqueueRangeRun enqueues the fan-out of a range run; enqueueing the
// same run twice enqueues it once (while its job is kept).
func (c *Client) EnqueueRangeRun(ctx context.Context, orgID string, runID int64) (int64, error) {
	if runID <= 0 {
		return 0, fmt.Errorf("%w: run ID must be positive", ErrInvalid)
	}
	res, err := c.river.Insert(ctx, RangeRunArgs{OrgID: orgID, RunID: runID}, &river.InsertOpts{
		Tags: []string{runTag(runID)}, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return 0, c.dbError("enqueueing range run", err)
	}
	return res.Job.ID, nil
}

// EnqueueWANCheck enqueues a WAN check of a site's public address now.
func (c *Client) EnqueueWANCheck(ctx context.Context, orgID, siteID string, addr netip.Addr) (int64, error) {
	if !addr.IsValid() || siteID == "" {
		return 0, fmt.Errorf("%w: a WAN check needs a site and its public address", ErrInvalid)
	}
	res, err := c.river.Insert(ctx, WANCheckArgs{OrgID: orgID, SiteID: siteID, Addr: addr.Unmap()}, nil)
	if err != nil {
		return 0, c.dbError("enqueueing WAN check", err)
	}
	return res.Job.ID, nil
}

// Job returns one job's row (its state, attempts and errors).
func (c *Client) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	j, err := c.river.JobGet(ctx, id)
	if err != nil {
		return nil, c.dbError("reading job", err)
	}
	return j, nil
}

// RunChunks returns a range run's chunk jobs (those River still keeps:
// finished ones until they are pruned).
func (c *Client) RunChunks(ctx context.Context, runID int64) ([]*rivertype.JobRow, error) {
	const page = 1000
	var out []*rivertype.JobRow
	params := river.NewJobListParams().Kinds(KindRangeChunk).TagsAll(runTag(runID)).First(page)
	for {
		res, err := c.river.JobList(ctx, params)
		if err != nil {
			return nil, c.dbError("listing the run's chunks", err)
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < page || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// RunProgress counts a range run's chunk jobs by state.
func (c *Client) RunProgress(ctx context.Context, runID int64) (map[rivertype.JobState]int, error) {
	js, err := c.RunChunks(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := map[rivertype.JobState]int{}
	for _, j := range js {
		out[j.State]++
	}
	return out, nil
}

// dbError wraps a database error: its text without the DSN's password,
// ErrUnavailable when the database could not be reached.
func (c *Client) dbError(what string, err error) error {
	err = redactError(err, dsnPassword(c.cfg.DSN))
	if c.db.unreachable(err) {
		return fmt.Errorf("jobs: %s: %w: %w", what, ErrUnavailable, err)
	}
	return fmt.Errorf("jobs: %s: %w", what, err)
}
