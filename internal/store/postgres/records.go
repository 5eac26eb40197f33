// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
)

// PutDevice implements store.DeviceStore.
func (s *tenant) PutDevice(ctx context.Context, d store.Device) (store.Device, error) {
	d, err := store.PrepareDevice(d)
	if err != nil {
		return store.Device{}, fmt.Errorf("put device: %w", err)
	}
	now := store.Timestamp(s.now())
	err = s.write(ctx, "put device", again, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, s.org); err != nil {
			return err
		}
		if d.Site != "" {
			if err := siteExists(ctx, tx, s.org, d.Site); err != nil {
				return err
			}
		}
		var created, updated time.Time
		err := tx.QueryRow(ctx, `
			INSERT INTO devices (org_id, id, site, address, adapter, label, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (org_id, id) DO UPDATE SET site = excluded.site, address = excluded.address,
				adapter = excluded.adapter, label = excluded.label, updated_at = excluded.updated_at
			RETURNING created_at, updated_at`,
			s.org, d.ID, nullString(d.Site), d.Address, d.Adapter, d.Label, now).Scan(&created, &updated)
		d.CreatedAt, d.UpdatedAt = utc(created), utc(updated)
		return err
	})
	if err != nil {
		return store.Device{}, err
	}
	return d, nil
}

const deviceColumns = "id, site, address, adapter, label, created_at, updated_at"

func scanDevice(r row) (store.Device, error) {
	var d store.Device
	var site *string
	var created, updated time.Time
	err := r.Scan(&d.ID, &site, &d.Address, &d.Adapter, &d.Label, &created, &updated)
	d.Site, d.CreatedAt, d.UpdatedAt = fromNullString(site), utc(created), utc(updated)
	return d, err
}

// Device implements store.DeviceStore.
func (s *tenant) Device(ctx context.Context, id string) (store.Device, error) {
	if err := store.CheckID("device ID", id); err != nil {
		return store.Device{}, fmt.Errorf("get device: %w", err)
	}
	var d store.Device
	err := s.read(ctx, "get device", func(tx pgx.Tx) error {
		var err error
		d, err = scanDevice(tx.QueryRow(ctx, "SELECT "+deviceColumns+" FROM devices WHERE org_id = $1 AND id = $2", s.org, id))
		return notFound(err, "device")
	})
	return d, err
}

// Devices implements store.DeviceStore.
func (s *tenant) Devices(ctx context.Context) ([]store.Device, error) {
	var out []store.Device
	err := s.read(ctx, "list devices", func(tx pgx.Tx) error {
		var err error
		// NULL (no site) first, as SQLite orders it.
		out, err = queryAll(ctx, tx, scanDevice, "SELECT "+deviceColumns+" FROM devices WHERE org_id = $1 ORDER BY site NULLS FIRST, id", s.org)
		return err
	})
	return out, err
}

// PutSnapshot implements store.SnapshotStore.
func (s *tenant) PutSnapshot(ctx context.Context, deviceID string, snap *device.Snapshot) (store.SnapshotMeta, error) {
	if err := store.CheckID("device ID", deviceID); err != nil {
		return store.SnapshotMeta{}, fmt.Errorf("put snapshot: %w", err)
	}
	e, err := store.EncodeSnapshot(snap)
	if err != nil {
		return store.SnapshotMeta{}, fmt.Errorf("put snapshot: %w", err)
	}
	m := store.SnapshotMeta{
		DeviceID:   deviceID,
		Adapter:    e.Adapter,
		Target:     e.Target,
		TakenAt:    e.TakenAt,
		StoredAt:   store.Timestamp(s.now()),
		ConfigHash: e.ConfigHash,
		Artifacts:  len(e.Raw),
		RawBytes:   e.RawBytes,
		Warnings:   e.WarningCount,
	}
	err = s.write(ctx, "put snapshot", once, func(tx pgx.Tx) error {
		if err := deviceExists(ctx, tx, s.org, deviceID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO snapshots (org_id, device_id, adapter, target, taken_at, stored_at, config_hash, config,
				warnings, n_warnings, n_artifacts, raw_bytes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			s.org, deviceID, e.Adapter, addrText(e.Target), e.TakenAt, m.StoredAt, e.ConfigHash, e.Config,
			e.Warnings, e.WarningCount, len(e.Raw), e.RawBytes).Scan(&m.ID)
		if err != nil || len(e.Raw) == 0 {
			return err
		}
		// COPY: one round trip for every artifact, bodies in binary.
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"snapshot_artifacts"},
			[]string{"snapshot_id", "seq", "name", "content_type", "body", "redacted"},
			pgx.CopyFromSlice(len(e.Raw), func(i int) ([]any, error) {
				a := e.Raw[i]
				return []any{m.ID, i, a.Name, a.ContentType, notNil(a.Body), a.Redacted}, nil
			}))
		return err
	})
	if err != nil {
		return store.SnapshotMeta{}, err
	}
	return m, nil
}

const snapshotColumns = "id, device_id, adapter, target, taken_at, stored_at, config_hash, n_artifacts, raw_bytes, n_warnings"

func scanSnapshotMeta(r row, extra ...any) (store.SnapshotMeta, error) {
	var m store.SnapshotMeta
	var target string
	var taken, stored time.Time
	err := r.Scan(append([]any{&m.ID, &m.DeviceID, &m.Adapter, &target, &taken, &stored, &m.ConfigHash,
		&m.Artifacts, &m.RawBytes, &m.Warnings}, extra...)...)
	if err != nil {
		return m, err
	}
	m.TakenAt, m.StoredAt = utc(taken), utc(stored)
	m.Target, err = parseAddr("snapshot target", target)
	return m, err
}

// loadSnapshot reads the snapshot the query (selecting snapshotColumns,
// config, warnings) finds, with its artifacts, in tx.
func loadSnapshot(ctx context.Context, tx pgx.Tx, query string, args ...any) (store.StoredSnapshot, error) {
	var config, warnings []byte
	m, err := scanSnapshotMeta(tx.QueryRow(ctx, query, args...), &config, &warnings)
	if err != nil {
		return store.StoredSnapshot{}, notFound(err, "snapshot")
	}
	raw, err := queryAll(ctx, tx, func(r row) (device.Artifact, error) {
		var a device.Artifact
		err := r.Scan(&a.Name, &a.ContentType, &a.Body, &a.Redacted)
		return a, err
	}, "SELECT name, content_type, body, redacted FROM snapshot_artifacts WHERE snapshot_id = $1 ORDER BY seq", m.ID)
	if err != nil {
		return store.StoredSnapshot{}, err
	}
	if len(raw) != m.Artifacts {
		return store.StoredSnapshot{}, fmt.Errorf("snapshot %d: %d of its %d raw artifacts are stored", m.ID, len(raw), m.Artifacts)
	}
	return store.DecodeSnapshot(m, config, warnings, raw)
}

// Snapshot implements store.SnapshotStore.
func (s *tenant) Snapshot(ctx context.Context, id int64) (store.StoredSnapshot, error) {
	var out store.StoredSnapshot
	err := s.read(ctx, "get snapshot", func(tx pgx.Tx) error {
		var err error
		out, err = loadSnapshot(ctx, tx, "SELECT "+snapshotColumns+", config, warnings FROM snapshots WHERE org_id = $1 AND id = $2", s.org, id)
		return err
	})
	return out, err
}

// LatestSnapshot implements store.SnapshotStore.
func (s *tenant) LatestSnapshot(ctx context.Context, deviceID string) (store.StoredSnapshot, error) {
	if err := store.CheckID("device ID", deviceID); err != nil {
		return store.StoredSnapshot{}, fmt.Errorf("latest snapshot: %w", err)
	}
	var out store.StoredSnapshot
	err := s.read(ctx, "latest snapshot", func(tx pgx.Tx) error {
		var err error
		out, err = loadSnapshot(ctx, tx, "SELECT "+snapshotColumns+`, config, warnings FROM snapshots
			WHERE org_id = $1 AND device_id = $2 ORDER BY taken_at DESC, id DESC LIMIT 1`, s.org, deviceID)
		return err
	})
	return out, err
}

// Snapshots implements store.SnapshotStore.
func (s *tenant) Snapshots(ctx context.Context, deviceID string, p store.Page) ([]store.SnapshotMeta, error) {
	if err := store.CheckID("device ID", deviceID); err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []store.SnapshotMeta
	err = s.read(ctx, "list snapshots", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(r row) (store.SnapshotMeta, error) { return scanSnapshotMeta(r) },
			"SELECT "+snapshotColumns+` FROM snapshots WHERE org_id = $1 AND device_id = $2
			ORDER BY taken_at DESC, id DESC LIMIT $3 OFFSET $4`, s.org, deviceID, limit, offset)
		return err
	})
	return out, err
}

// CountSnapshots implements store.SnapshotStore.
func (s *tenant) CountSnapshots(ctx context.Context, deviceID string) (int, error) {
	if err := store.CheckID("device ID", deviceID); err != nil {
		return 0, fmt.Errorf("count snapshots: %w", err)
	}
	var n int
	err := s.read(ctx, "count snapshots", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT count(*) FROM snapshots WHERE org_id = $1 AND device_id = $2", s.org, deviceID).Scan(&n)
	})
	return n, err
}

// SetBaseline implements store.BaselineStore.
func (s *tenant) SetBaseline(ctx context.Context, b store.Baseline) (store.Baseline, error) {
	b, err := store.PrepareBaseline(b, s.now)
	if err != nil {
		return store.Baseline{}, fmt.Errorf("set baseline: %w", err)
	}
	err = s.write(ctx, "set baseline", once, func(tx pgx.Tx) error {
		err := exists(ctx, tx, "snapshot of that device", "SELECT 1 FROM snapshots WHERE org_id = $1 AND id = $2 AND device_id = $3",
			s.org, b.SnapshotID, b.DeviceID)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO baselines (org_id, device_id, snapshot_id, set_at, note) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			s.org, b.DeviceID, b.SnapshotID, b.SetAt, b.Note).Scan(&b.ID)
	})
	if err != nil {
		return store.Baseline{}, err
	}
	return b, nil
}

const baselineColumns = "id, device_id, snapshot_id, set_at, note"

func scanBaseline(r row) (store.Baseline, error) {
	var b store.Baseline
	var at time.Time
	err := r.Scan(&b.ID, &b.DeviceID, &b.SnapshotID, &at, &b.Note)
	b.SetAt = utc(at)
	return b, err
}

// Baseline implements store.BaselineStore.
func (s *tenant) Baseline(ctx context.Context, deviceID string) (store.Baseline, error) {
	if err := store.CheckID("device ID", deviceID); err != nil {
		return store.Baseline{}, fmt.Errorf("get baseline: %w", err)
	}
	var b store.Baseline
	err := s.read(ctx, "get baseline", func(tx pgx.Tx) error {
		var err error
		b, err = scanBaseline(tx.QueryRow(ctx, "SELECT "+baselineColumns+` FROM baselines
			WHERE org_id = $1 AND device_id = $2 ORDER BY id DESC LIMIT 1`, s.org, deviceID))
		return notFound(err, "baseline")
	})
	return b, err
}

// Baselines implements store.BaselineStore.
func (s *tenant) Baselines(ctx context.Context, deviceID string, p store.Page) ([]store.Baseline, error) {
	if err := store.CheckID("device ID", deviceID); err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	limit, offset, err := p.Window()
	if err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	var out []store.Baseline
	err = s.read(ctx, "list baselines", func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanBaseline, "SELECT "+baselineColumns+` FROM baselines
			WHERE org_id = $1 AND device_id = $2 ORDER BY id DESC LIMIT $3 OFFSET $4`, s.org, deviceID, limit, offset)
		return err
	})
	return out, err
}
