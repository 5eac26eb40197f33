// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package dhcpprobe

import "context"

// Outside Linux the raw sockets (AF_PACKET, raw ICMPv6 with the control
// messages used here) are not implemented: the probes report
// ErrUnsupported and the caller says "unknown" with that reason.

func openV4(context.Context, string) (PacketConn, error) { return nil, ErrUnsupported }
func openRA(context.Context, string) (PacketConn, error) { return nil, ErrUnsupported }
func openV6(context.Context, string) (PacketConn, error) { return nil, ErrUnsupported }
