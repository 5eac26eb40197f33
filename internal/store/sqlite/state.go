// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// State implements store.StateStore.
func (s *Store) State(ctx context.Context, name string) ([]byte, error) {
	if err := store.CheckID("state name", name); err != nil {
		return nil, err
	}
	var b []byte
	err := s.db.read(ctx, "state", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM state WHERE name = ?`, name).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	return b, err
}

// PutState implements store.StateStore.
func (s *Store) PutState(ctx context.Context, name string, b []byte) error {
	if err := store.CheckID("state name", name); err != nil {
		return err
	}
	if len(b) > store.MaxStateBytes {
		return fmt.Errorf("%w: state blob is larger than %d bytes", store.ErrInvalid, store.MaxStateBytes)
	}
	if b == nil {
		b = []byte{}
	}
	return s.db.write(ctx, "put state", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			name, b, micros(time.Now()))
		return err
	})
}
