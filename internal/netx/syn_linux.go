// SPDX-License-Identifier: Apache-2.0

//go:build linux

package netx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// listenRawTCP opens a raw IPPROTO_TCP socket: it sends the TCP segments
// written to it (the kernel adds the IP header) and receives a copy of
// every TCP segment that arrives (Go removes the IPv4 header).
func listenRawTCP(network string) (*net.IPConn, error) {
	c, err := net.ListenIP(network+":tcp", nil)
	if err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("%w: %v", ErrRawUnavailable, err)
		}
		return nil, err
	}
	return c, nil
}
