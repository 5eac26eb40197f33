// SPDX-License-Identifier: Apache-2.0

//go:build unix

package datastore

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// orphanMinAge is how old a leftover snapshot must be before Put removes
// it: here none, since the flock proves that its writer is gone.
const orphanMinAge = 0

// lock takes an exclusive advisory lock so that two imports do not race;
// the kernel drops it if the process dies.
func (s *Store) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("datastore: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("datastore: lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
