// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/jobs"
)

// Environment of a worker process started by a fault test.
const (
	envChild  = "RW_JOBS_TEST_WORKER" // the DSN
	envPorts  = "RW_JOBS_TEST_PORTS"  // audit.Ports as JSON
	envRescue = "RW_JOBS_TEST_RESCUE" // RescueAfter
	envBatch  = "RW_JOBS_TEST_BATCH"
	// envBlockFinish makes the worker's store hang when a run's finish
	// job writes the run's end, until the job's context ends.
	envBlockFinish = "RW_JOBS_TEST_BLOCK_FINISH"
	childReady     = "worker started"
)

// childMain runs a worker process when the test binary is started as one
// (the fault tests): a jobs client on the PostgreSQL test store that
// works until SIGTERM (a graceful stop) or SIGKILL. It reports whether it
// ran.
func childMain() bool {
	dsn := os.Getenv(envChild)
	if dsn == "" {
		return false
	}
	if err := child(dsn); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(3)
	}
	os.Exit(0)
	return true
}

func child(dsn string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var ports audit.Ports
	if err := json.Unmarshal([]byte(os.Getenv(envPorts)), &ports); err != nil {
		return err
	}
	rescue, err := time.ParseDuration(os.Getenv(envRescue))
	if err != nil {
		return err
	}
	var batch int
	fmt.Sscan(os.Getenv(envBatch), &batch)
	ds, err := builtin.Dataset()
	if err != nil {
		return err
	}
	st, err := openPGStore(ctx, dsn)
	if err != nil {
		return err
	}
	var rs jobs.RangeStore = st
	if os.Getenv(envBlockFinish) != "" {
		rs = blockFinish{st}
	}
	c, err := jobs.Open(ctx, jobs.Config{DSN: dsn, Workers: 2, Range: rs, Judge: audit.Options{Index: advisory.NewIndex(ds)},
		Ports: ports, ScanTimeout: 10 * time.Second, Batch: batch, ChunkTimeout: rescue - 2*time.Second, RescueAfter: rescue, FetchPoll: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	if err := c.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, childReady)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Stop(sctx)
}

// blockFinish is a store whose end of a run hangs until the job's
// context ends: a worker killed meanwhile dies in the finish job.
type blockFinish struct{ *pgStore }

func (b blockFinish) SetRangeRunState(ctx context.Context, org string, id int64, state string, at time.Time) error {
	if state == jobs.RunRunning {
		return b.pgStore.SetRangeRunState(ctx, org, id, state, at)
	}
	<-ctx.Done()
	return ctx.Err()
}

// startWorker starts this test binary as a worker process on dsn, with
// env added to its environment.
func startWorker(t *testing.T, dsn string, ports audit.Ports, rescue time.Duration, batch int, env ...string) *exec.Cmd {
	t.Helper()
	pj, _ := json.Marshal(ports)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChild+"="+dsn, envPorts+"="+string(pj), envRescue+"="+rescue.String(), fmt.Sprintf("%s=%d", envBatch, batch))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}
