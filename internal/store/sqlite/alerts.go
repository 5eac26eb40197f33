// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

const alertColumns = "id, device_id, kind, key, title, severity, detail, first_seen, last_seen, resolved_at, notified, last_notified, " +
	"acked_by, acked_at, suppressed_until"

func scanAlert(row interface{ Scan(...any) error }) (store.Alert, error) {
	var a store.Alert
	var sev, notified string
	var first, last int64
	var resolved, lastNotified, ackedAt, suppressed sql.NullInt64
	err := row.Scan(&a.ID, &a.DeviceID, &a.Kind, &a.Key, &a.Title, &sev, &a.Detail, &first, &last,
		&resolved, &notified, &lastNotified, &a.AckedBy, &ackedAt, &suppressed)
	if err != nil {
		return a, err
	}
	a.FirstSeen, a.LastSeen = fromMicros(first), fromMicros(last)
	a.ResolvedAt, a.LastNotified = fromNullMicros(resolved), fromNullMicros(lastNotified)
	a.AckedAt, a.SuppressedUntil = fromNullMicros(ackedAt), fromNullMicros(suppressed)
	a.Notified = store.AlertState(notified)
	a.Severity, err = store.DecodeSeverity(sev)
	return a, err
}

func queryAlerts(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]store.Alert, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReconcileAlerts implements store.AlertStore.
func (s *tenant) ReconcileAlerts(ctx context.Context, deviceID, kind string, at time.Time, present []store.Problem) (store.Reconciliation, error) {
	at, present, err := store.PrepareProblems(deviceID, kind, at, present)
	if err != nil {
		return store.Reconciliation{}, fmt.Errorf("reconcile alerts: %w", err)
	}
	var r store.Reconciliation
	err = s.write(ctx, "reconcile alerts", func(tx *sql.Tx) error {
		r = store.Reconciliation{}
		if err := deviceExists(ctx, tx, s.org, deviceID); err != nil {
			return err
		}
		open, err := queryAlerts(ctx, tx, "SELECT "+alertColumns+` FROM alerts
			WHERE org_id = ? AND device_id = ? AND kind = ? AND resolved_at IS NULL ORDER BY key`, s.org, deviceID, kind)
		if err != nil {
			return err
		}
		byKey := make(map[string]store.Alert, len(open))
		for _, a := range open {
			byKey[a.Key] = a
		}
		seen := make(map[string]bool, len(present))
		for _, p := range present {
			seen[p.Key] = true
			a, ok := byKey[p.Key]
			if !ok {
				a = store.Alert{DeviceID: deviceID, Kind: kind, Problem: p, FirstSeen: at, LastSeen: at}
				err := tx.QueryRowContext(ctx, `
					INSERT INTO alerts (org_id, device_id, kind, key, title, severity, detail, first_seen, last_seen)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
					s.org, deviceID, kind, p.Key, p.Title, p.Severity.String(), p.Detail, micros(at), micros(at)).Scan(&a.ID)
				if err != nil {
					return err
				}
				r.Opened = append(r.Opened, a)
				r.Open = append(r.Open, a)
				continue
			}
			changed := a.Problem != p
			a.Problem, a.LastSeen = p, at
			_, err := tx.ExecContext(ctx, `
				UPDATE alerts SET title = ?, severity = ?, detail = ?, last_seen = ? WHERE id = ?`,
				p.Title, p.Severity.String(), p.Detail, micros(at), a.ID)
			if err != nil {
				return err
			}
			if changed {
				r.Changed = append(r.Changed, a)
			}
			r.Open = append(r.Open, a)
		}
		for _, a := range open {
			if seen[a.Key] {
				continue
			}
			a.ResolvedAt = at
			if _, err := tx.ExecContext(ctx, "UPDATE alerts SET resolved_at = ? WHERE id = ?", micros(at), a.ID); err != nil {
				return err
			}
			r.Resolved = append(r.Resolved, a)
		}
		return nil
	})
	if err != nil {
		return store.Reconciliation{}, err
	}
	return r, nil
}

// pendingWhere selects alerts whose state was not notified and that are
// not suppressed at the time given as its parameter.
const pendingWhere = "notified <> CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'resolved' END" +
	" AND (suppressed_until IS NULL OR suppressed_until <= ?)"

// PendingAlerts implements store.AlertStore.
func (s *tenant) PendingAlerts(ctx context.Context, deviceID string) ([]store.Alert, error) {
	if err := store.CheckOptionalDevice(deviceID); err != nil {
		return nil, fmt.Errorf("pending alerts: %w", err)
	}
	var out []store.Alert
	err := s.read(ctx, "pending alerts", func(tx *sql.Tx) error {
		q := "SELECT " + alertColumns + " FROM alerts WHERE org_id = ? AND " + pendingWhere
		args := []any{s.org, micros(store.Timestamp(s.now()))}
		if deviceID != "" {
			q, args = q+" AND device_id = ?", append(args, deviceID)
		}
		var err error
		out, err = queryAlerts(ctx, tx, q+" ORDER BY coalesce(resolved_at, first_seen), id", args...)
		return err
	})
	return out, err
}

// MarkNotified implements store.AlertStore.
func (s *tenant) MarkNotified(ctx context.Context, alertID int64, state store.AlertState, at time.Time) error {
	at, err := store.CheckNotice(alertID, state, at)
	if err != nil {
		return fmt.Errorf("mark notified: %w", err)
	}
	return s.write(ctx, "mark notified", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE alerts SET notified = ?, last_notified = ? WHERE org_id = ? AND id = ?",
			string(state), micros(at), s.org, alertID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("alert: %w", store.ErrNotFound)
		}
		return nil
	})
}

// Alerts implements store.AlertStore.
func (s *tenant) Alerts(ctx context.Context, f store.AlertFilter, p store.Page) ([]store.Alert, error) {
	if err := store.CheckAlertFilter(f); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	var out []store.Alert
	err = s.read(ctx, "list alerts", func(tx *sql.Tx) error {
		where := []string{"org_id = ?"}
		args := []any{s.org}
		if f.DeviceID != "" {
			where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
		}
		if f.Kind != "" {
			where, args = append(where, "kind = ?"), append(args, f.Kind)
		}
		switch f.State {
		case store.AlertOpen:
			where = append(where, "resolved_at IS NULL")
		case store.AlertResolved:
			where = append(where, "resolved_at IS NOT NULL")
		}
		q := "SELECT " + alertColumns + " FROM alerts WHERE " + strings.Join(where, " AND ")
		var err error
		out, err = queryAlerts(ctx, tx, q+" ORDER BY first_seen DESC, id DESC LIMIT ? OFFSET ?", append(args, limit, offset)...)
		return err
	})
	return out, err
}

// Alert implements store.AlertStore.
func (s *tenant) Alert(ctx context.Context, id int64) (store.Alert, error) {
	var a store.Alert
	err := s.read(ctx, "get alert", func(tx *sql.Tx) error {
		var err error
		a, err = scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE org_id = ? AND id = ?", s.org, id))
		return notFound(err, "alert")
	})
	return a, err
}

// updateAlert runs an UPDATE of one alert of the organisation (set, with
// its arguments) and returns the alert as it is then.
func (s *tenant) updateAlert(ctx context.Context, op string, id int64, set string, args ...any) (store.Alert, error) {
	var a store.Alert
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		a, err = scanAlert(tx.QueryRowContext(ctx, "UPDATE alerts SET "+set+" WHERE org_id = ? AND id = ? RETURNING "+alertColumns,
			append(args, s.org, id)...))
		return notFound(err, "alert")
	})
	return a, err
}

// AckAlert implements store.AlertStore.
func (s *tenant) AckAlert(ctx context.Context, id int64, by string, at time.Time) (store.Alert, error) {
	by, at, err := store.CheckAck(id, by, at, s.now)
	if err != nil {
		return store.Alert{}, fmt.Errorf("acknowledge alert: %w", err)
	}
	return s.updateAlert(ctx, "acknowledge alert", id, "acked_by = ?, acked_at = ?", by, micros(at))
}

// SuppressAlert implements store.AlertStore.
func (s *tenant) SuppressAlert(ctx context.Context, id int64, until time.Time) (store.Alert, error) {
	until, err := store.CheckSuppress(id, until)
	if err != nil {
		return store.Alert{}, fmt.Errorf("suppress alert: %w", err)
	}
	return s.updateAlert(ctx, "suppress alert", id, "suppressed_until = ?", nullMicros(until))
}
