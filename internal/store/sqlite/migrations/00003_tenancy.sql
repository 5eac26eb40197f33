-- Organisations and everything a fleet keeps per organisation: sites,
-- users, API tokens, sessions, the audit log, alert acknowledgement and
-- suppression, range audits.
--
-- A device's key becomes (organisation, ID), so every table that names a
-- device gains the organisation and is rebuilt (SQLite cannot change a
-- key or a foreign key in place). The rebuild keeps foreign keys on:
-- each old table is renamed first (which rewrites the references to it),
-- the new tables are made and filled, and the old ones are dropped
-- children first, so that no drop cascades into kept rows. The data of
-- a single site goes to the organisation 'default'; a device's old site
-- label becomes a site of that name. IDs keep their values and their
-- AUTOINCREMENT sequences.

-- +goose Up
CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO orgs (id, name, created_at)
VALUES ('default', 'Default', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));

-- schedule: nanoseconds (a Go time.Duration), 0 for the server's default.
CREATE TABLE sites (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    public_addr TEXT NOT NULL DEFAULT '',
    schedule    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
INSERT INTO sites (org_id, id, name, created_at, updated_at)
SELECT 'default', site, site, min(created_at), max(updated_at) FROM devices WHERE site <> '' GROUP BY site;

ALTER TABLE devices RENAME TO old_devices;
ALTER TABLE snapshots RENAME TO old_snapshots;
ALTER TABLE change_events RENAME TO old_change_events;
ALTER TABLE snapshot_artifacts RENAME TO old_snapshot_artifacts;
ALTER TABLE baselines RENAME TO old_baselines;
ALTER TABLE audits RENAME TO old_audits;
ALTER TABLE changes RENAME TO old_changes;
ALTER TABLE alerts RENAME TO old_alerts;

-- site is NULL for a device at no site: the composite foreign key is
-- then not checked.
CREATE TABLE devices (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    site       TEXT,
    address    TEXT NOT NULL DEFAULT '',
    adapter    TEXT NOT NULL DEFAULT '',
    label      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, site) REFERENCES sites (org_id, id)
) STRICT;
INSERT INTO devices (org_id, id, site, address, adapter, label, created_at, updated_at)
SELECT 'default', id, NULLIF(site, ''), address, adapter, label, created_at, updated_at FROM old_devices;

CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    adapter     TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    taken_at    INTEGER NOT NULL,
    stored_at   INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    config      BLOB NOT NULL,
    warnings    BLOB NOT NULL,
    n_warnings  INTEGER NOT NULL,
    n_artifacts INTEGER NOT NULL,
    raw_bytes   INTEGER NOT NULL,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
INSERT INTO snapshots (id, org_id, device_id, adapter, target, taken_at, stored_at, config_hash, config,
    warnings, n_warnings, n_artifacts, raw_bytes)
SELECT id, 'default', device_id, adapter, target, taken_at, stored_at, config_hash, config,
    warnings, n_warnings, n_artifacts, raw_bytes FROM old_snapshots;

CREATE TABLE snapshot_artifacts (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    redacted     INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
) STRICT;
INSERT INTO snapshot_artifacts (snapshot_id, seq, name, content_type, body, redacted)
SELECT snapshot_id, seq, name, content_type, body, redacted FROM old_snapshot_artifacts;

CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
    set_at      INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
INSERT INTO baselines (id, org_id, device_id, snapshot_id, set_at, note)
SELECT id, 'default', device_id, snapshot_id, set_at, note FROM old_baselines;

-- device_id is NULL for an audit of the network, not of a device.
CREATE TABLE audits (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id    TEXT NOT NULL REFERENCES orgs (id),
    device_id TEXT,
    kind      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    verdict   TEXT NOT NULL,
    headline  TEXT NOT NULL,
    failing   INTEGER NOT NULL,
    report    BLOB NOT NULL,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
INSERT INTO audits (id, org_id, device_id, kind, at, verdict, headline, failing, report)
SELECT id, 'default', device_id, kind, at, verdict, headline, failing, report FROM old_audits;

CREATE TABLE change_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    from_snapshot INTEGER NOT NULL REFERENCES snapshots (id),
    to_snapshot   INTEGER NOT NULL REFERENCES snapshots (id),
    at            INTEGER NOT NULL,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
INSERT INTO change_events (id, org_id, device_id, from_snapshot, to_snapshot, at)
SELECT id, 'default', device_id, from_snapshot, to_snapshot, at FROM old_change_events;

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
INSERT INTO changes (event_id, seq, path, what, kind, old, new, old_addr, new_addr, severity, words)
SELECT event_id, seq, path, what, kind, old, new, old_addr, new_addr, severity, words FROM old_changes;

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id           TEXT NOT NULL,
    device_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    key              TEXT NOT NULL,
    title            TEXT NOT NULL,
    severity         TEXT NOT NULL,
    detail           TEXT NOT NULL,
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    resolved_at      INTEGER,
    notified         TEXT NOT NULL DEFAULT '',
    last_notified    INTEGER,
    acked_by         TEXT NOT NULL DEFAULT '',
    acked_at         INTEGER,
    suppressed_until INTEGER,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
INSERT INTO alerts (id, org_id, device_id, kind, key, title, severity, detail, first_seen, last_seen,
    resolved_at, notified, last_notified)
SELECT id, 'default', device_id, kind, key, title, severity, detail, first_seen, last_seen,
    resolved_at, notified, last_notified FROM old_alerts;

-- The renamed tables took their sequences along; the new ones continue
-- them, so that an ID is never reused.
DELETE FROM sqlite_sequence WHERE name IN ('snapshots', 'baselines', 'audits', 'change_events', 'alerts');
INSERT INTO sqlite_sequence (name, seq)
SELECT substr(name, 5), seq FROM sqlite_sequence
WHERE name IN ('old_snapshots', 'old_baselines', 'old_audits', 'old_change_events', 'old_alerts');

DROP TABLE old_changes;
DROP TABLE old_snapshot_artifacts;
DROP TABLE old_alerts;
DROP TABLE old_change_events;
DROP TABLE old_baselines;
DROP TABLE old_audits;
DROP TABLE old_snapshots;
DROP TABLE old_devices;

CREATE INDEX devices_site ON devices (org_id, site, id);
CREATE INDEX snapshots_history ON snapshots (org_id, device_id, taken_at DESC, id DESC);
CREATE INDEX baselines_history ON baselines (org_id, device_id, id DESC);
CREATE INDEX audits_history ON audits (org_id, at DESC, id DESC);
CREATE INDEX audits_device ON audits (org_id, device_id, at DESC, id DESC);
CREATE INDEX change_events_history ON change_events (org_id, device_id, at DESC, id DESC);
CREATE INDEX change_events_all ON change_events (org_id, at DESC, id DESC);
-- At most one OPEN alert per device, kind and key, whatever the writers do.
CREATE UNIQUE INDEX alerts_open ON alerts (org_id, device_id, kind, key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_history ON alerts (org_id, device_id, first_seen DESC, id DESC);
CREATE INDEX alerts_all ON alerts (org_id, first_seen DESC, id DESC);

-- name_key is the login name compared without ASCII case (store.LoginKey),
-- unique over every organisation.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    last_login    INTEGER
) STRICT;
CREATE INDEX users_org ON users (org_id, name_key);

-- hash: SHA-256 of the token's secret; the secret is never stored.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    site_id    TEXT,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    prefix     TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used  INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER,
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id)
) STRICT;
CREATE INDEX tokens_org ON tokens (org_id, created_at DESC, id DESC);

-- id: SHA-256 of the session cookie's secret.
CREATE TABLE sessions (
    id          BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    csrf_hash   BLOB,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_log_history ON audit_log (org_id, at DESC, id DESC);

-- prefixes: a JSON array of prefixes, in the order given.
CREATE TABLE range_scopes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    prefixes        BLOB NOT NULL,
    owner           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    per_prefix_rate REAL NOT NULL
) STRICT;
CREATE INDEX range_scopes_org ON range_scopes (org_id, created_at DESC, id DESC);

CREATE TABLE range_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    scope_id    INTEGER NOT NULL REFERENCES range_scopes (id),
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    state       TEXT NOT NULL
) STRICT;
CREATE INDEX range_runs_scope ON range_runs (org_id, scope_id, started_at DESC, id DESC);

-- addr: store.AddrKey (16 bytes, IPv4 mapped), so that the addresses of
-- a prefix are one range of the primary key.
CREATE TABLE range_records (
    run_id         INTEGER NOT NULL REFERENCES range_runs (id),
    addr           BLOB NOT NULL,
    prefix         TEXT NOT NULL,
    record         BLOB NOT NULL,
    live           INTEGER NOT NULL,
    failing        INTEGER NOT NULL,
    worst_severity TEXT NOT NULL,
    model          TEXT NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (run_id, addr)
) STRICT;

-- +goose Down
-- Back to one organisation: only the default organisation's data is
-- kept; a device's site becomes its label again.
DROP TABLE range_records;
DROP TABLE range_runs;
DROP TABLE range_scopes;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE tokens;
DROP TABLE users;

ALTER TABLE devices RENAME TO new_devices;
ALTER TABLE snapshots RENAME TO new_snapshots;
ALTER TABLE change_events RENAME TO new_change_events;
ALTER TABLE snapshot_artifacts RENAME TO new_snapshot_artifacts;
ALTER TABLE baselines RENAME TO new_baselines;
ALTER TABLE audits RENAME TO new_audits;
ALTER TABLE changes RENAME TO new_changes;
ALTER TABLE alerts RENAME TO new_alerts;

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    site       TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT '',
    adapter    TEXT NOT NULL DEFAULT '',
    label      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO devices (id, site, address, adapter, label, created_at, updated_at)
SELECT id, coalesce(site, ''), address, adapter, label, created_at, updated_at FROM new_devices WHERE org_id = 'default';

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
INSERT INTO snapshots (id, device_id, adapter, target, taken_at, stored_at, config_hash, config,
    warnings, n_warnings, n_artifacts, raw_bytes)
SELECT id, device_id, adapter, target, taken_at, stored_at, config_hash, config,
    warnings, n_warnings, n_artifacts, raw_bytes FROM new_snapshots WHERE org_id = 'default';

CREATE TABLE snapshot_artifacts (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    redacted     INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
) STRICT;
INSERT INTO snapshot_artifacts (snapshot_id, seq, name, content_type, body, redacted)
SELECT a.snapshot_id, a.seq, a.name, a.content_type, a.body, a.redacted
FROM new_snapshot_artifacts a JOIN new_snapshots s ON s.id = a.snapshot_id WHERE s.org_id = 'default';

CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
    set_at      INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO baselines (id, device_id, snapshot_id, set_at, note)
SELECT id, device_id, snapshot_id, set_at, note FROM new_baselines WHERE org_id = 'default';

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
INSERT INTO audits (id, device_id, kind, at, verdict, headline, failing, report)
SELECT id, device_id, kind, at, verdict, headline, failing, report FROM new_audits WHERE org_id = 'default';

CREATE TABLE change_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT NOT NULL REFERENCES devices (id),
    from_snapshot INTEGER NOT NULL REFERENCES snapshots (id),
    to_snapshot   INTEGER NOT NULL REFERENCES snapshots (id),
    at            INTEGER NOT NULL
) STRICT;
INSERT INTO change_events (id, device_id, from_snapshot, to_snapshot, at)
SELECT id, device_id, from_snapshot, to_snapshot, at FROM new_change_events WHERE org_id = 'default';

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
INSERT INTO changes (event_id, seq, path, what, kind, old, new, old_addr, new_addr, severity, words)
SELECT c.event_id, c.seq, c.path, c.what, c.kind, c.old, c.new, c.old_addr, c.new_addr, c.severity, c.words
FROM new_changes c JOIN new_change_events e ON e.id = c.event_id WHERE e.org_id = 'default';

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
INSERT INTO alerts (id, device_id, kind, key, title, severity, detail, first_seen, last_seen,
    resolved_at, notified, last_notified)
SELECT id, device_id, kind, key, title, severity, detail, first_seen, last_seen,
    resolved_at, notified, last_notified FROM new_alerts WHERE org_id = 'default';

DELETE FROM sqlite_sequence WHERE name IN ('snapshots', 'baselines', 'audits', 'change_events', 'alerts');
INSERT INTO sqlite_sequence (name, seq)
SELECT substr(name, 5), seq FROM sqlite_sequence
WHERE name IN ('new_snapshots', 'new_baselines', 'new_audits', 'new_change_events', 'new_alerts');

DROP TABLE new_changes;
DROP TABLE new_snapshot_artifacts;
DROP TABLE new_alerts;
DROP TABLE new_change_events;
DROP TABLE new_baselines;
DROP TABLE new_audits;
DROP TABLE new_snapshots;
DROP TABLE new_devices;
DROP TABLE sites;
DROP TABLE orgs;

CREATE INDEX devices_site ON devices (site, id);
CREATE INDEX snapshots_history ON snapshots (device_id, taken_at DESC, id DESC);
CREATE INDEX baselines_history ON baselines (device_id, id DESC);
CREATE INDEX audits_history ON audits (at DESC, id DESC);
CREATE INDEX audits_device ON audits (device_id, at DESC, id DESC);
CREATE INDEX change_events_history ON change_events (device_id, at DESC, id DESC);
CREATE INDEX change_events_all ON change_events (at DESC, id DESC);
CREATE UNIQUE INDEX alerts_open ON alerts (device_id, kind, key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_history ON alerts (device_id, first_seen DESC, id DESC);
