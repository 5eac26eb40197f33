// SPDX-License-Identifier: Apache-2.0

// Package hostnet reports facts about this machine's network: the OS
// resolver configuration, the default gateways, the interfaces and their
// addresses, the gateway's MAC address and its vendor.
//
// The contract: every OS touchpoint (reading a file, listing interfaces)
// is a field of Env, so tests run the same code over an in-memory
// filesystem (tailscale net/dns style; STYLE.md R6). Nothing here sends a
// packet: facts come from files the kernel and the resolver managers
// write. Gather never fails as a whole: a fact that cannot be read is
// left empty and listed in Facts.Problems with the reason, so a caller
// can say "unknown, because …" instead of guessing. Linux is fully
// supported; on other systems the parts that need /proc report
// ErrUnsupported.
package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// ErrUnsupported reports a fact this OS does not expose the way hostnet
// reads it.
var ErrUnsupported = errors.New("hostnet: not supported on this operating system")

// Paths of the files hostnet reads.
const (
	ResolvConfPath    = "/etc/resolv.conf"
	ResolvedConfPath  = "/run/systemd/resolve/resolv.conf"
	ProcRoutePath     = "/proc/net/route"
	ProcIPv6RoutePath = "/proc/net/ipv6_route"
	ProcARPPath       = "/proc/net/arp"
	// DefaultOUIPath is the IEEE MA-L registry as Debian's ieee-data
	// package installs it. It is read from disk, never embedded: it is
	// 5 MB and changes monthly.
	DefaultOUIPath = "/usr/share/ieee-data/oui.txt"
)

// maxFileSize bounds every file read: oui.txt is about 5 MB and grows
// slowly; the other files are kilobytes. A larger file is not what we
// expect and is refused rather than buffered.
const maxFileSize = 16 << 20

// Env is every OS touchpoint hostnet uses. DefaultEnv fills it for the
// running system; tests fill it with fakes. A nil function field makes
// the facts that need it "unsupported".
type Env struct {
	// GOOS is the operating system whose conventions apply ("linux",
	// "darwin", "windows", ...).
	GOOS string
	// ReadFile returns the contents of a file, at most maxFileSize bytes.
	ReadFile func(path string) ([]byte, error)
	// Interfaces lists the network interfaces with their addresses.
	Interfaces func() ([]Interface, error)
	// OUIPath is where the IEEE OUI registry is read from; empty means
	// DefaultOUIPath.
	OUIPath string
}

// OrDefault returns e, or DefaultEnv() when e is the zero Env (engines
// take an Env option whose zero value means this host).
func (e Env) OrDefault() Env {
	if e.GOOS == "" && e.ReadFile == nil && e.Interfaces == nil && e.OUIPath == "" {
		return DefaultEnv()
	}
	return e
}

// Interface is one network interface.
type Interface struct {
	Name     string           `json:"name"`
	Index    int              `json:"index"`
	MAC      net.HardwareAddr `json:"mac,omitempty"`
	Up       bool             `json:"up"`
	Loopback bool             `json:"loopback"`
	// Prefixes are the interface's addresses with their on-link prefix
	// length (192.0.2.10/24); link-local IPv6 ones carry no zone (a
	// Prefix cannot), use LinkLocalIPv6 for the zoned address.
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
}

// Gateway is a default route's next hop.
type Gateway struct {
	Addr      netip.Addr `json:"addr"`
	Interface string     `json:"interface"`
	Metric    uint32     `json:"metric"`
	// MAC is the gateway's link-layer address from the neighbour table;
	// nil when unknown (MACNote says why).
	MAC     net.HardwareAddr `json:"mac,omitempty"`
	MACNote string           `json:"mac_note,omitempty"`
	// Vendor is the IEEE registry's organisation for MAC; empty when
	// unknown (VendorNote says why).
	Vendor     string `json:"vendor,omitempty"`
	VendorNote string `json:"vendor_note,omitempty"`
}

// Problem is a fact that could not be read.
type Problem struct {
	Fact string `json:"fact"` // "dns", "gateways_v4", "interfaces", ...
	Err  error  `json:"-"`
}

// Error returns the reason as text (for reports).
func (p Problem) Error() string { return fmt.Sprintf("%s: %v", p.Fact, p.Err) }

// Facts is everything Gather learned about this machine.
type Facts struct {
	OS         string      `json:"os"`
	DNS        DNSConfig   `json:"dns"`
	Gateways   []Gateway   `json:"gateways,omitempty"`
	Interfaces []Interface `json:"interfaces,omitempty"`
	// Problems lists each fact that could not be read and why; empty
	// when everything was read.
	Problems []Problem `json:"-"`
}

// Gather reads every fact it can. It does not send packets, so it is fast;
// ctx is checked between facts so a canceled run stops early.
func Gather(ctx context.Context, env Env) Facts {
	f := Facts{OS: env.GOOS}
	note := func(fact string, err error) {
		if err != nil {
			f.Problems = append(f.Problems, Problem{Fact: fact, Err: err})
		}
	}
	var err error
	f.DNS, err = OSResolvers(env)
	note("dns", err)
	if ctx.Err() != nil {
		note("gateways", ctx.Err())
		return f
	}
	if env.Interfaces == nil {
		note("interfaces", ErrUnsupported)
	} else {
		f.Interfaces, err = env.Interfaces()
		note("interfaces", err)
	}
	v4, err := GatewaysV4(env)
	note("gateways_v4", err)
	v6, err := GatewaysV6(env)
	note("gateways_v6", err)
	f.Gateways = append(v4, v6...)
	if len(f.Gateways) == 0 {
		return f
	}
	if ctx.Err() != nil {
		note("gateway_mac", ctx.Err())
		return f
	}
	neigh, nerr := Neighbors(env)
	var reg *OUIRegistry
	var regErr error
	for i := range f.Gateways {
		g := &f.Gateways[i]
		switch {
		case g.Addr.Is6():
			// /proc has no IPv6 neighbour table; reading it needs
			// netlink, and running `ip -6 neigh` is not done here.
			g.MACNote = "IPv6 neighbour table is not readable from /proc"
		case nerr != nil:
			g.MACNote = nerr.Error()
		default:
			if mac, ok := neigh[g.Addr]; ok {
				g.MAC = mac
			} else {
				g.MACNote = "not in the ARP table (no recent traffic to the gateway)"
			}
		}
		if g.MAC == nil {
			g.VendorNote = "MAC address unknown"
			continue
		}
		if reg == nil && regErr == nil {
			reg, regErr = LoadOUI(env)
		}
		if regErr != nil {
			g.VendorNote = regErr.Error()
			continue
		}
		g.Vendor, g.VendorNote = reg.Lookup(g.MAC)
	}
	return f
}

// InterfaceFor returns the interface named name, or the interface of the
// first IPv4 default route when name is empty.
func (f *Facts) InterfaceFor(name string) (Interface, bool) {
	if name == "" {
		for _, g := range f.Gateways {
			if g.Addr.Is4() {
				name = g.Interface
				break
			}
		}
	}
	i := slices.IndexFunc(f.Interfaces, func(it Interface) bool { return it.Name == name })
	if i < 0 {
		return Interface{}, false
	}
	return f.Interfaces[i], true
}

// IPv4 returns the interface's first IPv4 address, if it has one.
func (it Interface) IPv4() (netip.Prefix, bool) {
	for _, p := range it.Prefixes {
		if p.Addr().Is4() {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// LinkLocalIPv6 returns the interface's first link-local IPv6 address,
// zoned with the interface name.
func (it Interface) LinkLocalIPv6() (netip.Addr, bool) {
	for _, p := range it.Prefixes {
		if a := p.Addr(); a.Is6() && a.IsLinkLocalUnicast() {
			return a.WithZone(it.Name), true
		}
	}
	return netip.Addr{}, false
}

// readFile reads path through env, refusing a missing ReadFile.
func (env Env) readFile(path string) ([]byte, error) {
	if env.ReadFile == nil {
		return nil, ErrUnsupported
	}
	b, err := env.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hostnet: %w", err)
	}
	return b, nil
}

// procOS reports whether env's OS has the Linux /proc network files.
func (env Env) procOS() bool { return env.GOOS == "linux" }
