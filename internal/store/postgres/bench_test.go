// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// The store's write time per snapshot with 10,000 snapshots stored, and
// the time of a reconciliation, as for SQLite. Run with
//
//	go test -run '^$' -bench . -benchtime 200x ./internal/store/postgres/
//
// pgtest's server runs with fsync off: the numbers are PostgreSQL's and
// pgx's work, not a disk's. TestBenchFixture runs the same code on a
// small fixture in every test run, so the benchmarks cannot rot.

// benchStored is how many snapshots the benchmarks' store holds.
const benchStored = 10000

// benchRaw is a benchmark snapshot's raw artifacts' size: about what a
// TP-Link pull reads.
const benchRaw = 12 << 10

var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture opens a store on a fresh database holding n snapshots of
// device "r", one a minute.
func fixture(tb testing.TB, n int) *Store {
	tb.Helper()
	s, _ := openT(tb)
	ctx := context.Background()
	if _, err := s.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if _, err := s.PutSnapshot(ctx, "r", storetest.Snapshot(i, benchStart.Add(time.Duration(i)*time.Minute), benchRaw)); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func benchRing(stored int) []*device.Snapshot {
	ring := make([]*device.Snapshot, 16)
	for i := range ring {
		ring[i] = storetest.Snapshot(stored+i, benchStart, benchRaw)
	}
	return ring
}

// putNext writes the snapshot that follows the fixture's i-th.
func putNext(ctx context.Context, s store.Store, ring []*device.Snapshot, stored, i int) error {
	snap := *ring[i%len(ring)]
	snap.TakenAt = benchStart.Add(time.Duration(stored+i) * time.Minute)
	_, err := s.PutSnapshot(ctx, "r", &snap)
	return err
}

func BenchmarkPutSnapshot(b *testing.B) {
	s := fixture(b, benchStored)
	ctx := context.Background()
	ring := benchRing(benchStored)
	for i := 0; b.Loop(); i++ {
		if err := putNext(ctx, s, ring, benchStored, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutSnapshotParallel: several writers at once, as workers are.
func BenchmarkPutSnapshotParallel(b *testing.B) {
	s := fixture(b, benchStored)
	ctx := context.Background()
	ring := benchRing(benchStored)
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := putNext(ctx, s, ring, benchStored, int(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// reconcileProblems are what a run of the DNS audit finds, the i-th time:
// twenty problems, one of which comes and goes.
func reconcileProblems(i int) []store.Problem {
	ps := make([]store.Problem, 0, 20)
	for k := range 20 {
		if k == 0 && i%2 == 1 {
			continue
		}
		ps = append(ps, store.Problem{Key: fmt.Sprint("check-", k), Title: "problem", Severity: finding.SeverityHigh})
	}
	return ps
}

func BenchmarkReconcile(b *testing.B) {
	s, _ := openT(b)
	ctx := context.Background()
	if _, err := s.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := s.ReconcileAlerts(ctx, "r", "dns", benchStart.Add(time.Duration(i)*time.Minute), reconcileProblems(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchFixture runs the benchmarks' code on a small fixture.
func TestBenchFixture(t *testing.T) {
	const stored = 50
	s := fixture(t, stored)
	ctx := t.Context()
	if n, err := s.CountSnapshots(ctx, "r"); err != nil || n != stored {
		t.Fatalf("fixture holds %d snapshots (%v), want %d", n, err, stored)
	}
	if err := putNext(ctx, s, benchRing(stored), stored, 0); err != nil {
		t.Fatal(err)
	}
	if latest, err := s.LatestSnapshot(ctx, "r"); err != nil || !latest.Meta.TakenAt.Equal(benchStart.Add(stored*time.Minute)) {
		t.Errorf("latest snapshot = %+v, %v", latest.Meta, err)
	}
	for i := range 3 {
		r, err := s.ReconcileAlerts(ctx, "r", "dns", benchStart.Add(time.Duration(i)*time.Minute), reconcileProblems(i))
		if err != nil {
			t.Fatal(err)
		}
		want := map[int][3]int{0: {20, 0, 0}, 1: {0, 0, 1}, 2: {1, 0, 0}}[i]
		if got := [3]int{len(r.Opened), len(r.Changed), len(r.Resolved)}; got != want {
			t.Errorf("reconciliation %d opened, changed, resolved %v, want %v", i, got, want)
		}
	}
}
