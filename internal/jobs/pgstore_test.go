// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/store"
)

// pgStore is a RangeStore on PostgreSQL for the fault tests, shared by
// worker processes: records keyed by (run, address) as the store contract
// says, and a log of every write that committed, so that a test sees an
// address written twice even though the key keeps one record.
type pgStore struct{ pool *pgxpool.Pool }

const pgStoreSchema = `
CREATE TABLE IF NOT EXISTS t_runs (id bigint PRIMARY KEY, org text NOT NULL, prefixes text NOT NULL,
	rate double precision NOT NULL, state text NOT NULL, started timestamptz, finished timestamptz);
CREATE TABLE IF NOT EXISTS t_records (run bigint NOT NULL, address inet NOT NULL, prefix cidr NOT NULL,
	live boolean NOT NULL, failing int NOT NULL, model text NOT NULL, PRIMARY KEY (run, address));
CREATE TABLE IF NOT EXISTS t_writes (run bigint NOT NULL, address inet NOT NULL);`

func openPGStore(ctx context.Context, dsn string) (*pgStore, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, pgStoreSchema); err != nil {
		pool.Close()
		return nil, err
	}
	return &pgStore{pool: pool}, nil
}

func (s *pgStore) addRun(t testing.TB, id int64, org string, plan jobs.RunPlan) {
	t.Helper()
	var ps []string
	for _, p := range plan.Prefixes {
		ps = append(ps, p.String())
	}
	if _, err := s.pool.Exec(t.Context(), "INSERT INTO t_runs (id, org, prefixes, rate, state) VALUES ($1, $2, $3, $4, $5)",
		id, org, strings.Join(ps, " "), plan.PerPrefixRate, jobs.RunQueued); err != nil {
		t.Fatal(err)
	}
}

func (s *pgStore) RangeRunPlan(ctx context.Context, org string, id int64) (jobs.RunPlan, error) {
	var prefixes string
	var p jobs.RunPlan
	err := s.pool.QueryRow(ctx, "SELECT prefixes, rate FROM t_runs WHERE id = $1 AND org = $2", id, org).Scan(&prefixes, &p.PerPrefixRate)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, store.ErrNotFound
	}
	if err != nil {
		return p, err
	}
	for _, f := range strings.Fields(prefixes) {
		p.Prefixes = append(p.Prefixes, netip.MustParsePrefix(f))
	}
	return p, nil
}

func (s *pgStore) RangeDone(ctx context.Context, org string, id int64, prefix netip.Prefix) ([]netip.Addr, error) {
	if _, err := s.RangeRunPlan(ctx, org, id); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT address FROM t_records WHERE run = $1 AND address <<= $2::cidr", id, prefix.String())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[netip.Addr])
}

func (s *pgStore) PutRangeRecords(ctx context.Context, org string, id int64, recs []jobs.RangeRecord) error {
	if _, err := s.RangeRunPlan(ctx, org, id); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, r := range recs {
			_, err := tx.Exec(ctx, `INSERT INTO t_records (run, address, prefix, live, failing, model) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT DO NOTHING`, id, r.Address, r.Prefix, r.Live, r.Failing, r.Model)
			if err != nil {
				return err
			}
			// Every write is logged, kept or not: an address written by
			// a retry that did not skip it shows as two log rows.
			if _, err := tx.Exec(ctx, "INSERT INTO t_writes (run, address) VALUES ($1, $2)", id, r.Address); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *pgStore) SetRangeRunState(ctx context.Context, org string, id int64, state string, at time.Time) error {
	q := "UPDATE t_runs SET state = $3, finished = $4 WHERE id = $1 AND org = $2"
	if state == jobs.RunRunning {
		q = "UPDATE t_runs SET state = $3, started = coalesce(started, $4) WHERE id = $1 AND org = $2"
	}
	tag, err := s.pool.Exec(ctx, q, id, org, state, at)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}

// counts returns the run's records, its write log's rows, the addresses
// written more than once, and its state.
func (s *pgStore) counts(t testing.TB, id int64) (records, writes int, dups []string, state string) {
	t.Helper()
	ctx := context.Background()
	if err := s.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM t_records WHERE run = $1), (SELECT count(*) FROM t_writes WHERE run = $1), (SELECT state FROM t_runs WHERE id = $1)",
		id).Scan(&records, &writes, &state); err != nil {
		t.Logf("counts: %v", err)
		return -1, -1, nil, ""
	}
	rows, err := s.pool.Query(ctx, "SELECT host(address) FROM t_writes WHERE run = $1 GROUP BY address HAVING count(*) > 1", id)
	if err == nil {
		dups, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	return records, writes, dups, state
}
