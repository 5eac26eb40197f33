// SPDX-License-Identifier: Apache-2.0

package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(regular, []byte("192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"regular file", regular, nil},
		{"symlink to a regular file", link, nil},
		{"fifo", fifo, ErrNotRegular},
		{"directory", dir, ErrNotRegular},
		{"character device", "/dev/null", ErrNotRegular},
		{"missing", filepath.Join(dir, "nope"), os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				f, err := Open(tc.path)
				if err == nil {
					f.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("Open(%s) = %v, want %v", tc.name, err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Open(%s) blocked", tc.name)
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadAll(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadAll at the limit = %q, %v", b, err)
	}
	if _, err := ReadAll(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadAll over the limit = %v, want ErrTooLarge", err)
	}
	if err := Check(p); err != nil {
		t.Errorf("Check(regular) = %v", err)
	}
	if err := Check("/dev/null"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Check(/dev/null) = %v", err)
	}
}
