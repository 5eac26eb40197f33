// SPDX-License-Identifier: Apache-2.0

package hostnet

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
)

// readFileBounded reads at most maxFileSize bytes of path; a longer file
// is refused.
func readFileBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return b, nil
}

// systemInterfaces lists interfaces through the net package (portable).
func systemInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, it := range ifs {
		x := Interface{
			Name: it.Name, Index: it.Index, MAC: it.HardwareAddr,
			Up: it.Flags&net.FlagUp != 0, Loopback: it.Flags&net.FlagLoopback != 0,
		}
		addrs, err := it.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", it.Name, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ones, _ := ipn.Mask.Size()
			// Prefixes cannot carry zones; LinkLocalIPv6 adds the
			// interface name back.
			ip = ip.Unmap().WithZone("")
			x.Prefixes = append(x.Prefixes, netip.PrefixFrom(ip, ones))
		}
		out = append(out, x)
	}
	return out, nil
}
