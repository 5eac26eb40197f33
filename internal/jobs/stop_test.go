// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/jobs"
)

// TestGracefulStopReleasesChunk stops a worker in the middle of a chunk
// with a short grace: the chunk keeps what it measured and hands its job
// back without spending an attempt; the next worker finishes the chunk
// and no address is written twice.
func TestGracefulStopReleasesChunk(t *testing.T) {
	prefix := netip.MustParsePrefix("127.0.4.0/26")
	ports := audittest.FreePorts(t, prefix.Addr())
	ms := newMemStore()
	ms.addRun(3, "org-a", jobs.RunPlan{Prefixes: []netip.Prefix{prefix}, PerPrefixRate: faultRate})
	cfg := jobs.Config{DSN: filepath.Join(t.TempDir(), "jobs"), Workers: 1, Range: ms, Judge: audit.Options{Index: index(t)},
		Ports: ports, ScanTimeout: 10 * time.Second, Batch: 4, FetchPoll: 100 * time.Millisecond}
	c, err := jobs.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnqueueRangeRun(t.Context(), "org-a", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first batches", 30*time.Second, func() bool {
		recs, _ := ms.snapshot(3)
		return len(recs) >= 8
	})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	err = c.Stop(ctx)
	cancel()
	if err != nil {
		t.Logf("stop: %v", err)
	}
	recs, _ := ms.snapshot(3)
	if len(recs) >= 64 {
		t.Fatalf("the chunk ended before the stop: the test proves nothing")
	}

	c2 := start(t, cfg)
	chunks, err := c2.RunChunks(t.Context(), 3)
	if err != nil || len(chunks) != 1 {
		t.Fatalf("chunks %v, %v", chunks, err)
	}
	waitFor(t, "the run to finish", 60*time.Second, func() bool { return ms.state(3) == jobs.RunDone })
	recs, writes := ms.snapshot(3)
	if len(recs) != 64 {
		t.Errorf("%d records, want 64", len(recs))
	}
	for a, n := range writes {
		if n != 1 {
			t.Errorf("%s written %d times", a, n)
		}
	}
	j, err := c2.Job(t.Context(), chunks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != rivertype.JobStateCompleted || j.Attempt != 1 {
		t.Errorf("chunk %s after %d attempts, want completed after 1 (the stop spent none)", j.State, j.Attempt)
	}
}
