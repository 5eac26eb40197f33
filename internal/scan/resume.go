// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxResumeLine bounds one line of the resume file: a record is a few
// kilobytes; a line longer than this is not one of ours.
const maxResumeLine = 4 << 20

// Resume is the resume file: every finished target's record, one JSON
// line each, appended as the scan goes.
type Resume struct {
	f    *os.File
	done map[string]bool
	// Dropped counts lines that were not records (a partial last line left
	// by a crash, or damage); they are ignored, never fatal.
	Dropped int
}

// OpenResume opens (or creates) path, reads the records already in it and
// calls each(record) for every one of them, drops a partial last line (a
// crash during a write leaves at most that), and positions the file for
// appending. Lines that do not parse as records are counted in Dropped.
func OpenResume(path string, each func(*Record)) (*Resume, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("scan: resume file: %w", err)
	}
	r := &Resume{f: f, done: map[string]bool{}}
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

// read scans the file and returns the offset after the last complete line.
func (r *Resume) read(each func(*Record)) (int64, error) {
	br := bufio.NewReaderSize(r.f, 64<<10)
	var end int64
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
			switch {
			case len(bytes.TrimSpace(line)) == 0 && line != nil:
				// A blank line: nothing to count.
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
