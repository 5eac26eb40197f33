// SPDX-License-Identifier: Apache-2.0

// Package jobs runs routerwatch's background work as River jobs: range
// audits for ISPs and CERTs (a run fanned out into chunks of at most 256
// addresses), the server's WAN-vantage check of each site, and the
// periodic jobs that replace timers (scheduling those checks, pruning
// finished jobs). One Client works the jobs and enqueues them; the web
// server and the CLI call its Enqueue methods, `routerwatch worker` runs
// its workers.
//
// # Backends
//
// PostgreSQL (a postgres:// or postgresql:// DSN): River on riverpgxv5, its
// tables in the schema "river" of the store's database, many worker
// processes at once. SQLite (any other DSN, a file path): River on
// riversqlite in a file of its own next to the store, for one process;
// riversqlite is 64-bit only, so on 32-bit platforms Open reports that the
// SQLite job backend is not built (jobs_sqlite_32.go).
//
// River's own migrations run through rivermigrate when Open is called; a
// database migrated by a newer routerwatch (a River migration this binary
// does not know) is refused with ErrSchemaTooNew, never downgraded.
//
// # Contract
//
//   - Every job is idempotent: a job retried after a crash (River rescues
//     a job whose worker died once RescueStuckJobsAfter has passed) writes
//     nothing twice. Range chunks skip the addresses already recorded for
//     the run and write records in batches keyed by (run, address); a WAN
//     check writes its audit under a key made of the job's ID; a run's
//     fan-out inserts its chunks as unique jobs.
//   - A range chunk contacts only the run's authorised prefixes (the scan
//     engine's scope is the run's prefixes, its targets the chunk) at the
//     scope's per-prefix rate: one chunk lies inside one /24 (IPv4) or one
//     /120 (IPv6), so the rate of a chunk is the rate into its prefix.
//   - On a graceful stop a running chunk keeps what it measured and
//     releases its job (JobSnooze(0)), so the next worker continues it.
//   - Errors never carry a DSN's password (RedactDSN).
//   - Metrics go to the registry the caller gives, never a global one.
package jobs
