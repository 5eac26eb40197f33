// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

const scopeColumns = "id, org_id, prefixes, owner, reason, created_by, created_at, per_prefix_rate"

func scanScope(row interface{ Scan(...any) error }) (store.RangeScope, error) {
	var sc store.RangeScope
	var prefixes []byte
	var created int64
	if err := row.Scan(&sc.ID, &sc.OrgID, &prefixes, &sc.Owner, &sc.Reason, &sc.CreatedBy, &created, &sc.PerPrefixRate); err != nil {
		return sc, err
	}
	sc.CreatedAt = fromMicros(created)
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
	err = s.write(ctx, "create range scope", func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO range_scopes (org_id, prefixes, owner, reason, created_by, created_at, per_prefix_rate)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.org, prefixes, sc.Owner, sc.Reason, sc.CreatedBy, micros(sc.CreatedAt), sc.PerPrefixRate).Scan(&sc.ID)
	})
	if err != nil {
		return store.RangeScope{}, err
	}
	return sc, nil
}

// RangeScope implements store.RangeStore.
func (s *tenant) RangeScope(ctx context.Context, id int64) (store.RangeScope, error) {
	var sc store.RangeScope
	err := s.read(ctx, "get range scope", func(tx *sql.Tx) error {
		var err error
		sc, err = scanScope(tx.QueryRowContext(ctx, "SELECT "+scopeColumns+" FROM range_scopes WHERE org_id = ? AND id = ?", s.org, id))
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
	err = s.read(ctx, "list range scopes", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanScope, "SELECT "+scopeColumns+` FROM range_scopes WHERE org_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, s.org, limit, offset)
		return err
	})
	return out, err
}

const runColumns = "id, scope_id, started_at, finished_at, state"

func scanRun(row interface{ Scan(...any) error }) (store.RangeRun, error) {
	var r store.RangeRun
	var started int64
	var finished sql.NullInt64
	var state string
	if err := row.Scan(&r.ID, &r.ScopeID, &started, &finished, &state); err != nil {
		return r, err
	}
	r.StartedAt, r.FinishedAt = fromMicros(started), fromNullMicros(finished)
	var err error
	r.State, err = store.CheckRangeState(state)
	return r, err
}

// StartRangeRun implements store.RangeStore.
func (s *tenant) StartRangeRun(ctx context.Context, scopeID int64, at time.Time) (store.RangeRun, error) {
	at, err := store.CheckEventTime("range scope", scopeID, at, s.now)
	if err != nil {
		return store.RangeRun{}, fmt.Errorf("start range run: %w", err)
	}
	r := store.RangeRun{ScopeID: scopeID, StartedAt: at, State: store.RangeRunning}
	err = s.write(ctx, "start range run", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "range scope", "SELECT 1 FROM range_scopes WHERE org_id = ? AND id = ?", s.org, scopeID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO range_runs (org_id, scope_id, started_at, state) VALUES (?, ?, ?, ?) RETURNING id`,
			s.org, scopeID, micros(at), string(r.State)).Scan(&r.ID)
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
	err = s.write(ctx, "finish range run", func(tx *sql.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRowContext(ctx, "SELECT "+runColumns+" FROM range_runs WHERE org_id = ? AND id = ?", s.org, id))
		if err != nil {
			return notFound(err, "range run")
		}
		if r.State != store.RangeRunning {
			return nil
		}
		r.State, r.FinishedAt = state, at
		_, err = tx.ExecContext(ctx, "UPDATE range_runs SET state = ?, finished_at = ? WHERE id = ?", string(state), micros(at), id)
		return err
	})
	return r, err
}

// RangeRun implements store.RangeStore.
func (s *tenant) RangeRun(ctx context.Context, id int64) (store.RangeRun, error) {
	var r store.RangeRun
	err := s.read(ctx, "get range run", func(tx *sql.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRowContext(ctx, "SELECT "+runColumns+" FROM range_runs WHERE org_id = ? AND id = ?", s.org, id))
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
	err = s.read(ctx, "list range runs", func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanRun, "SELECT "+runColumns+` FROM range_runs WHERE org_id = ? AND scope_id = ?
			ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`, s.org, scopeID, limit, offset)
		return err
	})
	return out, err
}

// runExists returns store.ErrNotFound when the run is not the
// organisation's.
func runExists(ctx context.Context, tx *sql.Tx, org string, id int64) error {
	return exists(ctx, tx, "range run", "SELECT 1 FROM range_runs WHERE org_id = ? AND id = ?", org, id)
}

// PutRangeRecords implements store.RangeStore.
func (s *tenant) PutRangeRecords(ctx context.Context, runID int64, recs []store.RangeRecord) error {
	recs, err := store.PrepareRangeRecords(runID, recs, s.now)
	if err != nil {
		return fmt.Errorf("put range records: %w", err)
	}
	return s.write(ctx, "put range records", func(tx *sql.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO range_records (run_id, addr, prefix, record, live, failing, worst_severity, model, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, addr) DO UPDATE SET prefix = excluded.prefix, record = excluded.record,
				live = excluded.live, failing = excluded.failing, worst_severity = excluded.worst_severity,
				model = excluded.model, at = excluded.at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range recs {
			record := []byte(r.Record)
			if record == nil {
				record = []byte{}
			}
			if _, err := stmt.ExecContext(ctx, runID, store.AddrKey(r.Address), r.Prefix.String(), record, r.Live,
				r.Failing, r.WorstSeverity, r.Model, micros(r.At)); err != nil {
				return err
			}
		}
		return nil
	})
}

const recordColumns = "run_id, addr, prefix, record, live, failing, worst_severity, model, at"

func scanRecord(row interface{ Scan(...any) error }) (store.RangeRecord, error) {
	var r store.RangeRecord
	var addr, record []byte
	var prefix string
	var at int64
	if err := row.Scan(&r.RunID, &addr, &prefix, &record, &r.Live, &r.Failing, &r.WorstSeverity, &r.Model, &at); err != nil {
		return r, err
	}
	if len(record) > 0 {
		r.Record = record
	}
	r.At = fromMicros(at)
	var err error
	if r.Address, err = store.AddrFromKey(addr); err != nil {
		return r, err
	}
	if r.Prefix, err = netip.ParsePrefix(prefix); err != nil {
		return r, fmt.Errorf("stored range record prefix does not parse")
	}
	return r, nil
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
	err = s.read(ctx, "list range records", func(tx *sql.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		var err error
		out, err = queryAll(ctx, tx, scanRecord, "SELECT "+recordColumns+` FROM range_records
			WHERE run_id = ? AND addr BETWEEN ? AND ? ORDER BY addr LIMIT ? OFFSET ?`, runID, lo, hi, limit, offset)
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
	err = s.read(ctx, "range run done", func(tx *sql.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		var err error
		out, err = queryAll(ctx, tx, func(row interface{ Scan(...any) error }) (netip.Addr, error) {
			var key []byte
			if err := row.Scan(&key); err != nil {
				return netip.Addr{}, err
			}
			return store.AddrFromKey(key)
		}, "SELECT addr FROM range_records WHERE run_id = ? AND addr BETWEEN ? AND ? ORDER BY addr", runID, lo, hi)
		return err
	})
	return out, err
}

// RangeSummary implements store.RangeStore.
func (s *tenant) RangeSummary(ctx context.Context, runID int64) ([]store.PrefixSummary, error) {
	byPrefix := map[string]*store.PrefixSummary{}
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
	err := s.read(ctx, "summarise range run", func(tx *sql.Tx) error {
		if err := runExists(ctx, tx, s.org, runID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT prefix, count(*), sum(live), sum(failing > 0), sum(failing) FROM range_records
			WHERE run_id = ? GROUP BY prefix`, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var prefix string
			var n, live, failing, checks int
			if err := rows.Scan(&prefix, &n, &live, &failing, &checks); err != nil {
				return err
			}
			ps, err := get(prefix)
			if err != nil {
				return err
			}
			ps.Addresses, ps.Live, ps.Failing, ps.FailingChecks = n, live, failing, checks
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, q := range []struct {
			query string
			into  func(*store.PrefixSummary) map[string]int
		}{
			{`SELECT prefix, model, count(*) FROM range_records WHERE run_id = ? AND model <> '' GROUP BY prefix, model`,
				func(ps *store.PrefixSummary) map[string]int { return ps.ByModel }},
			{`SELECT prefix, worst_severity, count(*) FROM range_records WHERE run_id = ? AND failing > 0 AND worst_severity <> ''
				GROUP BY prefix, worst_severity`,
				func(ps *store.PrefixSummary) map[string]int { return ps.BySeverity }},
		} {
			rows, err := tx.QueryContext(ctx, q.query, runID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var prefix, key string
				var n int
				if err := rows.Scan(&prefix, &key, &n); err != nil {
					rows.Close()
					return err
				}
				ps, err := get(prefix)
				if err != nil {
					rows.Close()
					return err
				}
				q.into(ps)[key] = n
			}
			if err := rows.Err(); err != nil {
				rows.Close()
				return err
			}
			rows.Close()
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
		// those of one moment, however long the reader takes.
		var stopped bool
		err := s.read(ctx, "export range records", func(tx *sql.Tx) error {
			if err := runExists(ctx, tx, s.org, runID); err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, "SELECT "+recordColumns+" FROM range_records WHERE run_id = ? ORDER BY addr", runID)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				r, err := scanRecord(rows)
				if err != nil {
					return err
				}
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
