-- The routerwatch store on PostgreSQL: the same records and rules as the
-- SQLite store (internal/store/sqlite), for a fleet written by many
-- processes. Times are timestamptz (microseconds, what the store contract
-- keeps); JSON and raw bodies are bytea, kept byte for byte. Identifiers
-- use the "C" collation, so that lists are ordered by bytes as SQLite
-- orders them, whatever the database's default collation. IDs come from
-- identity columns, which never hand out a value twice.

-- +goose Up
CREATE TABLE orgs (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO orgs (id, name, created_at) VALUES ('default', 'Default', now());

-- schedule: nanoseconds (a Go time.Duration), 0 for the server's default.
CREATE TABLE sites (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id          text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    public_addr text NOT NULL DEFAULT '',
    schedule    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- site is NULL for a device at no site: the composite foreign key is then
-- not checked.
CREATE TABLE devices (
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id         text COLLATE "C" NOT NULL,
    site       text COLLATE "C",
    address    text NOT NULL DEFAULT '',
    adapter    text NOT NULL DEFAULT '',
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, site) REFERENCES sites (org_id, id)
);
CREATE INDEX devices_site ON devices (org_id, site NULLS FIRST, id);

CREATE TABLE snapshots (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      text COLLATE "C" NOT NULL,
    device_id   text COLLATE "C" NOT NULL,
    adapter     text NOT NULL,
    target      text NOT NULL DEFAULT '',
    taken_at    timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL,
    config_hash text NOT NULL,
    config      bytea NOT NULL,
    warnings    bytea NOT NULL,
    n_warnings  integer NOT NULL,
    n_artifacts integer NOT NULL,
    raw_bytes   bigint NOT NULL,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE INDEX snapshots_history ON snapshots (org_id, device_id, taken_at DESC, id DESC);

CREATE TABLE snapshot_artifacts (
    snapshot_id  bigint NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    seq          integer NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    body         bytea NOT NULL,
    redacted     integer NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
);

CREATE TABLE baselines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      text COLLATE "C" NOT NULL,
    device_id   text COLLATE "C" NOT NULL,
    snapshot_id bigint NOT NULL REFERENCES snapshots (id),
    set_at      timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE INDEX baselines_history ON baselines (org_id, device_id, id DESC);

-- device_id is NULL for an audit of the network, not of a device.
CREATE TABLE audits (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id    text COLLATE "C" NOT NULL REFERENCES orgs (id),
    device_id text COLLATE "C",
    kind      text COLLATE "C" NOT NULL,
    at        timestamptz NOT NULL,
    verdict   text NOT NULL,
    headline  text NOT NULL,
    failing   integer NOT NULL,
    report    bytea NOT NULL,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE INDEX audits_history ON audits (org_id, at DESC, id DESC);
CREATE INDEX audits_device ON audits (org_id, device_id, at DESC, id DESC);

CREATE TABLE change_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        text COLLATE "C" NOT NULL,
    device_id     text COLLATE "C" NOT NULL,
    from_snapshot bigint NOT NULL REFERENCES snapshots (id),
    to_snapshot   bigint NOT NULL REFERENCES snapshots (id),
    at            timestamptz NOT NULL,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE INDEX change_events_history ON change_events (org_id, device_id, at DESC, id DESC);
CREATE INDEX change_events_all ON change_events (org_id, at DESC, id DESC);

CREATE TABLE changes (
    event_id bigint NOT NULL REFERENCES change_events (id) ON DELETE CASCADE,
    seq      integer NOT NULL,
    path     text NOT NULL,
    what     text NOT NULL,
    kind     text NOT NULL,
    old      text NOT NULL,
    new      text NOT NULL,
    old_addr text NOT NULL,
    new_addr text NOT NULL,
    severity text NOT NULL,
    words    text NOT NULL,
    PRIMARY KEY (event_id, seq)
);

-- One row per alert from first seen to resolved; the partial index keeps
-- at most one OPEN alert per device, kind and key, whatever the writers do.
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           text COLLATE "C" NOT NULL,
    device_id        text COLLATE "C" NOT NULL,
    kind             text COLLATE "C" NOT NULL,
    key              text COLLATE "C" NOT NULL,
    title            text NOT NULL,
    severity         text NOT NULL,
    detail           text NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    resolved_at      timestamptz,
    notified         text NOT NULL DEFAULT '',
    last_notified    timestamptz,
    acked_by         text NOT NULL DEFAULT '',
    acked_at         timestamptz,
    suppressed_until timestamptz,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE UNIQUE INDEX alerts_open ON alerts (org_id, device_id, kind, key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_history ON alerts (org_id, device_id, first_seen DESC, id DESC);
CREATE INDEX alerts_all ON alerts (org_id, first_seen DESC, id DESC);

-- Small named blobs of a component's own state, replaced whole.
CREATE TABLE state (
    name       text COLLATE "C" PRIMARY KEY,
    value      bytea NOT NULL,
    updated_at timestamptz NOT NULL
);

-- name_key is the login name compared without ASCII case (store.LoginKey),
-- unique over every organisation.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        text COLLATE "C" NOT NULL REFERENCES orgs (id),
    name          text COLLATE "C" NOT NULL,
    name_key      text COLLATE "C" NOT NULL UNIQUE,
    role          text NOT NULL,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    last_login    timestamptz
);
CREATE INDEX users_org ON users (org_id, name_key);

-- hash: SHA-256 of the token's secret; the secret is never stored.
CREATE TABLE tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    site_id    text COLLATE "C",
    name       text NOT NULL,
    role       text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    prefix     text COLLATE "C" NOT NULL UNIQUE,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used  timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz,
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id)
);
CREATE INDEX tokens_org ON tokens (org_id, created_at DESC, id DESC);

-- id: SHA-256 of the session cookie's secret.
CREATE TABLE sessions (
    id          bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    csrf_hash   bytea,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    remote_addr text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    actor       text NOT NULL,
    action      text COLLATE "C" NOT NULL,
    object      text NOT NULL,
    detail      text NOT NULL,
    remote_addr text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX audit_log_history ON audit_log (org_id, at DESC, id DESC);

-- prefixes: a JSON array of prefixes, in the order given.
CREATE TABLE range_scopes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          text COLLATE "C" NOT NULL REFERENCES orgs (id),
    prefixes        bytea NOT NULL,
    owner           text NOT NULL,
    reason          text NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    per_prefix_rate double precision NOT NULL
);
CREATE INDEX range_scopes_org ON range_scopes (org_id, created_at DESC, id DESC);

CREATE TABLE range_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    scope_id    bigint NOT NULL REFERENCES range_scopes (id),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    state       text NOT NULL
);
CREATE INDEX range_runs_scope ON range_runs (org_id, scope_id, started_at DESC, id DESC);

-- addr: store.AddrKey (16 bytes, IPv4 mapped), so that the addresses of a
-- prefix are one range of the primary key.
CREATE TABLE range_records (
    run_id         bigint NOT NULL REFERENCES range_runs (id),
    addr           bytea NOT NULL,
    prefix         text COLLATE "C" NOT NULL,
    record         bytea NOT NULL,
    live           boolean NOT NULL,
    failing        integer NOT NULL,
    worst_severity text NOT NULL,
    model          text NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (run_id, addr)
);

-- +goose Down
DROP TABLE range_records;
DROP TABLE range_runs;
DROP TABLE range_scopes;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE state;
DROP TABLE alerts;
DROP TABLE changes;
DROP TABLE change_events;
DROP TABLE audits;
DROP TABLE baselines;
DROP TABLE snapshot_artifacts;
DROP TABLE snapshots;
DROP TABLE devices;
DROP TABLE sites;
DROP TABLE orgs;
