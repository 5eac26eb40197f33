// SPDX-License-Identifier: Apache-2.0

//go:build 386 || arm || mips || mipsle

package jobs

import (
	"context"
	"errors"
	"log/slog"

	"github.com/riverqueue/river"
)

// openSQLite: riversqlite v0.51.2 does not compile on 32-bit platforms
// (an untyped math.MaxInt64 converted to int), so this build has no
// SQLite job backend; PostgreSQL works.
func openSQLite(context.Context, string, *river.Config, *slog.Logger) (riverClient, database, error) {
	return nil, nil, errors.New("jobs: this build (32-bit) has no SQLite job backend; use PostgreSQL")
}
