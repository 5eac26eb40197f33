// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package datastore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockWait bounds how long an import waits for another one to finish.
const lockWait = 2 * time.Minute

// orphanMinAge is how old a leftover snapshot must be before Put removes
// it: a lock file is taken over after lockWait, so a younger snapshot may
// belong to an import that still runs.
const orphanMinAge = 2 * lockWait

// lock creates a lock file exclusively (there is no flock here). A lock
// file left by a crashed process is taken over once it is older than
// lockWait, the longest an import may hold it.
func (s *Store) lock() (func(), error) {
	p := filepath.Join(s.Dir, ".lock")
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(p) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("datastore: lock: %w", err)
		}
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > lockWait {
			os.Remove(p)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("datastore: lock: %s is held by another routerwatch", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
