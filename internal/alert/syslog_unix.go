// SPDX-License-Identifier: Apache-2.0

//go:build unix

package alert

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"syscall"
)

// defaultLocalSocket is where the system's syslog daemon listens.
var defaultLocalSocket = func() string {
	if runtime.GOOS == "darwin" {
		return "/var/run/syslog"
	}
	return "/dev/log"
}()

// dialLocal connects to the local syslog socket: a datagram socket, or a
// stream socket where the daemon listens on one (syslog-ng can).
func dialLocal(ctx context.Context, addr string) (net.Conn, bool, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unixgram", addr)
	if errors.Is(err, syscall.EPROTOTYPE) {
		if conn, err := d.DialContext(ctx, "unix", addr); err == nil {
			return conn, true, nil
		}
	}
	switch {
	case err == nil:
		return conn, false, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("syslog: the local socket %s does not exist (is a syslog daemon or journald running?)", addr)
	case errors.Is(err, syscall.ECONNREFUSED) && !isSocket(addr):
		return nil, false, fmt.Errorf("syslog: %s is not a socket", addr)
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, false, fmt.Errorf("syslog: nothing listens on the local socket %s (is the syslog daemon running?)", addr)
	}
	return nil, false, fmt.Errorf("syslog: %w", err)
}

// isSocket reports whether path names a Unix socket (Linux refuses a
// connection to any other file as if nobody listened).
func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}
