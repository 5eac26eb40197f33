// SPDX-License-Identifier: Apache-2.0

package hostnet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Paths of the kernel's IPv6 state.
const (
	// ProcIfInet6Path lists every IPv6 address with its flags.
	ProcIfInet6Path = "/proc/net/if_inet6"
	// procIPv6Conf is the per-interface IPv6 settings directory.
	procIPv6Conf = "/proc/sys/net/ipv6/conf/"
)

// Flags of /proc/net/if_inet6 (IFA_F_* in linux/if_addr.h).
const (
	ifaTentative = 0x40 // duplicate address detection still runs
	ifaDADFailed = 0x08 // another host has the address
	ifaPermanent = 0x80 // configured, not learned: no lifetime
)

// rtfAddrconf marks a route learned from a router advertisement (a
// default router or an on-link prefix; linux/ipv6_route.h RTF_ADDRCONF).
const rtfAddrconf = 0x00040000

// IfInet6 is one line of /proc/net/if_inet6: an IPv6 address of an
// interface and its flags.
type IfInet6 struct {
	Addr      netip.Addr
	Prefix    int
	Interface string
	Flags     uint32
}

// Tentative reports an address still in duplicate address detection
// (unusable as a source until it ends).
func (a IfInet6) Tentative() bool { return a.Flags&ifaTentative != 0 }

// Learned reports an address configured from a router advertisement's
// prefix (SLAAC): global, with a lifetime, not tentative, not failed.
func (a IfInet6) Learned() bool {
	return !a.Addr.IsLinkLocalUnicast() && a.Flags&(ifaPermanent|ifaTentative|ifaDADFailed) == 0
}

// ParseProcNetIfInet6 reads /proc/net/if_inet6. Columns: address (32 hex
// digits), interface index, prefix length, scope, flags (all hex), name.
// A sample (a link-local address, permanent; a SLAAC address, not):
//
//	fe800000000000000000000000000002 02 40 20 80     eth0
//	20010db8000000000000000000000010 02 40 00 00     eth0
//
// Lines that do not parse are an error naming the line.
func ParseProcNetIfInet6(b []byte) ([]IfInet6, error) {
	var out []IfInet6
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 512), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 6 {
			return nil, fmt.Errorf("if_inet6 line %d: %d fields, want 6", line, len(f))
		}
		a, err := hex16(f[0])
		if err != nil {
			return nil, fmt.Errorf("if_inet6 line %d: %w", line, err)
		}
		plen, err1 := strconv.ParseUint(f[2], 16, 8)
		flags, err2 := strconv.ParseUint(f[4], 16, 32)
		if err := errors.Join(err1, err2); err != nil || plen > 128 {
			return nil, fmt.Errorf("if_inet6 line %d: bad prefix length or flags", line)
		}
		out = append(out, IfInet6{Addr: netip.AddrFrom16(a), Prefix: int(plen), Interface: f[5], Flags: uint32(flags)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("if_inet6: %w", err)
	}
	return out, nil
}

// ParseRALearnedRoutes returns the interfaces that have a route the
// kernel learned from a router advertisement in /proc/net/ipv6_route (the
// format ParseProcNetIPv6Route reads): a default router or an on-link
// prefix, each with the lifetime the router gave.
func ParseRALearnedRoutes(b []byte) (map[string]bool, error) {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 512), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("ipv6_route line %d: %d fields, want 10", line, len(f))
		}
		flags, err := strconv.ParseUint(f[8], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("ipv6_route line %d: %w", line, err)
		}
		if flags&rtfAddrconf != 0 && flags&rtfUp != 0 {
			out[f[9]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ipv6_route: %w", err)
	}
	return out, nil
}

// IPv6Link is what the kernel knows about IPv6 routers on one interface,
// without sending anything: whether it listens to router advertisements
// and whether one was heard (and is still valid). A router advertises at
// least every MaxRtrAdvInterval (at most 1800 s, RFC 4861 §6.2.1) and the
// kernel solicits when the link comes up, so with AcceptRA and nothing
// learned, no router has advertised on the link lately.
type IPv6Link struct {
	Interface string `json:"interface"`
	// AcceptRA: the kernel configures itself from router
	// advertisements on the interface (accept_ra 1 on a host that does
	// not forward, or 2).
	AcceptRA bool `json:"accept_ra"`
	// RALearned: a route (default router or on-link prefix) or an
	// address (SLAAC) the kernel learned from an advertisement exists.
	RALearned bool `json:"ra_learned"`
	// Tentative: the interface's link-local address is still in
	// duplicate address detection.
	Tentative bool `json:"tentative,omitempty"`
}

// IPv6LinkState reads the kernel's IPv6 state of interface ifname: its
// accept_ra and forwarding settings, /proc/net/ipv6_route and
// /proc/net/if_inet6. A host without IPv6 (no if_inet6) is an error, as
// is any file that cannot be read: the caller then knows nothing.
func IPv6LinkState(env Env, ifname string) (IPv6Link, error) {
	st := IPv6Link{Interface: ifname}
	if !env.procOS() {
		return st, ErrUnsupported
	}
	if ifname == "" || strings.ContainsAny(ifname, "/\x00") || ifname == "." || ifname == ".." {
		return st, fmt.Errorf("hostnet: %q is not an interface name", ifname)
	}
	setting := func(name string) (int, error) {
		b, err := env.readFile(procIPv6Conf + ifname + "/" + name)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("hostnet: %s of %s: %w", name, ifname, err)
		}
		return n, nil
	}
	acceptRA, err := setting("accept_ra")
	if err != nil {
		return st, err
	}
	forwarding, err := setting("forwarding")
	if err != nil {
		return st, err
	}
	// A forwarding interface ignores advertisements unless accept_ra
	// is 2 (Documentation/networking/ip-sysctl).
	st.AcceptRA = acceptRA == 2 || (acceptRA == 1 && forwarding == 0)
	b, err := env.readFile(ProcIPv6RoutePath)
	if err != nil {
		return st, err
	}
	learned, err := ParseRALearnedRoutes(b)
	if err != nil {
		return st, err
	}
	st.RALearned = learned[ifname]
	b, err = env.readFile(ProcIfInet6Path)
	if err != nil {
		return st, err
	}
	addrs, err := ParseProcNetIfInet6(b)
	if err != nil {
		return st, err
	}
	for _, a := range addrs {
		if a.Interface != ifname {
			continue
		}
		st.RALearned = st.RALearned || a.Learned()
		if a.Addr.IsLinkLocalUnicast() && a.Tentative() {
			st.Tentative = true
		}
	}
	return st, nil
}
