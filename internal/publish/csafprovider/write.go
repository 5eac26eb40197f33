// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecurityTxt outcomes of WriteDir.
const (
	SecurityTxtWritten = "written"  // there was none; ours is in place
	SecurityTxtHasCSAF = "has-csaf" // the site's own names our metadata already; kept
	SecurityTxtMissing = "missing"  // the site's own lacks our CSAF line; kept, the caller should say so
	fileMode           = 0o644
)

// WriteResult says what WriteDir did.
type WriteResult struct {
	// Dir is the csaf directory written (ROOT/.well-known/csaf).
	Dir   string
	Files int
	// SecurityTxt is one of the SecurityTxt… outcomes.
	SecurityTxt string
}

// WriteDir writes the directory into a web root: ROOT/.well-known/csaf/…
// with an index.html per directory (the listing, for servers that do not
// list directories themselves), and ROOT/.well-known/security.txt when the
// site has none (a site's own security.txt is never overwritten: the
// result says whether it names our metadata). The csaf directory is built
// beside the old one and swapped in with renames, so a web server sees the
// old directory or the new, and a failed write leaves the old in place.
// Everything written is world-readable: it is for a public web server.
func (d *Directory) WriteDir(root string) (WriteResult, error) {
	wk := filepath.Join(root, ".well-known")
	res := WriteResult{Dir: filepath.Join(wk, "csaf")}
	if _, err := os.Stat(wk); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(wk, 0o755); err != nil {
			return res, err
		}
		// Made here: readable by the web server whatever the umask.
		if err := os.Chmod(wk, 0o755); err != nil {
			return res, err
		}
	}
	if fi, err := os.Lstat(res.Dir); err == nil && !fi.IsDir() {
		return res, fmt.Errorf("%s exists and is not a directory", res.Dir)
	}
	tmp, err := os.MkdirTemp(wk, ".csaf-new-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp) // gone after the swap; what is left of a failure
	if err := os.Chmod(tmp, 0o755); err != nil {
		return res, err
	}
	for _, p := range d.Paths() {
		rel, ok := strings.CutPrefix(p, WellKnown)
		if !ok {
			continue
		}
		if rel == "" || strings.HasSuffix(rel, "/") {
			rel += "index.html"
		}
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return res, err
		}
		if err := writeFile(dst, d.files[p].data); err != nil {
			return res, err
		}
		res.Files++
	}
	// Directories as the umask left them may be private: a web server
	// running as another user must read them.
	if err := filepath.WalkDir(tmp, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return err
		}
		return os.Chmod(p, 0o755)
	}); err != nil {
		return res, err
	}
	if err := syncDir(tmp); err != nil {
		return res, err
	}
	old := ""
	if _, err := os.Lstat(res.Dir); err == nil {
		old = filepath.Join(wk, ".csaf-old-"+filepath.Base(tmp)[len(".csaf-new-"):])
		if err := os.Rename(res.Dir, old); err != nil {
			return res, err
		}
	}
	if err := os.Rename(tmp, res.Dir); err != nil {
		if old != "" {
			if rerr := os.Rename(old, res.Dir); rerr != nil {
				return res, fmt.Errorf("%w (and putting the old directory back failed: %v; it is at %s)", err, rerr, old)
			}
		}
		return res, err
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return res, fmt.Errorf("the new directory is in place, but removing the old one failed: %w", err)
		}
	}
	if err := syncDir(wk); err != nil {
		return res, err
	}
	res.SecurityTxt, err = d.writeSecurityTxt(filepath.Join(wk, "security.txt"))
	return res, err
}

// writeSecurityTxt puts ours in place when the site has none.
func (d *Directory) writeSecurityTxt(dst string) (string, error) {
	cur, err := os.ReadFile(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		tmp := dst + ".tmp"
		if err := writeFile(tmp, d.security); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return "", err
		}
		return SecurityTxtWritten, nil
	case err != nil:
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(cur))
	for sc.Scan() {
		field, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.EqualFold(strings.TrimSpace(field), "CSAF") && strings.TrimSpace(value) == d.pmdURL {
			return SecurityTxtHasCSAF, nil
		}
	}
	return SecurityTxtMissing, nil
}

// writeFile writes and syncs one world-readable file, whatever the umask.
func writeFile(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	// Best effort: some platforms (Windows) cannot sync a directory;
	// the renames happened all the same.
	_ = f.Sync()
	return nil
}
