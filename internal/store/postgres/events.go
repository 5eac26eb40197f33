// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
)

// PutAudit implements store.AuditStore.
func (s *tenant) PutAudit(ctx context.Context, a store.Audit) (store.Audit, error) {
	a, err := store.PrepareAudit(a, s.now)
	if err != nil {
		return store.Audit{}, fmt.Errorf("put audit: %w", err)
	}
	err = s.write(ctx, "put audit", once, func(tx pgx.Tx) error {
		if a.DeviceID != "" {
			if err := deviceExists(ctx, tx, s.org, a.DeviceID); err != nil {
				return err
			}
		} else if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO audits (org_id, device_id, kind, at, verdict, headline, failing, report)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			s.org, nullString(a.DeviceID), a.Kind, a.At, a.Verdict, a.Headline, a.Failing, notNil(a.Report)).Scan(&a.ID)
	})
	if err != nil {
		return store.Audit{}, err
	}
	return a, nil
}

const auditColumns = "id, device_id, kind, at, verdict, headline, failing, report"

func scanAudit(r row) (store.Audit, error) {
	var a store.Audit
	var dev *string
	var at time.Time
	var report []byte
	err := r.Scan(&a.ID, &dev, &a.Kind, &at, &a.Verdict, &a.Headline, &a.Failing, &report)
	a.DeviceID, a.At = fromNullString(dev), utc(at)
	if len(report) > 0 {
		a.Report = report
	}
	return a, err
}

// Audit implements store.AuditStore.
func (s *tenant) Audit(ctx context.Context, id int64) (store.Audit, error) {
	var a store.Audit
	err := s.read(ctx, "get audit", func(tx pgx.Tx) error {
		var err error
		a, err = scanAudit(tx.QueryRow(ctx, "SELECT "+auditColumns+" FROM audits WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "audit")
	})
	return a, err
}

// where builds a WHERE clause of the organisation and the given
// conditions ("device_id = ?"), numbering the parameters.
func where(org string, conds []string, args ...any) (string, []any) {
	all := []any{org}
	parts := []string{"org_id = $1"}
	for i, c := range conds {
		all = append(all, args[i])
		parts = append(parts, strings.Replace(c, "?", fmt.Sprintf("$%d", len(all)), 1))
	}
	return " WHERE " + strings.Join(parts, " AND "), all
}

// Audits implements store.AuditStore.
func (s *tenant) Audits(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.Audit, error) {
	if err := store.CheckAuditFilter(f); err != nil {
		return nil, fmt.Errorf("list audits: %w", err)
	}
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list audits: %w", err)
	}
	var conds []string
	var args []any
	if f.DeviceID != "" {
		conds, args = append(conds, "device_id = ?"), append(args, f.DeviceID)
	}
	if f.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, f.Kind)
	}
	w, all := where(s.org, conds, args...)
	q := fmt.Sprintf("SELECT %s FROM audits%s ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d", auditColumns, w, len(all)+1, len(all)+2)
	var out []store.Audit
	err = s.read(ctx, "list audits", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanAudit, q, append(all, limit, offset)...)
		return err
	})
	return out, err
}

// PutChanges implements store.ChangeStore.
func (s *tenant) PutChanges(ctx context.Context, e store.ChangeEvent) (store.ChangeEvent, error) {
	e, err := store.PrepareChanges(e, s.now)
	if err != nil {
		return store.ChangeEvent{}, fmt.Errorf("put changes: %w", err)
	}
	err = s.write(ctx, "put changes", once, func(tx pgx.Tx) error {
		want := 2
		if e.FromSnapshot == e.ToSnapshot {
			want = 1
		}
		var n int
		err := tx.QueryRow(ctx, "SELECT count(*) FROM snapshots WHERE org_id = $1 AND device_id = $2 AND id IN ($3, $4)",
			s.org, e.DeviceID, e.FromSnapshot, e.ToSnapshot).Scan(&n)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("snapshots of that device: %w", store.ErrNotFound)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO change_events (org_id, device_id, from_snapshot, to_snapshot, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			s.org, e.DeviceID, e.FromSnapshot, e.ToSnapshot, e.At).Scan(&e.ID)
		if err != nil || len(e.Changes) == 0 {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"changes"},
			[]string{"event_id", "seq", "path", "what", "kind", "old", "new", "old_addr", "new_addr", "severity", "words"},
			pgx.CopyFromSlice(len(e.Changes), func(i int) ([]any, error) {
				c := e.Changes[i]
				return []any{e.ID, i, c.Path, c.What, string(c.Kind), c.Old, c.New,
					addrText(c.OldAddr), addrText(c.NewAddr), c.Severity.String(), c.Words}, nil
			}))
		return err
	})
	if err != nil {
		return store.ChangeEvent{}, err
	}
	return e, nil
}

// ChangeEvents implements store.ChangeStore.
func (s *tenant) ChangeEvents(ctx context.Context, deviceID string, p store.Page) ([]store.ChangeEvent, error) {
	if err := store.CheckOptionalDevice(deviceID); err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	var conds []string
	var args []any
	if deviceID != "" {
		conds, args = append(conds, "device_id = ?"), append(args, deviceID)
	}
	w, all := where(s.org, conds, args...)
	q := fmt.Sprintf("SELECT id, device_id, from_snapshot, to_snapshot, at FROM change_events%s ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d",
		w, len(all)+1, len(all)+2)
	var out []store.ChangeEvent
	err = s.read(ctx, "list changes", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(r row) (store.ChangeEvent, error) {
			var e store.ChangeEvent
			var at time.Time
			err := r.Scan(&e.ID, &e.DeviceID, &e.FromSnapshot, &e.ToSnapshot, &at)
			e.At = utc(at)
			return e, err
		}, q, append(all, limit, offset)...)
		if err != nil || len(out) == 0 {
			return err
		}
		index := make(map[int64]int, len(out))
		ids := make([]int64, len(out))
		for i, e := range out {
			index[e.ID], ids[i] = i, e.ID
		}
		rows, err := tx.Query(ctx, `
			SELECT event_id, path, what, kind, old, new, old_addr, new_addr, severity, words FROM changes
			WHERE event_id = ANY($1) ORDER BY event_id, seq`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var c store.Change
			var kind, oldAddr, newAddr, sev string
			if err := rows.Scan(&id, &c.Path, &c.What, &kind, &c.Old, &c.New, &oldAddr, &newAddr, &sev, &c.Words); err != nil {
				return err
			}
			c.Kind = device.ChangeKind(kind)
			if c.OldAddr, err = parseAddr("change old address", oldAddr); err != nil {
				return err
			}
			if c.NewAddr, err = parseAddr("change new address", newAddr); err != nil {
				return err
			}
			if c.Severity, err = store.DecodeSeverity(sev); err != nil {
				return err
			}
			i := index[id]
			out[i].Changes = append(out[i].Changes, c)
		}
		return rows.Err()
	})
	return out, err
}
