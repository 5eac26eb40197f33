// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
)

// PutAudit implements store.AuditStore.
func (s *tenant) PutAudit(ctx context.Context, a store.Audit) (store.Audit, error) {
	a, err := store.PrepareAudit(a, s.now)
	if err != nil {
		return store.Audit{}, fmt.Errorf("put audit: %w", err)
	}
	err = s.write(ctx, "put audit", func(tx *sql.Tx) error {
		dev := nullString(a.DeviceID)
		if dev.Valid {
			if err := deviceExists(ctx, tx, s.org, a.DeviceID); err != nil {
				return err
			}
		} else if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		report := []byte(a.Report)
		if report == nil {
			report = []byte{}
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO audits (org_id, device_id, kind, at, verdict, headline, failing, report)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.org, dev, a.Kind, micros(a.At), a.Verdict, a.Headline, a.Failing, report).Scan(&a.ID)
	})
	if err != nil {
		return store.Audit{}, err
	}
	return a, nil
}

const auditColumns = "id, device_id, kind, at, verdict, headline, failing, report"

func scanAudit(row interface{ Scan(...any) error }) (store.Audit, error) {
	var a store.Audit
	var dev sql.NullString
	var at int64
	var report []byte
	err := row.Scan(&a.ID, &dev, &a.Kind, &at, &a.Verdict, &a.Headline, &a.Failing, &report)
	a.DeviceID, a.At = dev.String, fromMicros(at)
	if len(report) > 0 {
		a.Report = report
	}
	return a, err
}

// Audit implements store.AuditStore.
func (s *tenant) Audit(ctx context.Context, id int64) (store.Audit, error) {
	var a store.Audit
	err := s.read(ctx, "get audit", func(tx *sql.Tx) error {
		var err error
		a, err = scanAudit(tx.QueryRowContext(ctx, "SELECT "+auditColumns+" FROM audits WHERE org_id = ? AND id = ?", s.org, id))
		return notFound(err, "audit")
	})
	return a, err
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
	var out []store.Audit
	err = s.read(ctx, "list audits", func(tx *sql.Tx) error {
		where := []string{"org_id = ?"}
		args := []any{s.org}
		if f.DeviceID != "" {
			where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
		}
		if f.Kind != "" {
			where, args = append(where, "kind = ?"), append(args, f.Kind)
		}
		q := "SELECT " + auditColumns + " FROM audits WHERE " + strings.Join(where, " AND ")
		rows, err := tx.QueryContext(ctx, q+" ORDER BY at DESC, id DESC LIMIT ? OFFSET ?", append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAudit(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// PutChanges implements store.ChangeStore.
func (s *tenant) PutChanges(ctx context.Context, e store.ChangeEvent) (store.ChangeEvent, error) {
	e, err := store.PrepareChanges(e, s.now)
	if err != nil {
		return store.ChangeEvent{}, fmt.Errorf("put changes: %w", err)
	}
	err = s.write(ctx, "put changes", func(tx *sql.Tx) error {
		want := 2
		if e.FromSnapshot == e.ToSnapshot {
			want = 1
		}
		var n int
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM snapshots WHERE org_id = ? AND device_id = ? AND id IN (?, ?)",
			s.org, e.DeviceID, e.FromSnapshot, e.ToSnapshot).Scan(&n)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("snapshots of that device: %w", store.ErrNotFound)
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO change_events (org_id, device_id, from_snapshot, to_snapshot, at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			s.org, e.DeviceID, e.FromSnapshot, e.ToSnapshot, micros(e.At)).Scan(&e.ID)
		if err != nil || len(e.Changes) == 0 {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO changes (event_id, seq, path, what, kind, old, new, old_addr, new_addr, severity, words)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, c := range e.Changes {
			_, err := stmt.ExecContext(ctx, e.ID, i, c.Path, c.What, string(c.Kind), c.Old, c.New,
				addrText(c.OldAddr), addrText(c.NewAddr), c.Severity.String(), c.Words)
			if err != nil {
				return err
			}
		}
		return nil
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
	var out []store.ChangeEvent
	err = s.read(ctx, "list changes", func(tx *sql.Tx) error {
		q := "SELECT id, device_id, from_snapshot, to_snapshot, at FROM change_events WHERE org_id = ?"
		args := []any{s.org}
		if deviceID != "" {
			q, args = q+" AND device_id = ?", append(args, deviceID)
		}
		rows, err := tx.QueryContext(ctx, q+" ORDER BY at DESC, id DESC LIMIT ? OFFSET ?", append(args, limit, offset)...)
		if err != nil {
			return err
		}
		index := map[int64]int{}
		for rows.Next() {
			var e store.ChangeEvent
			var at int64
			if err := rows.Scan(&e.ID, &e.DeviceID, &e.FromSnapshot, &e.ToSnapshot, &at); err != nil {
				rows.Close()
				return err
			}
			e.At = fromMicros(at)
			index[e.ID] = len(out)
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
		if len(out) == 0 {
			return nil
		}
		ids := make([]any, len(out))
		for i, e := range out {
			ids[i] = e.ID
		}
		rows, err = tx.QueryContext(ctx, `
			SELECT event_id, path, what, kind, old, new, old_addr, new_addr, severity, words FROM changes
			WHERE event_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY event_id, seq`, ids...)
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
