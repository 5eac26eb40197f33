// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// pruneWorker deletes finished jobs (completed, cancelled, discarded)
// finalized before the retention, in bounded batches.
type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	c *Client
}

// Timeout lets River rescue a prune whose worker died in it (see
// rangeFinishWorker.Timeout).
func (w *pruneWorker) Timeout(*river.Job[PruneArgs]) time.Duration { return shortJobTimeout }

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	_, err := w.c.Prune(ctx, time.Now().Add(-w.c.cfg.Retention))
	return err
}

// pruneBatch bounds one delete, so that a large backlog never holds a
// long transaction.
const pruneBatch = 10000

// Prune deletes the jobs finished before cutoff and returns how many.
func (c *Client) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		res, err := c.river.JobDeleteMany(ctx, river.NewJobDeleteManyParams().
			States(rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded).
			Where("finalized_at < @cutoff", river.NamedArgs{"cutoff": cutoff.UTC()}).First(pruneBatch))
		if err != nil {
			return total, c.dbError("pruning finished jobs", err)
		}
		total += len(res.Jobs)
		if len(res.Jobs) < pruneBatch {
			return total, nil
		}
	}
}
