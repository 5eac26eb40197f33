// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/store"
)

const scopeColumns = "id, org_id, prefixes, owner, reason, created_by, created_at, per_prefix_rate"

func scanScope(r row) (store.RangeScope, error) {
	var sc store.RangeScope
	var prefixes []byte
	var created time.Time
	if err := r.Scan(&sc.ID, &sc.OrgID, &prefixes, &sc.Owner, &sc.Reason, &sc.CreatedBy, &created, &sc.PerPrefixRate); err != nil {
		return sc, err
	}
	sc.CreatedAt = utc(created)
	var err error
	sc.Prefixes, err = store.DecodePrefixes(prefixes)
	return sc, err
}

// CreateRangeScope implements store.RangeStore.
func (s *tenant) CreateRangeScope(ctx context.Context, sc store.RangeScope) (store.RangeScope, error) {
	sc, err := store.PrepareRangeScope(sc, s.org)
	if err != nil {
		return store.RangeScope{}, fmt.Errorf("create range scope: %w", err)
	}
	prefixes, err := store.EncodePrefixes(sc.Prefixes)
	if err != nil {
		return store.RangeScope{}, fmt.Errorf("create range scope: %w", err)
	}
	sc.CreatedAt = store.Timestamp(s.now())
	err = s.write(ctx, "create range scope", once, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO range_scopes (org_id, prefixes, owner, reason, created_by, created_at, per_prefix_rate)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			s.org, prefixes, sc.Owner, sc.Reason, sc.CreatedBy, sc.CreatedAt, sc.PerPrefixRate).Scan(&sc.ID)
	})
	if err != nil {
		return store.RangeScope{}, err
	}
	return sc, nil
}

// RangeScope implements store.RangeStore.
func (s *tenant) RangeScope(ctx context.Context, id int64) (store.RangeScope, error) {
	var sc store.RangeScope
	err := s.read(ctx, "get range scope", func(tx pgx.Tx) error {
		var err error
		sc, err = scanScope(tx.QueryRow(ctx, "SELECT "+scopeColumns+" FROM range_scopes WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "range scope")
	})
	return sc, err
}

// RangeScopes implements store.RangeStore.
func (s *tenant) RangeScopes(ctx context.Context, p store.Page) ([]store.RangeScope, error) {
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list range scopes: %w", err)
	}
	var out []store.RangeScope
	err = s.read(ctx, "list range scopes", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanScope, "SELECT "+scopeColumns+` FROM range_scopes WHERE org_id = $1
			ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, s.org, limit, offset)
		return err
	})
	return out, err
}

const runColumns = "id, scope_id, started_at, finished_at, state"

func scanRun(r row) (store.RangeRun, error) {
	var run store.RangeRun
	var started time.Time
	var finished *time.Time
	var state string
	if err := r.Scan(&run.ID, &run.ScopeID, &started, &finished, &state); err != nil {
		return run, err
	}
	run.StartedAt, run.FinishedAt = utc(started), fromNull(finished)
	var err error
	run.State, err = store.CheckRangeState(state)
	return run, err
}

// StartRangeRun implements store.RangeStore.
func (s *tenant) StartRangeRun(ctx context.Context, scopeID int64, at time.Time) (store.RangeRun, error) {
	at, err := store.CheckEventTime("range scope", scopeID, at, s.now)
	if err != nil {
		return store.RangeRun{}, fmt.Errorf("start range run: %w", err)
	}
	r := store.RangeRun{ScopeID: scopeID, StartedAt: at, State: store.RangeRunning}
	err = s.write(ctx, "start range run", once, func(tx pgx.Tx) error {
		if err := exists(ctx, tx, "range scope", "SELECT 1 FROM range_scopes WHERE org_id = $1 AND id = $2", s.org, scopeID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO range_runs (org_id, scope_id, started_at, state) VALUES ($1, $2, $3, $4) RETURNING id`,
			s.org, scopeID, at, string(r.State)).Scan(&r.ID)
	})
	if err != nil {
		return store.RangeRun{}, err
	}
	return r, nil
}

// FinishRangeRun implements store.RangeStore.
func (s *tenant) FinishRangeRun(ctx context.Context, id int64, state store.RangeState, at time.Time) (store.RangeRun, error) {
	at, err := store.CheckRangeFinish(id, state, at, s.now)
	if err != nil {
		return store.RangeRun{}, fmt.Errorf("finish range run: %w", err)
	}
	var r store.RangeRun
	err = s.write(ctx, "finish range run", again, func(tx pgx.Tx) error {
		// One statement: of two workers finishing the run at once, the
		// second finds it finished.
		var err error
		r, err = scanRun(tx.QueryRow(ctx, `UPDATE range_runs SET state = $1, finished_at = $2
			WHERE org_id = $3 AND id = $4 AND state = 'running' RETURNING `+runColumns, string(state), at, s.org, id))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		r, err = scanRun(tx.QueryRow(ctx, "SELECT "+runColumns+" FROM range_runs WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "range run")
	})
	return r, err
}

// RangeRun implements store.RangeStore.
func (s *tenant) RangeRun(ctx context.Context, id int64) (store.RangeRun, error) {
	var r store.RangeRun
	err := s.read(ctx, "get range run", func(tx pgx.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRow(ctx, "SELECT "+runColumns+" FROM range_runs WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "range run")
	})
	return r, err
}

// RangeRuns implements store.RangeStore.
func (s *tenant) RangeRuns(ctx context.Context, scopeID int64, p store.Page) ([]store.RangeRun, error) {
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list range runs: %w", err)
	}
	var out []store.RangeRun
	err = s.read(ctx, "list range runs", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanRun, "SELECT "+runColumns+` FROM range_runs WHERE org_id = $1 AND scope_id = $2
			ORDER BY started_at DESC, id DESC LIMIT $3 OFFSET $4`, s.org, scopeID, limit, offset)
		return err
	})
	return out, err
}

func runExists(ctx context.Context, tx pgx.Tx, org string, id int64) error {
	return exists(ctx, tx, "range run", "SELECT 1 FROM range_runs WHERE org_id = $1 AND id = $2", org, id)
}

// PutRangeRecords implements store.RangeStore.
func (s *tenant) PutRangeRecords(ctx context.Context, runID int64, recs []store.RangeRecord) error {
	recs, err := store.PrepareRangeRecords(runID, recs, s.now)
	if err != nil {
		return fmt.Errorf("put range records: %w", err)
	}
	if len(recs) == 0 {
		return s.write(ctx, "put range records", again, func(tx pgx.Tx) error { return runExists(ctx, tx, s.org, runID) })
	}
	// In address order: two overlapping batches lock their rows in the
	// same order and cannot deadlock.
	n := len(recs)
	keys := make([][]byte, n)
	for i, r := range recs {
		keys[i] = store.AddrKey(r.Address)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	var (
		addrs, records               = make([][]byte, n), make([][]byte, n)
		prefixes, severities, models = make([]string, n), make([]string, n), make([]string, n)
		lives                        = make([]bool, n)
		failing                      = make([]int32, n)
		ats                          = make([]time.Time, n)
	)
	for j, i := range order {
		r := recs[i]
		addrs[j], records[j], prefixes[j] = keys[i], notNil(r.Record), r.Prefix.String()
		lives[j], failing[j], severities[j], models[j], ats[j] = r.Live, int32(r.Failing), r.WorstSeverity, r.Model, r.At
	}
	return s.write(ctx, "put range records", again, func(tx pgx.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO range_records (run_id, addr, prefix, record, live, failing, worst_severity, model, at)
			SELECT $1, addr, prefix, record, live, failing, worst_severity, model, at FROM unnest($2::bytea[], $3::text[], $4::bytea[], $5::boolean[], $6::integer[], $7::text[], $8::text[],
				$9::timestamptz[]) WITH ORDINALITY AS r(addr, prefix, record, live, failing, worst_severity, model, at, n)
			ORDER BY n
			ON CONFLICT (run_id, addr) DO UPDATE SET prefix = excluded.prefix, record = excluded.record,
				live = excluded.live, failing = excluded.failing, worst_severity = excluded.worst_severity,
				model = excluded.model, at = excluded.at`,
			runID, addrs, prefixes, records, lives, failing, severities, models, ats)
		return err
	})
}

const recordColumns = "run_id, addr, prefix, record, live, failing, worst_severity, model, at"

func scanRecord(r row) (store.RangeRecord, error) {
	var rec store.RangeRecord
	var addr, record []byte
	var prefix string
	var at time.Time
	if err := r.Scan(&rec.RunID, &addr, &prefix, &record, &rec.Live, &rec.Failing, &rec.WorstSeverity, &rec.Model, &at); err != nil {
		return rec, err
	}
	if len(record) > 0 {
		rec.Record = record
	}
	rec.At = utc(at)
	var err error
	if rec.Address, err = store.AddrFromKey(addr); err != nil {
		return rec, err
	}
	if rec.Prefix, err = netip.ParsePrefix(prefix); err != nil {
		return rec, fmt.Errorf("stored range record prefix does not parse")
	}
	return rec, nil
}

// RangeRecords implements store.RangeStore.
func (s *tenant) RangeRecords(ctx context.Context, runID int64, within netip.Prefix, p store.Page) ([]store.RangeRecord, error) {
	lo, hi, err := store.PrefixKeys(within)
	if err != nil {
		return nil, fmt.Errorf("list range records: %w", err)
	}
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list range records: %w", err)
	}
	var out []store.RangeRecord
	err = s.read(ctx, "list range records", func(tx pgx.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		var err error
		out, err = queryAll(ctx, tx, scanRecord, "SELECT "+recordColumns+` FROM range_records
			WHERE run_id = $1 AND addr BETWEEN $2 AND $3 ORDER BY addr LIMIT $4 OFFSET $5`, runID, lo, hi, limit, offset)
		return err
	})
	return out, err
}

// RangeDone implements store.RangeStore.
func (s *tenant) RangeDone(ctx context.Context, runID int64, within netip.Prefix) ([]netip.Addr, error) {
	lo, hi, err := store.PrefixKeys(within)
	if err != nil {
		return nil, fmt.Errorf("range run done: %w", err)
	}
	var out []netip.Addr
	err = s.read(ctx, "range run done", func(tx pgx.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		var err error
		out, err = queryAll(ctx, tx, func(r row) (netip.Addr, error) {
			var key []byte
			if err := r.Scan(&key); err != nil {
				return netip.Addr{}, err
			}
			return store.AddrFromKey(key)
		}, "SELECT addr FROM range_records WHERE run_id = $1 AND addr BETWEEN $2 AND $3 ORDER BY addr", runID, lo, hi)
		return err
	})
	return out, err
}

// RangeSummary implements store.RangeStore.
func (s *tenant) RangeSummary(ctx context.Context, runID int64) ([]store.PrefixSummary, error) {
	var byPrefix map[string]*store.PrefixSummary
	get := func(prefix string) (*store.PrefixSummary, error) {
		if ps, ok := byPrefix[prefix]; ok {
			return ps, nil
		}
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			return nil, fmt.Errorf("stored range record prefix does not parse")
		}
		ps := &store.PrefixSummary{Prefix: p, ByModel: map[string]int{}, BySeverity: map[string]int{}}
		byPrefix[prefix] = ps
		return ps, nil
	}
	err := s.read(ctx, "summarise range run", func(tx pgx.Tx) error {
		byPrefix = map[string]*store.PrefixSummary{}
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT prefix, count(*), count(*) FILTER (WHERE live), count(*) FILTER (WHERE failing > 0), coalesce(sum(failing), 0)
			FROM range_records WHERE run_id = $1 GROUP BY prefix`, runID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var prefix string
			var n, live, failing, checks int64
			if err := rows.Scan(&prefix, &n, &live, &failing, &checks); err != nil {
				rows.Close()
				return err
			}
			ps, err := get(prefix)
			if err != nil {
				rows.Close()
				return err
			}
			ps.Addresses, ps.Live, ps.Failing, ps.FailingChecks = int(n), int(live), int(failing), int(checks)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, q := range []struct {
			query string
			into  func(*store.PrefixSummary) map[string]int
		}{
			{`SELECT prefix, model, count(*) FROM range_records WHERE run_id = $1 AND model <> '' GROUP BY prefix, model`,
				func(ps *store.PrefixSummary) map[string]int { return ps.ByModel }},
			{`SELECT prefix, worst_severity, count(*) FROM range_records WHERE run_id = $1 AND failing > 0 AND worst_severity <> ''
				GROUP BY prefix, worst_severity`,
				func(ps *store.PrefixSummary) map[string]int { return ps.BySeverity }},
		} {
			rows, err := tx.Query(ctx, q.query, runID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var prefix, key string
				var n int64
				if err := rows.Scan(&prefix, &key, &n); err != nil {
					rows.Close()
					return err
				}
				ps, err := get(prefix)
				if err != nil {
					rows.Close()
					return err
				}
				q.into(ps)[key] = int(n)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return store.SortSummaries(byPrefix), nil
}

// ExportRangeRecords implements store.RangeStore.
func (s *tenant) ExportRangeRecords(ctx context.Context, runID int64) iter.Seq2[store.RangeRecord, error] {
	return func(yield func(store.RangeRecord, error) bool) {
		// One read transaction for the whole stream: the records are
		// those of one moment, however long the reader takes. Once a
		// record was yielded, the transaction is not tried again (the
		// reader would see records twice).
		var yielded, stopped bool
		err := s.read(ctx, "export range records", func(tx pgx.Tx) error {
			if yielded {
				return errExportBroken
			}
			if err := runExists(ctx, tx, s.org, runID); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "SELECT "+recordColumns+" FROM range_records WHERE run_id = $1 ORDER BY addr", runID)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				r, err := scanRecord(rows)
				if err != nil {
					return err
				}
				yielded = true
				if !yield(r, nil) {
					stopped = true
					return nil
				}
			}
			return rows.Err()
		})
		if err != nil && !stopped {
			yield(store.RangeRecord{}, err)
		}
	}
}

// errExportBroken ends an export whose connection broke after it had
// yielded records.
var errExportBroken = errors.New("the connection to PostgreSQL broke during the export")
