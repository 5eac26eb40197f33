// SPDX-License-Identifier: Apache-2.0

//go:build unix

package csafprovider

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestWriteDir: the directory lands in the web root with listings as
// index.html, world-readable whatever the umask; a second write replaces
// the first (nothing stale stays); a site's own security.txt is kept and
// the result says whether it names the metadata.
func TestWriteDir(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	root := t.TempDir()
	d := build(t, testDocs(t), testOptions())
	res, err := d.WriteDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if res.SecurityTxt != SecurityTxtWritten || res.Dir != filepath.Join(root, ".well-known", "csaf") {
		t.Errorf("result %+v", res)
	}
	files := 0
	for _, p := range d.Paths() {
		rel, ok := strings.CutPrefix(p, "/.well-known/")
		if !ok {
			t.Fatalf("path %s outside .well-known", p)
		}
		if strings.HasSuffix(rel, "/") {
			rel += "index.html"
		}
		got, err := os.ReadFile(filepath.Join(root, ".well-known", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := d.File(p)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs on disk", rel)
		}
		if rel != "security.txt" {
			files++
		}
	}
	if res.Files != files {
		t.Errorf("%d files reported, %d written", res.Files, files)
	}
	err = filepath.WalkDir(filepath.Join(root, ".well-known"), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := e.Info()
		if want := fs.FileMode(0o644); e.IsDir() {
			want = 0o755
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Again with fewer documents: the old ones are gone, nothing
	// temporary is left, and our security.txt is recognised.
	d2 := build(t, testDocs(t)[:1], testOptions())
	res, err = d2.WriteDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".well-known", "csaf", "white", "2025")); !os.IsNotExist(err) {
		t.Errorf("a document of the first write is still there: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, ".well-known"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"csaf", "security.txt"}) {
		t.Errorf(".well-known holds %v", names)
	}
	if res.SecurityTxt != SecurityTxtHasCSAF {
		t.Errorf("security.txt outcome %s, want %s", res.SecurityTxt, SecurityTxtHasCSAF)
	}

	// The site's own security.txt is never overwritten.
	own := []byte("Contact: mailto:security@example.com\nExpires: 2027-01-01T00:00:00Z\n")
	if err := os.WriteFile(filepath.Join(root, ".well-known", "security.txt"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err = d2.WriteDir(root); err != nil || res.SecurityTxt != SecurityTxtMissing {
		t.Errorf("with the site's own security.txt: %+v %v", res, err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, ".well-known", "security.txt")); !bytes.Equal(got, own) {
		t.Error("the site's security.txt was changed")
	}

	// csaf as a file is refused, and left alone.
	root2 := t.TempDir()
	os.MkdirAll(filepath.Join(root2, ".well-known"), 0o755)
	os.WriteFile(filepath.Join(root2, ".well-known", "csaf"), []byte("x"), 0o644)
	if _, err := d2.WriteDir(root2); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("csaf as a file: %v", err)
	}
}
