// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/scan"
)

// Metrics are the jobs' counters for the server's /metrics. A nil
// *Metrics counts nothing.
type Metrics struct {
	audits   *prometheus.CounterVec
	failures *prometheus.CounterVec
	jobs     *prometheus.CounterVec
	run      *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

// NewMetrics makes the counters and registers them on reg (never the
// global registry: the caller owns it).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		audits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routerwatch_audits_total",
			Help: "Audits run: by jobs (type range, wan) and by agents (type agent-dns, agent-check)."}, []string{"type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routerwatch_audit_failures_total",
			Help: "Failing findings of the audits counted in routerwatch_audits_total, by check."}, []string{"check"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routerwatch_jobs_total",
			Help: "Jobs worked by this process, by kind and outcome (completed, failed, cancelled, snoozed)."}, []string{"kind", "outcome"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "routerwatch_job_run_seconds",
			Help: "Time a job ran, by kind.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "routerwatch_job_queue_wait_seconds",
			Help: "Time a job waited between becoming available and starting, by kind.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.audits, m.failures, m.jobs, m.run, m.wait} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// audited counts one audited address and its failing findings.
func (m *Metrics) audited(typ string, r *scan.Record) {
	m.Audited(typ, r.Findings)
}

// Audited counts one audit of type typ and its failing findings: the
// jobs' own (range, wan), and those the server keeps from elsewhere (an
// agent's dns and check reports), so that /metrics counts every audit
// the fleet runs.
func (m *Metrics) Audited(typ string, fs []finding.Finding) {
	if m == nil {
		return
	}
	m.audits.WithLabelValues(typ).Inc()
	for i := range fs {
		if fs[i].Status == finding.StatusFail {
			m.failures.WithLabelValues(fs[i].CheckID).Inc()
		}
	}
}

// subscribe counts this process's job events until Stop.
func (c *Client) subscribe() {
	ch, unsub := c.river.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	c.unsub = unsub
	c.events = make(chan struct{})
	m := c.cfg.Metrics
	go func() {
		defer close(c.events)
		for ev := range ch {
			outcome := map[river.EventKind]string{river.EventKindJobCompleted: "completed", river.EventKindJobFailed: "failed",
				river.EventKindJobCancelled: "cancelled", river.EventKindJobSnoozed: "snoozed"}[ev.Kind]
			m.jobs.WithLabelValues(ev.Job.Kind, outcome).Inc()
			if ev.JobStats != nil {
				m.run.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.RunDuration.Seconds())
				m.wait.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.QueueWaitDuration.Seconds())
			}
		}
	}()
}

// Stats is the queue's depth: unfinished jobs by queue and state
// (available, pending, retryable, running, scheduled).
type Stats struct {
	Jobs map[string]map[string]int `json:"jobs"`
}

// Stats counts the unfinished jobs.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	cs, err := c.db.counts(ctx)
	if err != nil {
		return Stats{}, c.dbError("counting jobs", err)
	}
	s := Stats{Jobs: map[string]map[string]int{}}
	for _, x := range cs {
		if s.Jobs[x.Queue] == nil {
			s.Jobs[x.Queue] = map[string]int{}
		}
		s.Jobs[x.Queue][x.State] = x.N
	}
	return s, nil
}

// statsTimeout bounds the query behind one scrape.
const statsTimeout = 5 * time.Second

var queueDepthDesc = prometheus.NewDesc("routerwatch_jobs_queued", "Unfinished jobs by queue and state.", []string{"queue", "state"}, nil)

// QueueCollector returns a collector of the queue's depth, read from the
// database at each scrape (bounded by statsTimeout; a failed read yields
// an invalid metric, so the scrape shows the error).
func (c *Client) QueueCollector() prometheus.Collector { return queueCollector{c} }

type queueCollector struct{ c *Client }

func (q queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (q queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	s, err := q.c.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	for queue, states := range s.Jobs {
		for state, n := range states {
			ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(n), queue, state)
		}
	}
}
