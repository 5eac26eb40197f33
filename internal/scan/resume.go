// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/routerwatch/routerwatch/internal/inputfile"
	"github.com/routerwatch/routerwatch/internal/target"
)

// maxResumeLine bounds one line of the resume file: a record is a few
// kilobytes; a line longer than this is not one of ours.
const maxResumeLine = 4 << 20

// resumeFormat is the version of the resume file's header.
const resumeFormat = 1

// ErrNotResumeFile is returned for a resume path that holds something else
// (a target list, another program's file, a resume file of another scan):
// the file is left byte for byte as it was.
var ErrNotResumeFile = errors.New("not a resume file of this scan")

// header is the first line of a resume file: it ties the file to one scan
// (its targets, ports and vantage), so that a file written by another
// scan, or any other file, is refused instead of rewritten.
type header struct {
	Format int    `json:"routerwatch_resume"`
	Scan   string `json:"scan"`
}

// ScanID names what a scan measures: a hash of the target set, the ports
// probed and the vantage. Two runs with the same ID may share a resume
// file; the rate, the workers and the output format do not matter.
func ScanID(targets target.Set, ports []string, vantage string) string {
	h := sha256.New()
	for _, r := range targets.Ranges() {
		fmt.Fprintf(h, "%s-%s\n", r.First, r.Last)
	}
	fmt.Fprintf(h, "ports %s\nvantage %s\n", strings.Join(ports, ","), vantage)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Resume is the resume file: a header line naming the scan, then every
// finished target's record, one JSON line each, appended as the scan goes,
// and, for a sweep, each finished prefix's summary (a PrefixSummary line):
// its addresses, silent ones included, are not swept again.
type Resume struct {
	f    *os.File
	done map[string]bool
	// prefixes are the prefixes a sweep finished, by prefix.
	prefixes map[string]PrefixSummary
	// Dropped counts lines that were not records (a partial last line left
	// by a crash, or damage); they are ignored, never fatal.
	Dropped int
}

// OpenResume opens path for the scan scanID: it creates the file with its
// header when it does not exist or is empty; otherwise the file must be a
// regular file whose header names scanID, or OpenResume fails with
// ErrNotResumeFile and changes nothing. It then calls each(record) for
// every record in it, drops a partial last line (a crash during a write
// leaves at most that), and positions the file for appending. Lines that
// do not parse as records are counted in Dropped.
func OpenResume(path, scanID string, each func(*Record)) (*Resume, error) {
	f, err := openResumeFile(path, scanID)
	if err != nil {
		return nil, err
	}
	r := &Resume{f: f, done: map[string]bool{}, prefixes: map[string]PrefixSummary{}}
	end, err := r.read(each)
	if err == nil {
		// Cut a partial last line so that the next record starts on a line
		// of its own.
		err = f.Truncate(end)
	}
	if err == nil {
		_, err = f.Seek(end, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("scan: resume file %s: %w", path, err)
	}
	return r, nil
}

// openResumeFile returns path open for reading and writing, positioned
// after a valid header; nothing is written to an existing file that is
// not a resume file of scanID.
func openResumeFile(path, scanID string) (*os.File, error) {
	hdr, _ := json.Marshal(header{Format: resumeFormat, Scan: scanID})
	hdr = append(hdr, '\n')
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, fmt.Errorf("scan: resume file: %w", err)
		}
		if _, err := f.Write(hdr); err != nil {
			f.Close()
			return nil, fmt.Errorf("scan: resume file: %w", err)
		}
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("scan: resume file: %w", err)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("scan: resume file: %w", inputfile.Check(path))
	}
	// Check the header through a read-only handle before opening for
	// writing, so that a refused file is never opened to be changed.
	ro, err := inputfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scan: resume file: %w", err)
	}
	n, first, complete, err := readLine(bufio.NewReader(ro))
	ro.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scan: resume file %s: %w", path, err)
	}
	if n == 0 {
		// Empty: a new resume file.
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			_, err = f.Write(hdr)
		}
		if err != nil {
			return nil, fmt.Errorf("scan: resume file: %w", err)
		}
		return f, nil
	}
	var h header
	if !complete || first == nil || json.Unmarshal(first, &h) != nil || h.Format == 0 || h.Scan == "" {
		return nil, fmt.Errorf("scan: %s: %w: its first line is not a routerwatch resume header; refusing to change it (give a new file name)", path, ErrNotResumeFile)
	}
	if h.Format != resumeFormat {
		return nil, fmt.Errorf("scan: %s: %w: resume format %d, this routerwatch writes %d", path, ErrNotResumeFile, h.Format, resumeFormat)
	}
	if h.Scan != scanID {
		return nil, fmt.Errorf("scan: %s: %w: it was written by a scan of other targets, ports or vantage; refusing to mix them (give a new file name)", path, ErrNotResumeFile)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("scan: resume file: %w", err)
	}
	return f, nil
}

// read scans the file (after its header) and returns the offset after
// the last complete line.
func (r *Resume) read(each func(*Record)) (int64, error) {
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(r.f, 64<<10)
	// The header, checked by openResumeFile (or just written).
	end, _, _, err := readLine(br)
	if err != nil {
		return 0, err
	}
	for {
		n, line, complete, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		switch {
		case n == 0:
		case !complete:
			r.Dropped++ // a partial last line: cut by the caller
		default:
			end += n
			var rec Record
			var ps PrefixSummary
			switch {
			case len(bytes.TrimSpace(line)) == 0 && line != nil:
				// A blank line: nothing to count.
			case line != nil && bytes.Contains(line, []byte(`"type":"prefix"`)) && json.Unmarshal(line, &ps) == nil &&
				ps.Type == prefixType && ps.Prefix != "":
				r.prefixes[ps.Prefix] = ps
			case line == nil, json.Unmarshal(line, &rec) != nil, rec.Target == "", rec.SchemaVersion == 0:
				r.Dropped++
			default:
				r.done[rec.Target] = true
				if each != nil {
					each(&rec)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return end, nil
		}
	}
}

// readLine reads the next line. It returns its length in bytes (newline
// included), its content (nil when longer than maxResumeLine: not one of
// ours), whether it ended with a newline, and io.EOF at the end.
func readLine(br *bufio.Reader) (n int64, line []byte, complete bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		n += int64(len(chunk))
		if n <= maxResumeLine {
			line = append(line, chunk...)
		} else {
			line = nil
		}
		switch {
		case err == nil:
			if n > maxResumeLine {
				return n, nil, true, nil
			}
			return n, line, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return n, line, false, err
		}
	}
}

// Done reports whether target already has a record.
func (r *Resume) Done(target string) bool { return r.done[target] }

// Prefix returns the summary of a prefix a sweep finished: its addresses
// are not swept again.
func (r *Resume) Prefix(prefix string) (PrefixSummary, bool) {
	ps, ok := r.prefixes[prefix]
	return ps, ok
}

// AppendPrefix writes a finished prefix's summary as one line, synced
// like a record. Write it only once every live address of the prefix has
// its record in the file.
func (r *Resume) AppendPrefix(ps *PrefixSummary) error {
	b, err := json.Marshal(ps)
	if err != nil {
		return fmt.Errorf("scan: encode prefix %s: %w", ps.Prefix, err)
	}
	if _, err := r.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("scan: resume file: %w", err)
	}
	r.prefixes[ps.Prefix] = *ps
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("scan: resume file: %w", err)
	}
	return nil
}

// Len returns how many targets have a record.
func (r *Resume) Len() int { return len(r.done) }

// Append writes rec as one line with a single write, then syncs, so that
// a crash loses at most the line being written.
func (r *Resume) Append(rec *Record) error {
	b, err := MarshalLine(rec)
	if err != nil {
		return err
	}
	if _, err := r.f.Write(b); err != nil {
		return fmt.Errorf("scan: resume file: %w", err)
	}
	r.done[rec.Target] = true
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("scan: resume file: %w", err)
	}
	return nil
}

// Close closes the file.
func (r *Resume) Close() error { return r.f.Close() }
