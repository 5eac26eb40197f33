// SPDX-License-Identifier: Apache-2.0

// Package inputfile opens the files a user names (target lists, resume
// files, indicator lists, advisory documents, configuration): regular
// files only, read with a size bound.
//
// The contract: Open never blocks on a FIFO or a device (a FIFO opened
// for reading waits forever for a writer; /dev/zero never ends), and
// refuses anything that is not a regular file with an error that names
// the path and what it is. ReadAll also refuses files larger than its
// limit instead of growing without bound.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is returned for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned by ReadAll for a file above its limit.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file (symbolic links
// are followed). It does not block on a FIFO.
func Open(path string) (*os.File, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))}
	}
	return f, nil
}

// ReadAll reads the regular file at path, at most limit bytes; a larger
// file is an error wrapping ErrTooLarge.
func ReadAll(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)}
	}
	return b, nil
}

// Check reports whether path is a regular file, without opening it
// (for callers that open it themselves, for writing).
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))}
	}
	return nil
}

// kind names a non-regular file mode in words.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
