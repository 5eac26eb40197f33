// SPDX-License-Identifier: Apache-2.0

//go:build unix

package datastore_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
)

// kevItem is a one-entry KEV catalog; version names it.
func kevItem(t *testing.T, version string) datastore.Item {
	t.Helper()
	doc := `{"catalogVersion":"` + version + `","count":1,"vulnerabilities":[{"cveID":"CVE-2023-1389","vendorProject":"TP-Link","product":"Archer AX21","dateAdded":"2023-05-01"}]}`
	p, err := datastore.Parse([]byte(doc), "kev-"+version+".json")
	if err != nil {
		t.Fatal(err)
	}
	return p.Item
}

// snapshots lists the snapshot directories and temporary links in the store.
func snapshots(t *testing.T, s *datastore.Store) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"snap-*", ".current-snap-*"} {
		m, err := filepath.Glob(filepath.Join(s.Dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	return out
}

// TestSnapshotIsWorldReadable: whatever the umask, a snapshot is 0755
// directories and 0644 files, so a store root writes serves every user
// (issue 8 §5.8: MkdirTemp made it 0700).
func TestSnapshotIsWorldReadable(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	s := datastore.New(t.TempDir())
	if _, err := s.Put([]datastore.Item{kevItem(t, "1")}, nil); err != nil {
		t.Fatal(err)
	}
	snap, err := filepath.EvalSymlinks(filepath.Join(s.Dir, "current"))
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(snap, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = 0o755
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableStoreIsAnError: a store that exists but that this user
// cannot read is an error naming it, not a silent fall back to the
// built-in data (issue 8 §5.8). As root, the reader runs as "nobody" in
// a child process (root reads everything).
func TestUnreadableStoreIsAnError(t *testing.T) {
	if dir := os.Getenv("DATASTORE_TEST_OPEN"); dir != "" {
		// The child: open the store it was given.
		_, info, err := datastore.Open(&datastore.Store{Dir: dir})
		var re *datastore.ReadError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("Open of an unreadable store = %v (fallback %q), want a ReadError naming %s", err, info.Fallback, dir)
		}
		return
	}
	base, err := os.MkdirTemp("", "routerwatch-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	s := datastore.New(filepath.Join(base, "data"))
	if _, err := s.Put([]datastore.Item{kevItem(t, "1")}, nil); err != nil {
		t.Fatal(err)
	}
	snap, err := filepath.EvalSymlinks(filepath.Join(s.Dir, "current"))
	if err != nil {
		t.Fatal(err)
	}
	// The store an older routerwatch wrote as root: private snapshots.
	mode := fs.FileMode(0o700)
	if os.Geteuid() != 0 {
		mode = 0o000 // the owner itself cannot read it
		t.Cleanup(func() { os.Chmod(snap, 0o755) })
	}
	if err := os.Chmod(snap, mode); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		_, _, err := datastore.Open(s)
		var re *datastore.ReadError
		if !errors.As(err, &re) {
			t.Fatalf("Open of an unreadable store = %v, want a ReadError", err)
		}
		return
	}
	// Root: copy this test binary where "nobody" can run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "datastore.test")
	if err := copyFile(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestUnreadableStoreIsAnError$", "-test.v")
	cmd.Env = append(os.Environ(), "DATASTORE_TEST_OPEN="+s.Dir)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func copyFile(from, to string, mode fs.FileMode) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// TestPutRemovesOrphans: leftovers of an import that died (a snapshot
// "current" never pointed to, a temporary link) are removed by the next
// import; the current snapshot is kept (issue 8 §5.9).
func TestPutRemovesOrphans(t *testing.T) {
	s := datastore.New(t.TempDir())
	if _, err := s.Put([]datastore.Item{kevItem(t, "1")}, nil); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(s.Dir, "snap-123456789")
	if err := os.MkdirAll(filepath.Join(orphan, "kev"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, "kev", "x.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("snap-123456789", filepath.Join(s.Dir, ".current-snap-123456789")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put([]datastore.Item{kevItem(t, "2")}, nil); err != nil {
		t.Fatal(err)
	}
	left := snapshots(t, s)
	if len(left) != 1 {
		t.Errorf("left after an import: %v, want only the current snapshot", left)
	}
	_, info, err := datastore.Open(s)
	if err != nil || info.Fallback != "" || info.KEVVersion != "2" {
		t.Errorf("Open = %+v, %v", info, err)
	}
}

// TestKilledImportLeavesNoOrphan kills a real import with SIGKILL after it
// wrote its snapshot and before it swapped "current"; the next import
// removes the orphan and the killed one never shows.
func TestKilledImportLeavesNoOrphan(t *testing.T) {
	if dir := os.Getenv("DATASTORE_TEST_HANG_IN_PUT"); dir != "" {
		// The child: stop inside Put until killed.
		datastore.SetTestHookSnapshotWritten(func(string) {
			fmt.Println("snapshot written")
			time.Sleep(time.Minute)
			os.Exit(1) // never reached when the parent kills us
		})
		_, err := (&datastore.Store{Dir: dir}).Put([]datastore.Item{kevItem(t, "killed")}, nil)
		t.Fatalf("Put returned %v", err)
	}
	s := datastore.New(t.TempDir())
	if _, err := s.Put([]datastore.Item{kevItem(t, "1")}, nil); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^TestKilledImportLeavesNoOrphan$")
	cmd.Env = append(os.Environ(), "DATASTORE_TEST_HANG_IN_PUT="+s.Dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "snapshot written" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the child ended before writing its snapshot")
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the child did not reach the hook")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if left := snapshots(t, s); len(left) != 2 {
		t.Fatalf("after the kill: %v, want the current snapshot and the orphan", left)
	}
	if _, info, err := datastore.Open(s); err != nil || info.KEVVersion != "1" {
		t.Fatalf("the killed import shows: %+v, %v", info, err)
	}
	if _, err := s.Put([]datastore.Item{kevItem(t, "2")}, nil); err != nil {
		t.Fatal(err)
	}
	if left := snapshots(t, s); len(left) != 1 {
		t.Errorf("after the next import: %v, want only the current snapshot", left)
	}
}

// TestReadersSurviveConcurrentPuts: readers resolve "current" once and
// read again if their snapshot is removed under them, so imports running
// meanwhile never make Open fail or fall back.
func TestReadersSurviveConcurrentPuts(t *testing.T) {
	s := datastore.New(t.TempDir())
	if _, err := s.Put([]datastore.Item{kevItem(t, "0")}, nil); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, info, err := datastore.Open(s)
				if err != nil || info.Fallback != "" {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%v %q", err, info.Fallback))
					mu.Unlock()
				}
			}
		}()
	}
	for i := 1; i <= 30; i++ {
		if _, err := s.Put([]datastore.Item{kevItem(t, fmt.Sprint(i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d reads failed during imports, first: %s", len(failures), failures[0])
	}
}
