// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/store"
)

// State implements store.StateStore.
func (s *Store) State(ctx context.Context, name string) ([]byte, error) {
	if err := store.CheckID("state name", name); err != nil {
		return nil, err
	}
	var b []byte
	err := s.db.read(ctx, "state", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT value FROM state WHERE name = $1`, name).Scan(&b)
		if errors.Is(err, pgx.ErrNoRows) {
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
	now := store.Timestamp(s.now())
	return s.db.write(ctx, "put state", again, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO state (name, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			name, notNil(b), now)
		return err
	})
}
