// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// TestRestartDuringWrites restarts PostgreSQL while writers store
// snapshots and range batches: the store reconnects by itself (no write
// after the restart fails, nothing is reopened), every write that
// returned nil is there, and what is there is whole (a write that
// returned an error left all of itself or nothing). Range batches may be
// written twice, so the store retries them through the restart: none
// fails.
func TestRestartDuringWrites(t *testing.T) {
	srv := pgtest.Start(t)
	s, _ := openT(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := s.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	sc, err := s.CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}, Owner: "o", Reason: "r", PerPrefixRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.StartRangeRun(ctx, sc.ID, at)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		n     int
		id    int64 // the snapshot's, or -1 for a range batch
		err   error
		after bool // started after the restart was over
	}
	const writers = 4
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		results   []result
		restarted atomic.Bool
		stop      = make(chan struct{})
		ok        atomic.Int64
	)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := w*100000 + i
				after := restarted.Load()
				r := result{n: n, id: -1, after: after}
				if w%2 == 0 {
					var m store.SnapshotMeta
					m, r.err = s.PutSnapshot(ctx, "r", snapshotN(n))
					r.id = m.ID
				} else {
					r.err = s.PutRangeRecords(ctx, run.ID, batchN(n))
				}
				if r.err == nil {
					ok.Add(1)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	waitFor := func(n int64) {
		t.Helper()
		for target := ok.Load() + n; ok.Load() < target; time.Sleep(10 * time.Millisecond) {
			if ctx.Err() != nil {
				t.Fatalf("waiting for writes: %v", ctx.Err())
			}
		}
	}
	waitFor(40)
	began := time.Now()
	srv.Restart(t)
	restarted.Store(true)
	t.Logf("PostgreSQL restarted in %v", time.Since(began).Round(time.Millisecond))
	waitFor(40)
	close(stop)
	wg.Wait()

	var failed, afterFailed int
	for _, r := range results {
		if r.err == nil {
			continue
		}
		failed++
		if r.after {
			afterFailed++
		}
		if errors.Is(r.err, store.ErrInvalid) || errors.Is(r.err, store.ErrNotFound) || errors.Is(r.err, store.ErrConflict) {
			t.Errorf("write %d failed as if its input were wrong: %v", r.n, r.err)
		}
		if r.id < 0 {
			t.Errorf("range batch %d failed, but a batch may be written again: %v", r.n, r.err)
		}
		t.Logf("write %d: %v", r.n, r.err)
	}
	t.Logf("%d writes, %d returned an error", len(results), failed)
	if afterFailed > 0 {
		t.Errorf("%d writes begun after the restart failed: the store did not reconnect by itself", afterFailed)
	}

	// Every snapshot that was acknowledged is there, whole; every
	// snapshot that is there is whole.
	for _, r := range results {
		if r.err != nil || r.id < 0 {
			continue
		}
		got, err := s.Snapshot(ctx, r.id)
		if err != nil {
			t.Errorf("snapshot %d of write %d returned nil but reads: %v", r.id, r.n, err)
			continue
		}
		if err := storetest.CheckSnapshot(snapshotN(r.n), &got.Snapshot); err != nil {
			t.Errorf("snapshot of write %d: %v", r.n, err)
		}
	}
	metas, err := s.Snapshots(ctx, "r", store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metas {
		got, err := s.Snapshot(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := int(m.TakenAt.Sub(at) / time.Second)
		if err := storetest.CheckSnapshot(snapshotN(n), &got.Snapshot); err != nil {
			t.Errorf("stored snapshot %d is not whole: %v", m.ID, err)
		}
	}
	// Every acknowledged range batch is there, whole; a batch is there
	// whole or not at all.
	done, err := s.RangeDone(ctx, run.ID, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[netip.Addr]bool{}
	for _, a := range done {
		have[a] = true
	}
	for _, r := range results {
		if r.id >= 0 {
			continue
		}
		recs := batchN(r.n)
		n := 0
		for _, rec := range recs {
			if have[rec.Address] {
				n++
			}
		}
		switch {
		case r.err == nil && n != len(recs):
			t.Errorf("range batch %d returned nil but %d of its %d records are there", r.n, n, len(recs))
		case n != 0 && n != len(recs):
			t.Errorf("range batch %d is half there: %d of %d records", r.n, n, len(recs))
		}
	}
}

// snapshotN is the snapshot of write n: 64 KiB of artifacts, so that a
// restart often lands inside a write.
func snapshotN(n int) *device.Snapshot {
	return storetest.Snapshot(n, at.Add(time.Duration(n)*time.Second), 64<<10)
}

// batchN is the range batch of write n: 50 addresses of its own.
func batchN(n int) []store.RangeRecord {
	recs := make([]store.RangeRecord, 50)
	for i := range recs {
		var b [16]byte
		copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		b[15] = byte(i + 1)
		addr := netip.AddrFrom16(b)
		recs[i] = store.RangeRecord{Address: addr, Prefix: netip.MustParsePrefix("2001:db8::/32"), Live: true, Failing: i % 3,
			Record: []byte(fmt.Sprintf(`{"target":%q}`, addr))}
	}
	return recs
}
