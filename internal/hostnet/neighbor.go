// SPDX-License-Identifier: Apache-2.0

package hostnet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// atfCom is the "complete" flag of an ARP entry (linux/if_arp.h): the MAC
// is known. Incomplete entries show 00:00:00:00:00:00.
const atfCom = 0x2

// ParseProcNetARP returns the complete IPv4 neighbour entries of
// /proc/net/arp. A sample:
//
//	IP address       HW type     Flags       HW address            Mask     Device
//	192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
//	192.0.2.7        0x1         0x0         00:00:00:00:00:00     *        eth0
//
// The second entry is incomplete (no reply yet) and is skipped.
func ParseProcNetARP(b []byte) (map[netip.Addr]net.HardwareAddr, error) {
	out := make(map[netip.Addr]net.HardwareAddr)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 512), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if line == 1 || len(f) == 0 {
			continue
		}
		if len(f) < 6 {
			return nil, fmt.Errorf("arp line %d: %d fields, want 6", line, len(f))
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("arp line %d: address %q", line, f[0])
		}
		flags, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("arp line %d: flags %q", line, f[2])
		}
		mac, err := net.ParseMAC(f[3])
		if err != nil {
			return nil, fmt.Errorf("arp line %d: %w", line, err)
		}
		if flags&atfCom == 0 {
			continue
		}
		out[a] = mac
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("arp: %w", err)
	}
	return out, nil
}

// Neighbors returns the IPv4 neighbour table. IPv6 neighbours are not
// available from /proc (they need netlink), so they are never listed.
func Neighbors(env Env) (map[netip.Addr]net.HardwareAddr, error) {
	if !env.procOS() {
		return nil, ErrUnsupported
	}
	b, err := env.readFile(ProcARPPath)
	if err != nil {
		return nil, err
	}
	return ParseProcNetARP(b)
}

// OUIRegistry maps the first three octets of a MAC address (an IEEE MA-L
// assignment) to the organisation that holds it.
type OUIRegistry struct {
	orgs map[[3]byte]string
}

// Len returns the number of assignments loaded.
func (r *OUIRegistry) Len() int { return len(r.orgs) }

// ErrNoOUI reports that the registry file is not installed.
var ErrNoOUI = errors.New("hostnet: IEEE OUI registry not installed (Debian/Ubuntu: apt install ieee-data)")

// LoadOUI reads the registry from env.OUIPath (default DefaultOUIPath).
func LoadOUI(env Env) (*OUIRegistry, error) {
	path := env.OUIPath
	if path == "" {
		path = DefaultOUIPath
	}
	b, err := env.readFile(path)
	if err != nil {
		if isNotExist(err) {
			return nil, fmt.Errorf("%w: %s missing", ErrNoOUI, path)
		}
		return nil, err
	}
	r, err := ParseOUI(b)
	if err != nil {
		return nil, fmt.Errorf("hostnet: %s: %w", path, err)
	}
	return r, nil
}

// ParseOUI reads the IEEE MA-L registry text (oui.txt). Only the "(hex)"
// lines matter; a sample:
//
//	OUI/MA-L                                                    Organization
//	company_id                                                  Organization
//	                                                            Address
//
//	00-22-72   (hex)		American Micro-Fuel Device Corp.
//	002272     (base 16)		American Micro-Fuel Device Corp.
//					2181 Buchanan Loop
//
// A file with no assignment at all is an error: it is not the registry.
func ParseOUI(b []byte) (*OUIRegistry, error) {
	r := &OUIRegistry{orgs: make(map[[3]byte]string)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1024), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "(hex)")
		if i < 0 {
			continue
		}
		key, ok := parseOUIKey(strings.TrimSpace(line[:i]))
		if !ok {
			continue
		}
		org := strings.TrimSpace(line[i+len("(hex)"):])
		if org == "" {
			continue
		}
		r.orgs[key] = org
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.orgs) == 0 {
		return nil, errors.New("no OUI assignments found")
	}
	return r, nil
}

// parseOUIKey reads "00-22-72".
func parseOUIKey(s string) ([3]byte, bool) {
	var k [3]byte
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return k, false
	}
	for i, p := range parts {
		if len(p) != 2 {
			return k, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return k, false
		}
		k[i] = byte(v)
	}
	return k, true
}

// Lookup returns the organisation for mac, or "" and the reason it is
// unknown.
func (r *OUIRegistry) Lookup(mac net.HardwareAddr) (vendor, note string) {
	if len(mac) < 3 {
		return "", "MAC address too short"
	}
	if mac[0]&0x02 != 0 {
		// Locally administered: randomised or set by software; no
		// vendor owns it.
		return "", "locally administered MAC address (no vendor assignment)"
	}
	if org, ok := r.orgs[[3]byte{mac[0], mac[1], mac[2]}]; ok {
		return org, ""
	}
	// MA-M and MA-S blocks (oui28/oui36) are not loaded.
	return "", "not in the IEEE MA-L registry"
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
