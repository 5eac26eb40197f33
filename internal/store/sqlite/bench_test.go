// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// The issue asks for the store's write and diff time per snapshot with
// 10,000 snapshots stored. Run with
//
//	go test -run '^$' -bench . -benchtime 200x ./internal/store/sqlite/
//
// TestBenchFixture runs the same code on a small fixture in every test
// run, so the benchmarks cannot rot.

// benchStored is how many snapshots the benchmarks' store holds.
const benchStored = 10000

// benchRaw is the raw artifacts' size of a benchmark snapshot: about
// what a TP-Link pull reads (a handful of pages of a few KiB).
const benchRaw = 12 << 10

var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture builds a store with n snapshots of device "r", one a minute,
// and returns its path. It is written with synchronous=OFF, since
// building it is not what is measured; the benchmarks reopen it as
// Open does.
func fixture(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "bench.db")
	ctx := context.Background()
	s, err := open(ctx, path, options{synchronous: "OFF"})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if _, err := s.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if _, err := s.PutSnapshot(ctx, "r", storetest.Snapshot(i, benchStart.Add(time.Duration(i)*time.Minute), benchRaw)); err != nil {
			tb.Fatal(err)
		}
	}
	return path
}

// diffLatest is what `config diff` does without arguments: read the
// device's two newest snapshots and diff them.
func diffLatest(ctx context.Context, s store.Store, deviceID string) ([]device.Change, error) {
	metas, err := s.Snapshots(ctx, deviceID, store.Page{Limit: 2})
	if err != nil {
		return nil, err
	}
	if len(metas) < 2 {
		return nil, fmt.Errorf("%d snapshots, need 2", len(metas))
	}
	older, err := s.Snapshot(ctx, metas[1].ID)
	if err != nil {
		return nil, err
	}
	newer, err := s.Snapshot(ctx, metas[0].ID)
	if err != nil {
		return nil, err
	}
	return device.Diff(&older.Snapshot.Config, &newer.Snapshot.Config), nil
}

// putNext writes the snapshot that follows the fixture's i-th.
func putNext(ctx context.Context, s store.Store, ring []*device.Snapshot, stored, i int) error {
	snap := *ring[i%len(ring)]
	snap.TakenAt = benchStart.Add(time.Duration(stored+i) * time.Minute)
	_, err := s.PutSnapshot(ctx, "r", &snap)
	return err
}

func benchRing(stored int) []*device.Snapshot {
	ring := make([]*device.Snapshot, 16)
	for i := range ring {
		ring[i] = storetest.Snapshot(stored+i, benchStart, benchRaw)
	}
	return ring
}

func BenchmarkPutSnapshot(b *testing.B) {
	path := fixture(b, benchStored)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ring := benchRing(benchStored)
	for i := 0; b.Loop(); i++ {
		if err := putNext(ctx, s, ring, benchStored, i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiffLatest(b *testing.B) {
	path := fixture(b, benchStored)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		changes, err := diffLatest(ctx, s, "r")
		if err != nil {
			b.Fatal(err)
		}
		if len(changes) == 0 {
			b.Fatal("the two newest snapshots do not differ")
		}
	}
}

// TestBenchFixture runs the benchmarks' code on a small fixture.
func TestBenchFixture(t *testing.T) {
	const stored = 200
	path := fixture(t, stored)
	ctx := t.Context()
	s := openT(t, path)
	if n, err := s.CountSnapshots(ctx, "r"); err != nil || n != stored {
		t.Fatalf("fixture holds %d snapshots (%v), want %d", n, err, stored)
	}
	ring := benchRing(stored)
	if err := putNext(ctx, s, ring, stored, 0); err != nil {
		t.Fatal(err)
	}
	changes, err := diffLatest(ctx, s, "r")
	if err != nil {
		t.Fatal(err)
	}
	// Snapshots 199 and 200 differ in the DHCP DNS primary and a port
	// forward (one removed, one added).
	var paths []string
	for _, c := range changes {
		paths = append(paths, c.Path)
	}
	want := []string{"dhcp_dns[0]", "port_forwards[tcp 8199]", "port_forwards[tcp 8200]"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("diff of the latest two = %v, want %v", paths, want)
	}
}
