-- The first schema of the routerwatch store. Times are INTEGER microseconds
-- since the Unix epoch, UTC (the precision of the store contract); JSON and
-- raw bodies are BLOBs kept byte for byte. STRICT tables refuse a value of
-- the wrong type instead of converting it.

-- +goose Up
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    site       TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT '',
    adapter    TEXT NOT NULL DEFAULT '',
    label      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_site ON devices (site, id);

-- AUTOINCREMENT: an ID is never reused, even after the newest row is
-- deleted, so an ID reported to a user always means the same snapshot.
CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    adapter     TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    taken_at    INTEGER NOT NULL,
    stored_at   INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    config      BLOB NOT NULL,
    warnings    BLOB NOT NULL,
    n_warnings  INTEGER NOT NULL,
    n_artifacts INTEGER NOT NULL,
    raw_bytes   INTEGER NOT NULL
) STRICT;
CREATE INDEX snapshots_history ON snapshots (device_id, taken_at DESC, id DESC);

CREATE TABLE snapshot_artifacts (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    redacted     INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
) STRICT;

CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
    set_at      INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX baselines_history ON baselines (device_id, id DESC);

CREATE TABLE audits (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT REFERENCES devices (id),
    kind      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    verdict   TEXT NOT NULL,
    headline  TEXT NOT NULL,
    failing   INTEGER NOT NULL,
    report    BLOB NOT NULL
) STRICT;
CREATE INDEX audits_history ON audits (at DESC, id DESC);
CREATE INDEX audits_device ON audits (device_id, at DESC, id DESC);

CREATE TABLE change_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT NOT NULL REFERENCES devices (id),
    from_snapshot INTEGER NOT NULL REFERENCES snapshots (id),
    to_snapshot   INTEGER NOT NULL REFERENCES snapshots (id),
    at            INTEGER NOT NULL
) STRICT;
CREATE INDEX change_events_history ON change_events (device_id, at DESC, id DESC);
CREATE INDEX change_events_all ON change_events (at DESC, id DESC);

CREATE TABLE changes (
    event_id INTEGER NOT NULL REFERENCES change_events (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    path     TEXT NOT NULL,
    what     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    old      TEXT NOT NULL,
    new      TEXT NOT NULL,
    old_addr TEXT NOT NULL,
    new_addr TEXT NOT NULL,
    severity TEXT NOT NULL,
    words    TEXT NOT NULL,
    PRIMARY KEY (event_id, seq)
) STRICT;

-- One row per alert from first seen to resolved; the partial index keeps
-- at most one OPEN alert per device, kind and key, whatever the writers do.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT NOT NULL REFERENCES devices (id),
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    title         TEXT NOT NULL,
    severity      TEXT NOT NULL,
    detail        TEXT NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    resolved_at   INTEGER,
    notified      TEXT NOT NULL DEFAULT '',
    last_notified INTEGER
) STRICT;
CREATE UNIQUE INDEX alerts_open ON alerts (device_id, kind, key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_history ON alerts (device_id, first_seen DESC, id DESC);

-- +goose Down
DROP TABLE alerts;
DROP TABLE changes;
DROP TABLE change_events;
DROP TABLE audits;
DROP TABLE baselines;
DROP TABLE snapshot_artifacts;
DROP TABLE snapshots;
DROP TABLE devices;
