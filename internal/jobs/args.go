// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"fmt"
	"net/netip"

	"github.com/riverqueue/river"
)

// Job kinds. A kind's name carries its version: a change of an args
// struct's meaning gets a new kind, and workers keep the old one until no
// job of it is left.
const (
	KindRangeRun    = "range_run.v1"
	KindRangeChunk  = "range_chunk.v1"
	KindRangeFinish = "range_finish.v1"
	KindWANCheck    = "wan_check.v1"
	KindWANSchedule = "wan_schedule.v1"
	KindPrune       = "prune.v1"
)

// Queues. Range chunks have their own queue so that a worker process can
// give them a bound of their own (they are long and each holds sockets),
// and so that a large range run does not hold up the sites' WAN checks.
const (
	QueueDefault = river.QueueDefault
	QueueRange   = "range"
)

// Queues lists every queue, for a worker that works them all.
func Queues() []string { return []string{QueueDefault, QueueRange} }

// RangeRunArgs fans a range run out into chunk jobs.
type RangeRunArgs struct {
	OrgID string `json:"org_id" river:"unique"`
	RunID int64  `json:"run_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (RangeRunArgs) Kind() string { return KindRangeRun }

// RangeChunkArgs audits one chunk of a run.
type RangeChunkArgs struct {
	OrgID string       `json:"org_id" river:"unique"`
	RunID int64        `json:"run_id" river:"unique"`
	Chunk netip.Prefix `json:"chunk" river:"unique"`
}

// Kind implements river.JobArgs.
func (RangeChunkArgs) Kind() string { return KindRangeChunk }

// RangeFinishArgs marks a run finished once none of its chunks is left.
type RangeFinishArgs struct {
	OrgID string `json:"org_id" river:"unique"`
	RunID int64  `json:"run_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (RangeFinishArgs) Kind() string { return KindRangeFinish }

// WANCheckArgs audits a site's public address from the server.
type WANCheckArgs struct {
	OrgID  string     `json:"org_id" river:"unique"`
	SiteID string     `json:"site_id" river:"unique"`
	Addr   netip.Addr `json:"addr" river:"unique"`
}

// Kind implements river.JobArgs.
func (WANCheckArgs) Kind() string { return KindWANCheck }

// WANScheduleArgs enqueues the WAN checks that are due.
type WANScheduleArgs struct{}

// Kind implements river.JobArgs.
func (WANScheduleArgs) Kind() string { return KindWANSchedule }

// PruneArgs deletes finished jobs older than the retention.
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return KindPrune }

// runTag is the tag every job of a range run carries, so that the finish
// job can find the run's chunks that are not done.
func runTag(runID int64) string { return fmt.Sprintf("range-run-%d", runID) }
