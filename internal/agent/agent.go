// SPDX-License-Identifier: Apache-2.0

// Package agent is `routerwatch agent`: it runs at a site, asks the
// server what to audit (the site's schedule: the DNS audit, router
// checks, config pulls, and how often), runs the same engines as the
// `dns`, `check` and `config pull` commands, and reports each result to
// the server, in order, once (the protocol: internal/agentapi).
//
// The contract:
//
//   - Every result is written to a durable outbox in the state directory
//     (one fsync'd file per result, mode 0600 in a 0700 directory) with
//     its sequence number before it is sent, and forgotten only when the
//     server has acknowledged it. A restart resumes from the outbox.
//   - Results are sent oldest first, in batches of consecutive results;
//     never out of order. A duplicate the server already has is acked
//     again without being stored twice; when the server needs an older
//     result (409), the agent resends from there.
//   - When the server cannot be reached, or answers 5xx or 429, sending
//     is retried with capped exponential back-off and jitter (the
//     server's Retry-After first), and the schedule keeps running: the
//     results queue. The outbox is bounded (DefaultMaxResults,
//     DefaultMaxBytes): past a cap the oldest results are given up first,
//     folded into one "dropped" record that tells the server how many
//     were lost, and logged.
//   - A 401, 403 or 404 (a revoked token, a token of no site, a wrong
//     URL) stops the agent with ErrRefused; another 4xx (a result the
//     server will never take) stops it with ErrRejected, the result kept.
//     Running on would only fill the outbox.
//   - Router logins never leave the agent: the schedule names routers,
//     and the agent finds their logins in its own credentials. The token
//     is sent in the Authorization header only, and is never logged.
//
// The agent talks to the server with its own HTTP client (it is listed in
// cmd/routerwatch's bypass test): the server is an endpoint the user
// named, not a device being probed; the audits themselves reach the
// network only through the engines and internal/netx.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
)

// Defaults.
const (
	// DefaultMinRetry is the first wait after a failed send, and
	// DefaultMaxRetry the longest: an outage of hours is retried every
	// few minutes, and a server coming back is not hit by every agent at
	// once.
	DefaultMinRetry = 2 * time.Second
	DefaultMaxRetry = 5 * time.Minute
	// DefaultJitter spreads the tasks' runs by ±10% of their interval,
	// so that a fleet's agents do not audit (and report) in step.
	DefaultJitter = 0.1
	// DefaultOnceDeliver bounds how long --once keeps trying to deliver.
	DefaultOnceDeliver = 2 * time.Minute
	// defaultRefresh is how often the schedule is asked for at least.
	defaultRefresh = 15 * time.Minute
)

// Errors Run returns besides the context's.
var (
	// ErrUndelivered: with Once, results are still queued when the run
	// ends (the server was unreachable); the next run sends them.
	ErrUndelivered = errors.New("results are still queued: the server could not be reached")
	// ErrNoSchedule: with Once, no schedule could be fetched and none
	// was kept from an earlier run.
	ErrNoSchedule = errors.New("no schedule: the server could not be reached")
)

// SetupError is a problem with the agent's options or its state
// directory, found before anything runs (exit 2 in the CLI).
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SetupError) Unwrap() error { return e.Err }

// Options configure an agent.
type Options struct {
	Server ServerOptions
	// StateDir holds the agent's ID, the last schedule and the outbox.
	// Required.
	StateDir string
	// Engines run the audits. Required.
	Engines Engines
	// Once runs every task of the schedule once, delivers, and returns
	// (ErrUndelivered when results are left).
	Once bool
	// OnceDeliver bounds the delivery with Once; 0 means
	// DefaultOnceDeliver.
	OnceDeliver time.Duration
	// MaxResults and MaxBytes cap the outbox; 0 means the defaults.
	MaxResults int
	MaxBytes   int64
	// MinRetry and MaxRetry bound the back-off; 0 means the defaults.
	MinRetry, MaxRetry time.Duration
	// Jitter is the fraction the tasks' intervals are spread by: 0 means
	// DefaultJitter, a negative value none.
	Jitter float64
	Logger *slog.Logger
	// Now, Sleep and Rand are the clock and the dice; nil means the real
	// ones (tests inject their own).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

// Agent is a running agent.
type Agent struct {
	o      Options
	log    *slog.Logger
	box    *outbox
	client *client

	sched     *agentapi.Schedule
	refreshAt time.Time
	nextDue   map[agentapi.Kind]time.Time
	// failures counts consecutive failed sends; retryAt is when the next
	// may go.
	failures int
	retryAt  time.Time
	// schedFailures counts consecutive failed schedule fetches.
	schedFailures int
}

// New checks o, opens the state directory and returns an agent.
func New(o Options) (*Agent, error) {
	if o.StateDir == "" {
		return nil, &SetupError{errors.New("agent: a state directory is required")}
	}
	if o.Engines == nil {
		return nil, &SetupError{errors.New("agent: no engines")}
	}
	if o.MinRetry <= 0 {
		o.MinRetry = DefaultMinRetry
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = DefaultMaxRetry
	}
	o.MaxRetry = max(o.MaxRetry, o.MinRetry)
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	case o.Jitter > 0.5:
		return nil, &SetupError{fmt.Errorf("agent: jitter %g is more than half the interval", o.Jitter)}
	}
	if o.OnceDeliver <= 0 {
		o.OnceDeliver = DefaultOnceDeliver
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	box, err := openOutbox(o.StateDir, o.MaxResults, o.MaxBytes)
	if err != nil {
		return nil, &SetupError{err}
	}
	c, err := newClient(o.Server, box.agentID)
	if err != nil {
		return nil, &SetupError{fmt.Errorf("agent: %w", err)}
	}
	a := &Agent{o: o, log: log, box: box, client: c, nextDue: map[agentapi.Kind]time.Time{}}
	if s, err := a.cachedSchedule(); err != nil {
		log.Warn("agent: the kept schedule is unreadable; waiting for the server's", "error", err)
	} else if s != nil {
		a.setSchedule(s, o.Now())
		a.refreshAt = time.Time{} // ask the server first anyway
	}
	return a, nil
}

// ID returns the agent's ID.
func (a *Agent) ID() string { return a.box.agentID }

// Queued returns how many results wait in the outbox.
func (a *Agent) Queued() int { return a.box.Len() }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run runs the agent until ctx ends (it then returns nil), the server
// refuses it (ErrRefused, ErrRejected), or, with Once, one round is done
// and delivered (nil, or ErrUndelivered / ErrNoSchedule).
func (a *Agent) Run(ctx context.Context) error {
	a.log.Info("agent: starting", "agent", a.box.agentID, "server", a.client.base.Host, "queued", a.box.Len(), "once", a.o.Once)
	if a.box.dropped > 0 {
		a.log.Warn("agent: outbox files that did not read were set aside and reported as dropped", "count", a.box.dropped)
	}
	start := a.o.Now()
	ranOnce := false
	for {
		now := a.o.Now()
		if a.sched == nil || !now.Before(a.refreshAt) {
			if err := a.fetchSchedule(ctx, now); err != nil {
				return a.stopped(ctx, err)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if a.sched != nil && (!a.o.Once || !ranOnce) {
			a.runDue(ctx, now)
			ranOnce = true
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := a.deliver(ctx); err != nil {
			return a.stopped(ctx, err)
		}
		now = a.o.Now()
		if a.o.Once {
			switch {
			case ranOnce && a.box.Len() == 0:
				a.log.Info("agent: round done and delivered")
				return nil
			case now.Sub(start) >= a.o.OnceDeliver && !ranOnce:
				return ErrNoSchedule
			case now.Sub(start) >= a.o.OnceDeliver:
				a.log.Warn("agent: results left in the outbox for the next run", "queued", a.box.Len())
				return fmt.Errorf("%w (%d queued for the next run)", ErrUndelivered, a.box.Len())
			}
		}
		wait := a.nextWake(now).Sub(now)
		if a.o.Once {
			wait = min(wait, start.Add(a.o.OnceDeliver).Sub(now))
		}
		if wait > 0 {
			if err := a.o.Sleep(ctx, wait); err != nil {
				return nil
			}
		}
	}
}

// stopped is Run's error: nil when ctx ended.
func (a *Agent) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	a.log.Error("agent: stopping", "error", err, "queued", a.box.Len())
	return err
}

// nextWake is when something is due: a task, the schedule's refresh, or
// a retry of the sends.
func (a *Agent) nextWake(now time.Time) time.Time {
	wake := a.refreshAt
	for _, t := range a.nextDue {
		if t.Before(wake) {
			wake = t
		}
	}
	if a.box.Len() > 0 && a.retryAt.Before(wake) {
		wake = a.retryAt
	}
	if wake.Before(now) {
		return now
	}
	return wake
}

// backoff is the wait after the n-th failure in a row: doubling from
// MinRetry up to MaxRetry, half of it random ("equal jitter"), so that
// agents that lost the server together do not come back together.
func (a *Agent) backoff(n int, after time.Duration) time.Duration {
	d := a.o.MaxRetry
	if n < 30 {
		d = min(a.o.MinRetry<<(n-1), a.o.MaxRetry)
	}
	d = d/2 + time.Duration(a.o.Rand()*float64(d/2))
	if after > 0 {
		d = min(max(d, after), max(after, a.o.MaxRetry))
	}
	return d
}

// fetchSchedule asks the server for the schedule. Unreachable, it keeps
// the one it has and asks again after a back-off; refused, it returns
// the error.
func (a *Agent) fetchSchedule(ctx context.Context, now time.Time) error {
	s, err := a.client.Schedule(ctx)
	if err != nil {
		var re *retryError
		if !errors.As(err, &re) {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		a.schedFailures++
		a.refreshAt = now.Add(a.backoff(a.schedFailures, re.after))
		if a.sched != nil {
			// A refresh can wait for the next round: the schedule in
			// hand runs meanwhile, and the sends probe the server.
			a.refreshAt = now.Add(max(a.refreshAt.Sub(now), a.refreshEvery()))
		}
		a.log.Warn("agent: the schedule could not be fetched", "error", err, "using", scheduleWord(a.sched),
			"retry_in", a.refreshAt.Sub(now).Round(time.Second).String())
		return nil
	}
	a.schedFailures = 0
	if a.sched == nil || !sameSchedule(a.sched, s) {
		a.log.Info("agent: schedule", "site", s.Site, "name", s.SiteName, "tasks", len(s.Tasks), "routers", len(s.Routers))
		if err := a.keepSchedule(s); err != nil {
			a.log.Warn("agent: the schedule could not be kept on disk", "error", err)
		}
	}
	a.setSchedule(s, now)
	return nil
}

func scheduleWord(s *agentapi.Schedule) string {
	if s == nil {
		return "none yet"
	}
	return "the last one"
}

func sameSchedule(a, b *agentapi.Schedule) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// setSchedule takes s: a new task is due now; a task whose interval
// shrank is due no later than one new interval from now.
func (a *Agent) setSchedule(s *agentapi.Schedule, now time.Time) {
	a.sched = s
	kinds := map[agentapi.Kind]bool{}
	for _, t := range s.Tasks {
		kinds[t.Kind] = true
		due, ok := a.nextDue[t.Kind]
		switch {
		case !ok:
			a.nextDue[t.Kind] = now
		case due.After(now.Add(t.Interval())):
			a.nextDue[t.Kind] = now.Add(t.Interval())
		}
	}
	for k := range a.nextDue {
		if !kinds[k] {
			delete(a.nextDue, k)
		}
	}
	a.refreshAt = now.Add(a.refreshEvery())
}

// refreshEvery is how often the schedule is asked for: as the server
// says, else at every round (the shortest task's interval), and at least
// every defaultRefresh, so that a site given its first task does not
// wait long.
func (a *Agent) refreshEvery() time.Duration {
	if r := time.Duration(a.sched.RefreshSeconds) * time.Second; r > 0 {
		return r
	}
	refresh := defaultRefresh
	for _, t := range a.sched.Tasks {
		refresh = min(refresh, t.Interval())
	}
	return refresh
}

func (a *Agent) cachedSchedule() (*agentapi.Schedule, error) {
	f, err := os.Open(filepath.Join(a.o.StateDir, scheduleFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return agentapi.DecodeSchedule(f)
}

func (a *Agent) keepSchedule(s *agentapi.Schedule) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFileSync(a.o.StateDir, scheduleFile, b)
}

// runDue runs the tasks that are due, in TaskKinds order, and queues
// their results.
func (a *Agent) runDue(ctx context.Context, now time.Time) {
	for _, k := range agentapi.TaskKinds {
		due, ok := a.nextDue[k]
		if !ok || (due.After(now) && !a.o.Once) {
			continue
		}
		var interval time.Duration
		for _, t := range a.sched.Tasks {
			if t.Kind == k {
				interval = t.Interval()
			}
		}
		switch k {
		case agentapi.KindDNS:
			a.queue(a.o.Engines.DNS(ctx))
		case agentapi.KindCheck:
			if len(a.sched.Routers) == 0 {
				a.queue(a.o.Engines.Check(ctx, nil))
			}
			for i := range a.sched.Routers {
				if ctx.Err() != nil {
					break
				}
				a.queue(a.o.Engines.Check(ctx, &a.sched.Routers[i]))
			}
		case agentapi.KindConfigPull:
			if len(a.sched.Routers) == 0 {
				a.log.Warn("agent: config pull is scheduled but the site has no router")
			}
			for _, r := range a.sched.Routers {
				if ctx.Err() != nil {
					break
				}
				a.queue(a.o.Engines.ConfigPull(ctx, r))
			}
		}
		if ctx.Err() != nil {
			return
		}
		j := 1 + a.o.Jitter*(2*a.o.Rand()-1)
		next := now.Add(time.Duration(float64(interval) * j))
		if n := a.o.Now(); next.Before(n) {
			next = n // the audits took longer than the interval
		}
		a.nextDue[k] = next
	}
}

// queue writes one result to the outbox. A result the context cut short
// is not queued: the agent is stopping, and the next run audits again.
func (a *Agent) queue(r agentapi.Result) {
	if r.Error != nil && r.Error.Class == agentapi.ErrorCanceled {
		return
	}
	r.Seq = 1 // numbered by the outbox; set here to measure it
	if b, err := json.Marshal(r); err != nil || len(b) > agentapi.MaxResultBytes {
		r.Verdict, r.Headline, r.Failing, r.Report, r.Snapshot = "", "", 0, nil, nil
		r.Error = agentapi.NewError(agentapi.ErrorTooLarge, fmt.Sprintf("the %s result is larger than %d bytes", r.Kind, agentapi.MaxResultBytes))
	}
	before := a.box.dropped
	seq, err := a.box.Add(r)
	if err != nil {
		a.log.Error("agent: the result could not be queued", "kind", r.Kind, "router", r.Router, "error", err)
		return
	}
	attrs := []any{"kind", r.Kind, "seq", seq, "queued", a.box.Len()}
	if r.Router != "" {
		attrs = append(attrs, "router", r.Router)
	}
	if r.Error != nil {
		attrs = append(attrs, "error_class", r.Error.Class, "error", r.Error.Message)
	} else {
		attrs = append(attrs, "verdict", r.Verdict)
	}
	a.log.Info("agent: result queued", attrs...)
	if a.box.dropped > before {
		a.log.Warn("agent: the outbox is full: the oldest results were given up (the server is told how many)",
			"given_up", a.box.dropped-before, "given_up_total", a.box.dropped)
	}
}

// deliver sends the queued results, oldest first, until the outbox is
// empty or a send fails (then it waits for retryAt).
func (a *Agent) deliver(ctx context.Context) error {
	for a.box.Len() > 0 {
		now := a.o.Now()
		if now.Before(a.retryAt) {
			return nil
		}
		rs, err := a.box.Peek(agentapi.MaxBatchResults, sendBytes)
		if err != nil {
			return err
		}
		first, last := rs[0].Seq, rs[len(rs)-1].End()
		acked, err := a.client.Send(ctx, rs)
		var gap *gapError
		var re *retryError
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &gap) && gap.expected > a.box.next, err == nil && acked >= a.box.next:
			// The server has results numbered past any this agent
			// gave: its state directory was restored from an older
			// copy, and what it sends now would be taken for
			// duplicates. Those numbers are spent; the agent goes on
			// under a new ID, whose numbering the server starts afresh.
			old := a.box.agentID
			if err := a.box.NewID(); err != nil {
				return err
			}
			a.client.agentID = a.box.agentID
			a.log.Error("agent: the server has results numbered past this agent's (its state was restored from an older copy); going on under a new agent ID",
				"old_agent", old, "agent", a.box.agentID, "next", a.box.next)
			continue
		case errors.As(err, &gap) && gap.expected > first:
			// The server has more than it acknowledged (an ack lost):
			// forget those and go on.
			if err := a.box.Ack(gap.expected - 1); err != nil {
				return err
			}
			continue
		case errors.As(err, &gap) && gap.expected < first:
			// The server lost results it had acknowledged.
			a.log.Error("agent: the server no longer has results it acknowledged; telling it they are lost",
				"from", gap.expected, "to", first-1)
			if err := a.box.Lost(gap.expected, first-1); err != nil {
				return err
			}
			continue
		case errors.As(err, &gap):
			err = &retryError{err: fmt.Errorf("the server asked for result %d, which was sent", gap.expected)}
		case err == nil && acked < first:
			err = &retryError{err: fmt.Errorf("the server acknowledged %d, before result %d it was sent", acked, first)}
		}
		if errors.As(err, &re) {
			a.failures++
			wait := a.backoff(a.failures, re.after)
			a.retryAt = now.Add(wait)
			a.log.Warn("agent: results not delivered; retrying", "error", err, "queued", a.box.Len(), "attempt", a.failures,
				"retry_in", wait.Round(time.Millisecond).String())
			return nil
		}
		if err != nil {
			return err
		}
		if err := a.box.Ack(acked); err != nil {
			return err
		}
		if a.failures > 0 {
			a.log.Info("agent: the server is back", "after_attempts", a.failures)
		}
		a.failures, a.retryAt = 0, time.Time{}
		a.log.Info("agent: results delivered", "from", first, "to", min(acked, last), "queued", a.box.Len())
	}
	return nil
}
