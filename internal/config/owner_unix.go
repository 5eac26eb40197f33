// SPDX-License-Identifier: Apache-2.0

//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a credentials file owned by another user (root's
// files are accepted: root can read them anyway).
func checkOwner(path string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := uint32(os.Getuid()); sys.Uid != uid && sys.Uid != 0 {
		return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (owned by uid %d, not by you)", ErrCredentialsMode, sys.Uid)}
	}
	return nil
}
