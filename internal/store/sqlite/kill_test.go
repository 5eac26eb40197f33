// SPDX-License-Identifier: Apache-2.0

//go:build unix

package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// childEnv tells the test binary it is TestKill9's child: "round:path".
const childEnv = "ROUTERWATCH_STORE_KILL_CHILD"

// childSnapshot is the snapshot numbered n that the child writes, and the
// parent expects back: sizes vary from a few KiB to over 1 MiB, so that
// a kill often lands inside a write.
func childSnapshot(n int) *device.Snapshot {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	return storetest.Snapshot(n, at, (n*7919)%(1536<<10))
}

// TestKillChild is not a test of its own: run by TestKill9 as a separate
// process, it writes snapshots in a loop and reports each one's ID on
// stdout after PutSnapshot returned, until it is killed.
func TestKillChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("runs only as TestKill9's child process")
	}
	var round int
	var path string
	if _, err := fmt.Sscanf(spec, "%d:", &round); err != nil {
		t.Fatalf("bad %s: %v", childEnv, err)
	}
	path = spec[strings.IndexByte(spec, ':')+1:]
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Printf("error opening: %v\n", err)
		os.Exit(3)
	}
	if _, err := s.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(3)
	}
	// Bounded: if the parent never kills it, it stops by itself.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		n := round*100000 + i
		m, err := s.PutSnapshot(ctx, "r", childSnapshot(n))
		if err != nil {
			fmt.Printf("error writing: %v\n", err)
			os.Exit(3)
		}
		// One write(2) per line: the parent reads whole lines only.
		os.Stdout.WriteString(fmt.Sprintf("committed %d %d\n", m.ID, n))
	}
	fmt.Println("error: not killed within 30 s")
	os.Exit(3)
}

// TestKill9 kills a real process that is writing snapshots, with SIGKILL,
// at random moments, several times over the same store, then checks that
// the store opens, passes SQLite's integrity check, and holds every
// snapshot the child reported as committed, with its content.
func TestKill9(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "store.db")
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	committed := map[int64]int{} // snapshot ID → number
	const rounds = 6
	for round := 1; round <= rounds; round++ {
		cmd := exec.Command(exe, "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%s", childEnv, round, path))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() }) // an error is fine: it is dead
		lines := make(chan string)
		go func() {
			defer close(lines)
			r := bufio.NewReader(out)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return // a line cut by the kill has no newline: not reported
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		var killAt <-chan time.Time
		timeout := time.After(60 * time.Second)
		reported := 0
		killed := false
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				var id int64
				var n int
				if _, err := fmt.Sscanf(line, "committed %d %d", &id, &n); err != nil {
					if strings.HasPrefix(line, "error") {
						t.Errorf("round %d: child: %s", round, line)
					}
					continue
				}
				committed[id] = n
				reported++
				if killAt == nil {
					// Let it write a little, then kill it wherever it is.
					killAt = time.After(time.Duration(20+rng.IntN(300)) * time.Millisecond)
				}
			case <-killAt:
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed, killAt = true, nil
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("round %d: the child wrote nothing in 60 s; stderr: %s", round, stderr.String())
			}
		}
		err = cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !killed || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the child ended by itself (%v); stderr: %s", round, err, stderr.String())
		}
		t.Logf("round %d: killed after %d reported commits", round, reported)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("the store does not open after %d kills: %v", rounds, err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(t.Context()); err != nil {
		t.Fatal(err)
	}
	n, err := s.CountSnapshots(t.Context(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if n < len(committed) {
		t.Errorf("%d snapshots in the store, but the children reported %d commits", n, len(committed))
	}
	t.Logf("%d snapshots reported committed, %d stored (a commit may land just before the report)", len(committed), n)
	// Every snapshot in the store, reported or not, is whole: a write cut
	// by the kill left nothing.
	for off := 0; off < n; off += store.MaxLimit {
		page, err := s.Snapshots(t.Context(), "r", store.Page{Limit: store.MaxLimit, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			num := int(m.TakenAt.Sub(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) / time.Second)
			got, err := s.Snapshot(t.Context(), m.ID)
			if err != nil {
				t.Errorf("stored snapshot %d: %v", m.ID, err)
				continue
			}
			if err := storetest.CheckSnapshot(childSnapshot(num), &got.Snapshot); err != nil {
				t.Errorf("stored snapshot %d is not whole: %v", m.ID, err)
			}
		}
	}
	for id, num := range committed {
		got, err := s.Snapshot(t.Context(), id)
		if err != nil {
			t.Errorf("reported snapshot %d (number %d): %v", id, num, err)
			continue
		}
		if err := storetest.CheckSnapshot(childSnapshot(num), &got.Snapshot); err != nil {
			t.Errorf("reported snapshot %d: %v", id, err)
		}
	}
}
