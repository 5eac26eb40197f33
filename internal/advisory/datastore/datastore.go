// SPDX-License-Identifier: Apache-2.0

// Package datastore keeps imported and downloaded advisory data in the
// user's data directory and assembles the Dataset routerwatch matches
// against: the embedded documents, then the local store on top.
//
// The contract: the store holds the source documents as they were
// imported (CSAF, CVE records, the KEV catalog), each checked before it was
// written. Every change builds a complete new snapshot directory and then
// swaps the "current" symbolic link with a rename, so a reader sees the
// old data or the new, never a mix, and a failed import or update leaves
// the store as it was. A reader resolves the link once and reads one
// snapshot. Snapshots are world-readable (directories 0755, files 0644,
// whatever the umask): a store written by root serves every user.
//
// A damaged store (a file whose hash or content does not check) never
// hides the embedded data: Open falls back to it and says why. A store
// that exists but cannot be read (permissions, I/O) is an error, not a
// silent fallback, so that a user never gets a verdict on less data than
// they think. Put removes what an import killed half way left behind.
package datastore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Kind is the format of a stored document.
type Kind string

// Kinds of stored document.
const (
	KindCSAF Kind = "csaf"
	KindCVE  Kind = "cve"
	KindKEV  Kind = "kev"
)

// Item is one document to store. Callers check it before it gets here.
type Item struct {
	Kind Kind
	// ID identifies the document within its kind: the CSAF tracking ID,
	// the CVE ID; the KEV catalog has one slot, "kev".
	ID string
	// Source is the path or URL it came from.
	Source string
	Data   []byte
}

// Entry is one stored document in the manifest.
type Entry struct {
	Kind     Kind      `json:"kind"`
	ID       string    `json:"id"`
	File     string    `json:"file"`
	SHA256   string    `json:"sha256"`
	Source   string    `json:"source"`
	Imported time.Time `json:"imported"`
}

// Manifest lists the documents of one snapshot.
type Manifest struct {
	Schema  int       `json:"schema"`
	Updated time.Time `json:"updated"`
	Entries []Entry   `json:"entries"`
}

const manifestSchema = 1

// Store is the advisory store under Dir ($DATA/advisories).
type Store struct {
	Dir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// New returns the store inside the routerwatch data directory.
func New(dataDir string) *Store {
	return &Store{Dir: filepath.Join(dataDir, "advisories")}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) current() string { return filepath.Join(s.Dir, "current") }

// ReadError reports a store that exists but could not be read (a
// permission or I/O error), as opposed to one whose content is damaged.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// readFailure classifies an error reading a stored file: a missing file is
// damage (the store is incomplete); anything else (permissions, I/O) is a
// *ReadError.
func readFailure(err error) error {
	err = fmt.Errorf("datastore: %w", err)
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return &ReadError{err}
}

// snapshot resolves "current" to its snapshot directory; "" when nothing
// was ever imported.
func (s *Store) snapshot() (string, error) {
	target, err := os.Readlink(s.current())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if errors.Is(err, syscall.EINVAL) {
		return "", fmt.Errorf("datastore: %s is not a symbolic link: %w", s.current(), err) // damaged
	}
	if err != nil {
		return "", readFailure(err)
	}
	if filepath.IsAbs(target) {
		return target, nil
	}
	return filepath.Join(s.Dir, target), nil
}

// Manifest returns the current manifest; an empty one when nothing was
// ever imported.
func (s *Store) Manifest() (Manifest, error) {
	dir, err := s.snapshot()
	if err != nil || dir == "" {
		return Manifest{Schema: manifestSchema}, err
	}
	return readManifest(dir)
}

// readManifest reads the manifest of one snapshot directory.
func readManifest(dir string) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return Manifest{}, readFailure(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("datastore: manifest.json: %w", err)
	}
	if m.Schema != manifestSchema {
		return Manifest{}, fmt.Errorf("datastore: manifest schema %d, this routerwatch reads %d", m.Schema, manifestSchema)
	}
	return m, nil
}

// Read returns the bytes of a stored entry of the current snapshot after
// checking its hash.
func (s *Store) Read(e Entry) ([]byte, error) {
	dir, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, fmt.Errorf("datastore: %s: %w", e.File, fs.ErrNotExist)
	}
	return readEntry(dir, e)
}

// readEntry reads one entry of the snapshot in dir and checks its hash.
func readEntry(dir string, e Entry) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, e.File))
	if err != nil {
		return nil, readFailure(err)
	}
	if got := sum(b); got != e.SHA256 {
		return nil, fmt.Errorf("datastore: %s: content hash %s does not match the manifest (%s); re-import it", e.File, got[:12], e.SHA256[:12])
	}
	return b, nil
}

// Put stores items on top of the current snapshot: an item replaces a
// stored document of the same kind and ID. When replaceSources is not
// empty, every stored document whose Source is in it is dropped first
// (an update replaces what it downloaded before). It is all or nothing.
func (s *Store) Put(items []Item, replaceSources []string) (Manifest, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("datastore: %w", err)
	}
	unlock, err := s.lock()
	if err != nil {
		return Manifest{}, err
	}
	defer unlock()
	s.removeOrphans()

	old, err := s.Manifest()
	if err != nil {
		return Manifest{}, err
	}
	tmp, err := os.MkdirTemp(s.Dir, "snap-")
	if err != nil {
		return Manifest{}, fmt.Errorf("datastore: %w", err)
	}
	// MkdirTemp makes 0700 directories; the data is public and other
	// users' routerwatch must read it.
	if err := os.Chmod(tmp, dirMode); err != nil {
		os.RemoveAll(tmp)
		return Manifest{}, fmt.Errorf("datastore: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	replaced := map[string]bool{}
	for _, it := range items {
		replaced[string(it.Kind)+"\x00"+it.ID] = true
	}
	now := s.now()
	m := Manifest{Schema: manifestSchema, Updated: now}
	for _, e := range old.Entries {
		if replaced[string(e.Kind)+"\x00"+e.ID] || slices.Contains(replaceSources, e.Source) {
			continue
		}
		b, err := s.Read(e)
		if err != nil {
			return Manifest{}, err
		}
		if err := writeFile(filepath.Join(tmp, e.File), b); err != nil {
			return Manifest{}, err
		}
		m.Entries = append(m.Entries, e)
	}
	for _, it := range items {
		e := Entry{Kind: it.Kind, ID: it.ID, File: fileName(it), SHA256: sum(it.Data), Source: it.Source, Imported: now}
		if err := writeFile(filepath.Join(tmp, e.File), it.Data); err != nil {
			return Manifest{}, err
		}
		m.Entries = append(m.Entries, e)
	}
	slices.SortFunc(m.Entries, func(a, b Entry) int { return strings.Compare(a.File, b.File) })
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("datastore: %w", err)
	}
	if err := writeFile(filepath.Join(tmp, "manifest.json"), append(mb, '\n')); err != nil {
		return Manifest{}, err
	}
	if err := syncDir(tmp); err != nil {
		return Manifest{}, err
	}
	if testHookSnapshotWritten != nil {
		testHookSnapshotWritten(tmp)
	}
	// Swap: a new symlink under a temporary name, renamed over "current".
	prev, _ := os.Readlink(s.current())
	link := filepath.Join(s.Dir, ".current-"+filepath.Base(tmp))
	if err := os.Symlink(filepath.Base(tmp), link); err != nil {
		return Manifest{}, fmt.Errorf("datastore: %w", err)
	}
	if err := os.Rename(link, s.current()); err != nil {
		os.Remove(link)
		return Manifest{}, fmt.Errorf("datastore: %w", err)
	}
	ok = true
	if err := syncDir(s.Dir); err != nil {
		return m, err
	}
	if prev != "" && prev != filepath.Base(tmp) {
		os.RemoveAll(filepath.Join(s.Dir, prev))
	}
	return m, nil
}

// Modes of what a snapshot holds, set explicitly so that a restrictive
// umask (root's is often 077) does not make the store private.
const (
	dirMode  fs.FileMode = 0o755
	fileMode fs.FileMode = 0o644
)

// testHookSnapshotWritten, when set by a test, runs after a snapshot is
// complete and before "current" points to it: the moment a killed import
// leaves an orphan behind.
var testHookSnapshotWritten func(dir string)

// removeOrphans deletes what an import that died left in the store:
// snapshot directories "current" does not point to, and temporary links.
// It runs under the store lock, so no other import is running: on unix
// the lock is an flock the kernel releases when its holder dies, so
// whatever a past holder left is garbage; elsewhere a lock is only taken
// over after orphanMinAge, and younger leftovers are kept. Readers are not
// broken by a removal: they resolve "current" once and read again if the
// snapshot they resolved disappears. Removal is best effort.
func (s *Store) removeOrphans() {
	cur, err := os.Readlink(s.current())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return // cannot tell which snapshot is in use: remove nothing
	}
	cur = filepath.Base(cur)
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		orphan := strings.HasPrefix(name, "snap-") && name != cur || strings.HasPrefix(name, ".current-snap-")
		if !orphan {
			continue
		}
		if orphanMinAge > 0 {
			info, err := e.Info()
			if err != nil || time.Since(info.ModTime()) < orphanMinAge {
				continue
			}
		}
		os.RemoveAll(filepath.Join(s.Dir, name))
	}
}

func fileName(it Item) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, it.ID)
	if len(safe) > 80 {
		safe = safe[:80]
	}
	// The hash keeps two IDs that sanitise alike apart.
	return filepath.Join(string(it.Kind), safe+"-"+sum([]byte(it.ID))[:8]+".json")
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
		return fmt.Errorf("datastore: %w", err)
	}
	if err := os.Chmod(filepath.Dir(p), dirMode); err != nil {
		return fmt.Errorf("datastore: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return fmt.Errorf("datastore: %w", err)
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return fmt.Errorf("datastore: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("datastore: write %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("datastore: sync %s: %w", p, err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	var firstErr error
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		if err := f.Sync(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("datastore: sync %s: %w", p, err)
		}
		f.Close()
		return nil
	})
	return firstErr
}
