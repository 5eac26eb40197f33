// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package hostnet

import "runtime"

// DefaultEnv returns the Env of the running system. Outside Linux there is
// no /proc: gateways and the neighbour table report ErrUnsupported, while
// interfaces (and resolv.conf on Unix systems) still work.
func DefaultEnv() Env {
	return Env{GOOS: runtime.GOOS, ReadFile: readFileBounded, Interfaces: systemInterfaces}
}
