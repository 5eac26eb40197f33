-- +goose Up
-- Small named blobs of a component's own state (the watcher's alert
-- delivery queue), replaced whole.
CREATE TABLE state (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE state;
