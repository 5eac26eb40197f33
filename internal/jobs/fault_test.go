// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
)

// faultRate paces a chunk's 64 loopback addresses at 15 a second: a
// chunk runs about four seconds, long enough to be killed in the middle.
const faultRate = 15

// TestKillWorkerMidJob kills a worker process with SIGKILL in the middle
// of a chunk (after its first batches are written); a second worker
// rescues the job once RescueAfter has passed, retries it, skips the
// addresses already recorded, and the run ends with each address's
// record written exactly once.
func TestKillWorkerMidJob(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	st, err := openPGStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.pool.Close()
	prefix := netip.MustParsePrefix("127.0.1.0/26")
	st.addRun(t, 1, "org-a", jobs.RunPlan{Prefixes: []netip.Prefix{prefix}, PerPrefixRate: faultRate})
	// Ports nothing listens on: every address answers with resets, fast.
	ports := audittest.FreePorts(t, prefix.Addr())
	// River rescues a job once both the rescue delay and the job's own
	// timeout have passed since its attempt began, at its rescuer's next
	// round (every 30 s).
	const batch, rescue = 4, 10 * time.Second

	a := startWorker(t, dsn, ports, rescue, batch)
	c := enqueuer(t, dsn)
	if _, err := c.EnqueueRangeRun(t.Context(), "org-a", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first batches", 60*time.Second, func() bool {
		n, _, _, _ := st.counts(t, 1)
		return n >= 2*batch
	})
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	before, _, _, state := st.counts(t, 1)
	if before >= 64 || state == jobs.RunDone {
		t.Fatalf("the worker was killed after the chunk ended (%d records, run %s): the test proves nothing", before, state)
	}
	t.Logf("killed the worker with %d of 64 records written", before)

	b := startWorker(t, dsn, ports, rescue, batch)
	t.Cleanup(func() {
		if t.Failed() {
			js, _ := c.RunChunks(context.Background(), 1)
			for _, j := range js {
				t.Logf("chunk job %d: %s, attempt %d, errors %v", j.ID, j.State, j.Attempt, j.Errors)
			}
		}
	})
	waitFor(t, "the run to finish", 120*time.Second, func() bool {
		_, _, _, state := st.counts(t, 1)
		return state == jobs.RunDone
	})
	records, writes, dups, _ := st.counts(t, 1)
	if records != 64 || writes != 64 || len(dups) > 0 {
		t.Errorf("%d records, %d writes, written twice: %v; want 64 records written once each", records, writes, dups)
	}
	chunk := chunkJob(t, c, 1)
	if chunk.State != rivertype.JobStateCompleted || chunk.Attempt != 2 {
		t.Errorf("chunk job %s after %d attempts, want completed after 2 (the killed one, the retry)", chunk.State, chunk.Attempt)
	}
	b.Process.Signal(syscall.SIGTERM)
	if err := b.Wait(); err != nil {
		t.Errorf("the worker's graceful stop: %v", err)
	}
}

// TestKillWorkerInFinish kills a worker process with SIGKILL while it runs
// a range run's finish job (its store write hangs), as a fetch that timed
// out on the worker's side after PostgreSQL had handed it the job would
// also leave it: running, with no one working it. A second worker rescues
// the job once its timeout and the rescue delay have passed, and the run
// ends done. A finish job without a timeout of its own was never rescued
// (River leaves a running job alone while its timeout, the client's -1,
// is negative), and its run stayed running for good.
func TestKillWorkerInFinish(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	st, err := openPGStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.pool.Close()
	prefix := netip.MustParsePrefix("127.0.4.0/30")
	st.addRun(t, 3, "org-a", jobs.RunPlan{Prefixes: []netip.Prefix{prefix}, PerPrefixRate: 100})
	ports := audittest.FreePorts(t, prefix.Addr())
	const batch, rescue = 4, 10 * time.Second

	a := startWorker(t, dsn, ports, rescue, batch, envBlockFinish+"=1")
	c := enqueuer(t, dsn)
	if _, err := c.EnqueueRangeRun(t.Context(), "org-a", 3); err != nil {
		t.Fatal(err)
	}
	finish := func() (state string, attempt int) {
		err := st.pool.QueryRow(t.Context(), "SELECT state::text, attempt FROM river.river_job WHERE kind = $1", jobs.KindRangeFinish).Scan(&state, &attempt)
		if err != nil {
			return "", 0
		}
		return state, attempt
	}
	waitFor(t, "the finish job to run", 60*time.Second, func() bool {
		state, _ := finish()
		return state == string(rivertype.JobStateRunning)
	})
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	if _, _, _, state := st.counts(t, 3); state != jobs.RunRunning {
		t.Fatalf("run %s after the kill, want running: the test proves nothing", state)
	}

	b := startWorker(t, dsn, ports, rescue, batch)
	waitFor(t, "the run to finish", 120*time.Second, func() bool {
		_, _, _, state := st.counts(t, 3)
		return state == jobs.RunDone
	})
	// The job's completion is recorded just after its work returns.
	waitFor(t, "the finish job's completion", 10*time.Second, func() bool {
		state, _ := finish()
		return state == string(rivertype.JobStateCompleted)
	})
	if state, attempt := finish(); state != string(rivertype.JobStateCompleted) || attempt != 2 {
		t.Errorf("finish job %s after %d attempts, want completed after 2 (the killed one, the rescued one)", state, attempt)
	}
	b.Process.Signal(syscall.SIGTERM)
	if err := b.Wait(); err != nil {
		t.Errorf("the worker's graceful stop: %v", err)
	}
}

// TestRestartPostgres restarts PostgreSQL while a run's two chunks are
// being worked: the workers reconnect, the chunks whose writes failed are
// retried, and every address is recorded exactly once.
func TestRestartPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	st, err := openPGStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.pool.Close()
	p1, p2 := netip.MustParsePrefix("127.0.2.0/26"), netip.MustParsePrefix("127.0.3.0/26")
	st.addRun(t, 2, "org-a", jobs.RunPlan{Prefixes: []netip.Prefix{p1, p2}, PerPrefixRate: faultRate})
	ports := audittest.FreePorts(t, p1.Addr(), p2.Addr())
	c := start(t, jobs.Config{DSN: dsn, Workers: 2, Range: st, Judge: audit.Options{Index: index(t)}, Ports: ports,
		ScanTimeout: 10 * time.Second, Batch: 4, ChunkTimeout: 20 * time.Second, RescueAfter: 25 * time.Second, FetchPoll: 200 * time.Millisecond})
	if _, err := c.EnqueueRangeRun(t.Context(), "org-a", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first batches", 60*time.Second, func() bool {
		n, _, _, _ := st.counts(t, 2)
		return n >= 8
	})
	srv.Restart(t)
	n, _, _, state := st.counts(t, 2)
	t.Logf("PostgreSQL restarted with %d of 128 records written (run %s)", n, state)
	waitFor(t, "the run to finish", 120*time.Second, func() bool {
		_, _, _, state := st.counts(t, 2)
		return state == jobs.RunDone
	})
	records, writes, dups, _ := st.counts(t, 2)
	if records != 128 || writes != 128 || len(dups) > 0 {
		t.Errorf("%d records, %d writes, written twice: %v; want 128 records written once each", records, writes, dups)
	}
}

// enqueuer is an insert-only client.
func enqueuer(t *testing.T, dsn string) *jobs.Client {
	t.Helper()
	c, err := jobs.Open(t.Context(), jobs.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// chunkJob returns the run's only chunk job.
func chunkJob(t *testing.T, c *jobs.Client, run int64) *rivertype.JobRow {
	t.Helper()
	js, err := c.RunChunks(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 1 {
		t.Fatalf("%d chunk jobs, want 1", len(js))
	}
	return js[0]
}
