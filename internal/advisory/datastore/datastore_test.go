// SPDX-License-Identifier: Apache-2.0

package datastore_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

func parseFile(t *testing.T, path string) datastore.Parsed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := datastore.Parse(b, path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func TestPutAndOpen(t *testing.T) {
	shared := testutil.SharedData(t)
	s := datastore.New(t.TempDir())
	ds, info, err := datastore.Open(s)
	if err != nil {
		t.Fatal(err)
	}
	if info.StoreDocs != 0 || info.Fallback != "" || info.BuiltinDocs == 0 {
		t.Fatalf("empty store: %+v", info)
	}
	builtinOnly := len(ds.Advisories)

	items := []datastore.Item{
		parseFile(t, filepath.Join(shared, "cve", "CVE-2025-9377.json")).Item,
		parseFile(t, filepath.Join(shared, "kev", "known_exploited_vulnerabilities.json")).Item,
		parseFile(t, filepath.Join(shared, "csaf", "cisa", "icsa-20-196-02.json")).Item,
	}
	if _, err := s.Put(items, nil); err != nil {
		t.Fatal(err)
	}
	ds, info, err = datastore.Open(s)
	if err != nil {
		t.Fatal(err)
	}
	if info.StoreDocs != 3 || info.KEVVersion != "2025.08.25" || info.KEVEntries != 1404 {
		t.Errorf("info %+v", info)
	}
	if len(ds.Advisories) != builtinOnly+2 {
		t.Errorf("%d advisories, want %d", len(ds.Advisories), builtinOnly+2)
	}
	// A second import of the same CVE replaces it instead of adding.
	if _, err := s.Put(items[:1], nil); err != nil {
		t.Fatal(err)
	}
	m, err := s.Manifest()
	if err != nil || len(m.Entries) != 3 {
		t.Fatalf("manifest after re-import: %d entries, %v", len(m.Entries), err)
	}
	// Only one snapshot directory is left behind.
	snaps, _ := filepath.Glob(filepath.Join(s.Dir, "snap-*"))
	if len(snaps) != 1 {
		t.Errorf("snapshot dirs left: %v", snaps)
	}
	// The KEV catalog flags the TP-Link CVEs in matches.
	ix := advisory.NewIndex(ds)
	if e, ok := ix.KEV("CVE-2023-33538"); !ok || e.DateAdded != "2025-06-16" {
		t.Errorf("KEV CVE-2023-33538 = %+v, %v", e, ok)
	}
}

// TestTamperedStoreFallsBack edits a stored file behind the store's back:
// Open must notice and fall back to the embedded data, not use it.
func TestTamperedStoreFallsBack(t *testing.T) {
	shared := testutil.SharedData(t)
	s := datastore.New(t.TempDir())
	if _, err := s.Put([]datastore.Item{parseFile(t, filepath.Join(shared, "cve", "CVE-2026-3227.json")).Item}, nil); err != nil {
		t.Fatal(err)
	}
	m, err := s.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir, "current", m.Entries[0].File)
	if err := os.WriteFile(p, []byte(`{"dataType":"CVE_RECORD"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, info, err := datastore.Open(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.Fallback, "hash") || info.StoreDocs != 0 {
		t.Errorf("info %+v: want a hash-mismatch fallback", info)
	}
}

// TestPutFailureLeavesStore makes the snapshot write fail half way and
// checks the current data is untouched.
func TestPutFailureLeavesStore(t *testing.T) {
	shared := testutil.SharedData(t)
	s := datastore.New(t.TempDir())
	good := parseFile(t, filepath.Join(shared, "cve", "CVE-2026-3227.json")).Item
	if _, err := s.Put([]datastore.Item{good}, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Manifest()
	// Two items with the same kind and ID map to the same file: the
	// second write fails (O_EXCL) after the first succeeded.
	dup := parseFile(t, filepath.Join(shared, "cve", "CVE-2025-9377.json")).Item
	if _, err := s.Put([]datastore.Item{dup, dup}, nil); err == nil {
		t.Fatal("Put with a clashing item succeeded")
	}
	after, err := s.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Entries) != len(before.Entries) || after.Entries[0].SHA256 != before.Entries[0].SHA256 {
		t.Errorf("store changed by a failed Put: before %+v after %+v", before.Entries, after.Entries)
	}
	snaps, _ := filepath.Glob(filepath.Join(s.Dir, "snap-*"))
	if len(snaps) != 1 {
		t.Errorf("failed Put left snapshot dirs: %v", snaps)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not_json", "nope", "not JSON"},
		{"unknown_json", `{"hello":"world"}`, "not a CSAF 2.0 document"},
		{"csaf_1", `{"document":{"csaf_version":"1.2"}}`, "only CSAF 2.0"},
		{"invalid_csaf", `{"document":{"csaf_version":"2.0"}}`, "not valid CSAF 2.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := datastore.Parse([]byte(tc.in), "x.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %v, want %q", err, tc.want)
			}
		})
	}
}
