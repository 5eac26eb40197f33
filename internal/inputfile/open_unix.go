// SPDX-License-Identifier: Apache-2.0

//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// openNonBlocking opens path with O_NONBLOCK, so that opening a FIFO
// returns at once instead of waiting for a writer; the flag has no
// effect on regular files, the only ones Open keeps.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
