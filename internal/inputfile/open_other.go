// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package inputfile

import "os"

// openNonBlocking opens path; on these systems opening a named pipe does
// not wait for a writer.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
