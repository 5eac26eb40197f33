// SPDX-License-Identifier: Apache-2.0

package jobs

import "context"

// database is the job database under River: what the client needs of it
// beside River (closing it, telling an outage from a query error,
// counting queued jobs for Stats).
type database interface {
	close()
	unreachable(err error) bool
	counts(ctx context.Context) ([]stateCount, error)
}

// stateCount is how many unfinished jobs a queue holds in one state.
type stateCount struct {
	Queue, State string
	N            int
}
