// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/store"
)

const alertColumns = "id, device_id, kind, key, title, severity, detail, first_seen, last_seen, resolved_at, notified, last_notified, " +
	"acked_by, acked_at, suppressed_until"

func scanAlert(r row) (store.Alert, error) {
	var a store.Alert
	var sev, notified string
	var first, last time.Time
	var resolved, lastNotified, ackedAt, suppressed *time.Time
	err := r.Scan(&a.ID, &a.DeviceID, &a.Kind, &a.Key, &a.Title, &sev, &a.Detail, &first, &last,
		&resolved, &notified, &lastNotified, &a.AckedBy, &ackedAt, &suppressed)
	if err != nil {
		return a, err
	}
	a.FirstSeen, a.LastSeen = utc(first), utc(last)
	a.ResolvedAt, a.LastNotified = fromNull(resolved), fromNull(lastNotified)
	a.AckedAt, a.SuppressedUntil = fromNull(ackedAt), fromNull(suppressed)
	a.Notified = store.AlertState(notified)
	a.Severity, err = store.DecodeSeverity(sev)
	return a, err
}

// lockSeparator joins the parts of an advisory lock's name: a control
// character, which no identifier holds.
const lockSeparator = "\x1f"

// ReconcileAlerts implements store.AlertStore.
func (s *tenant) ReconcileAlerts(ctx context.Context, deviceID, kind string, at time.Time, present []store.Problem) (store.Reconciliation, error) {
	at, present, err := store.PrepareProblems(deviceID, kind, at, present)
	if err != nil {
		return store.Reconciliation{}, fmt.Errorf("reconcile alerts: %w", err)
	}
	var r store.Reconciliation
	err = s.write(ctx, "reconcile alerts", once, func(tx pgx.Tx) error {
		r = store.Reconciliation{}
		// One reconciliation of a device and kind at a time, in every
		// process: the second reads what the first wrote, instead of
		// both opening the same alert. The lock ends with the
		// transaction; a hash collision only serialises two unrelated
		// reconciliations.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
			s.org+lockSeparator+deviceID+lockSeparator+kind); err != nil {
			return err
		}
		if err := deviceExists(ctx, tx, s.org, deviceID); err != nil {
			return err
		}
		open, err := queryAll(ctx, tx, scanAlert, "SELECT "+alertColumns+` FROM alerts
			WHERE org_id = $1 AND device_id = $2 AND kind = $3 AND resolved_at IS NULL ORDER BY key`, s.org, deviceID, kind)
		if err != nil {
			return err
		}
		byKey := make(map[string]store.Alert, len(open))
		for _, a := range open {
			byKey[a.Key] = a
		}
		seen := make(map[string]bool, len(present))
		// The alerts seen again are updated in one statement, the ones
		// gone resolved in another: a run's cost does not grow with
		// round trips per alert.
		var ids []int64
		var titles, sevs, details []string
		for _, p := range present {
			seen[p.Key] = true
			a, ok := byKey[p.Key]
			if !ok {
				a = store.Alert{DeviceID: deviceID, Kind: kind, Problem: p, FirstSeen: at, LastSeen: at}
				err := tx.QueryRow(ctx, `
					INSERT INTO alerts (org_id, device_id, kind, key, title, severity, detail, first_seen, last_seen)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
					s.org, deviceID, kind, p.Key, p.Title, p.Severity.String(), p.Detail, at).Scan(&a.ID)
				if err != nil {
					return err
				}
				r.Opened = append(r.Opened, a)
				r.Open = append(r.Open, a)
				continue
			}
			changed := a.Problem != p
			a.Problem, a.LastSeen = p, at
			ids, titles, sevs, details = append(ids, a.ID), append(titles, p.Title), append(sevs, p.Severity.String()), append(details, p.Detail)
			if changed {
				r.Changed = append(r.Changed, a)
			}
			r.Open = append(r.Open, a)
		}
		if len(ids) > 0 {
			_, err := tx.Exec(ctx, `
				UPDATE alerts SET title = u.title, severity = u.severity, detail = u.detail, last_seen = $5
				FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, title, severity, detail)
				WHERE alerts.id = u.id`, ids, titles, sevs, details, at)
			if err != nil {
				return err
			}
		}
		var gone []int64
		for _, a := range open {
			if seen[a.Key] {
				continue
			}
			a.ResolvedAt = at
			gone = append(gone, a.ID)
			r.Resolved = append(r.Resolved, a)
		}
		if len(gone) > 0 {
			if _, err := tx.Exec(ctx, "UPDATE alerts SET resolved_at = $1 WHERE id = ANY($2)", at, gone); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Reconciliation{}, err
	}
	return r, nil
}

// PendingAlerts implements store.AlertStore.
func (s *tenant) PendingAlerts(ctx context.Context, deviceID string) ([]store.Alert, error) {
	if err := store.CheckOptionalDevice(deviceID); err != nil {
		return nil, fmt.Errorf("pending alerts: %w", err)
	}
	q := "SELECT " + alertColumns + ` FROM alerts WHERE org_id = $1
		AND notified <> CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'resolved' END
		AND (suppressed_until IS NULL OR suppressed_until <= $2)`
	args := []any{s.org, store.Timestamp(s.now())}
	if deviceID != "" {
		q, args = q+" AND device_id = $3", append(args, deviceID)
	}
	var out []store.Alert
	err := s.read(ctx, "pending alerts", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanAlert, q+" ORDER BY coalesce(resolved_at, first_seen), id", args...)
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
	return s.write(ctx, "mark notified", again, func(tx pgx.Tx) error {
		return execOne(ctx, tx, "alert", "UPDATE alerts SET notified = $1, last_notified = $2 WHERE org_id = $3 AND id = $4",
			string(state), at, s.org, alertID)
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
	var conds []string
	var args []any
	if f.DeviceID != "" {
		conds, args = append(conds, "device_id = ?"), append(args, f.DeviceID)
	}
	if f.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, f.Kind)
	}
	w, all := where(s.org, conds, args...)
	switch f.State {
	case store.AlertOpen:
		w += " AND resolved_at IS NULL"
	case store.AlertResolved:
		w += " AND resolved_at IS NOT NULL"
	}
	q := fmt.Sprintf("SELECT %s FROM alerts%s ORDER BY first_seen DESC, id DESC LIMIT $%d OFFSET $%d", alertColumns, w, len(all)+1, len(all)+2)
	var out []store.Alert
	err = s.read(ctx, "list alerts", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanAlert, q, append(all, limit, offset)...)
		return err
	})
	return out, err
}

// Alert implements store.AlertStore.
func (s *tenant) Alert(ctx context.Context, id int64) (store.Alert, error) {
	var a store.Alert
	err := s.read(ctx, "get alert", func(tx pgx.Tx) error {
		var err error
		a, err = scanAlert(tx.QueryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "alert")
	})
	return a, err
}

// updateAlert runs an UPDATE of one alert of the organisation (set, with
// its parameters $1 to $len(args)) and returns the alert as it is then.
func (s *tenant) updateAlert(ctx context.Context, op string, id int64, set string, args ...any) (store.Alert, error) {
	q := fmt.Sprintf("UPDATE alerts SET %s WHERE org_id = $%d AND id = $%d RETURNING %s", set, len(args)+1, len(args)+2, alertColumns)
	var a store.Alert
	err := s.write(ctx, op, again, func(tx pgx.Tx) error {
		var err error
		a, err = scanAlert(tx.QueryRow(ctx, q, append(args, s.org, id)...))
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
	return s.updateAlert(ctx, "acknowledge alert", id, "acked_by = $1, acked_at = $2", by, at)
}

// SuppressAlert implements store.AlertStore.
func (s *tenant) SuppressAlert(ctx context.Context, id int64, until time.Time) (store.Alert, error) {
	until, err := store.CheckSuppress(id, until)
	if err != nil {
		return store.Alert{}, fmt.Errorf("suppress alert: %w", err)
	}
	return s.updateAlert(ctx, "suppress alert", id, "suppressed_until = $1", nullTime(until))
}
