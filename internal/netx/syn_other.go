// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package netx

import "net"

// listenRawTCP: SYN sweeps are implemented on Linux only.
func listenRawTCP(string) (*net.IPConn, error) { return nil, ErrRawUnavailable }
