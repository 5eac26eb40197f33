// SPDX-License-Identifier: Apache-2.0

package device

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ChangeKind says how a setting changed.
type ChangeKind string

// Change kinds.
const (
	// Changed: known before and after, with another value.
	Changed ChangeKind = "changed"
	// Added: an element of a list that was not there (a third DNS
	// server, a new port forward, a new admin).
	Added ChangeKind = "added"
	// Removed: an element of a list that is gone.
	Removed ChangeKind = "removed"
	// NowKnown: unknown before, known now (a page that could not be read
	// before). Not a change of the router; reported so nothing is silent.
	NowKnown ChangeKind = "now_known"
	// NowUnknown: known before, unknown now: the adapter could not read
	// it this time. A router that hides a setting it showed before may be
	// hiding a change.
	NowUnknown ChangeKind = "now_unknown"
)

// Change is one difference between two configurations.
type Change struct {
	// Path names the setting: "dhcp_dns[0]", "services.telnet.enabled",
	// "port_forwards[tcp 8080]".
	Path string `json:"path"`
	// What names it in words: "DHCP DNS primary", "telnet".
	What string     `json:"what"`
	Kind ChangeKind `json:"kind"`
	// Old and New are the values in words; empty when absent.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// OldAddr and NewAddr are set for a resolver change (DNS lists), for
	// the policy to judge.
	OldAddr netip.Addr `json:"-"`
	NewAddr netip.Addr `json:"-"`
}

// Sentence says the change in words: "DHCP DNS primary changed from
// 192.168.0.1 to 203.0.113.7".
func (c Change) Sentence() string {
	switch c.Kind {
	case Added:
		return c.What + " added: " + c.New
	case Removed:
		return c.What + " removed (was " + c.Old + ")"
	case NowKnown:
		return c.What + " could not be read before; now " + c.New
	case NowUnknown:
		return c.What + " could not be read this time (was " + c.Old + ")"
	}
	return c.What + " changed from " + c.Old + " to " + c.New
}

// Diff returns what changed from old to new, in a stable order (the
// order of Config's fields, then of list positions and service names).
func Diff(old, new *Config) []Change {
	d := &differ{}
	d.str("identity.vendor", "vendor", old.Identity.Vendor, new.Identity.Vendor)
	d.str("identity.model", "model", old.Identity.Model, new.Identity.Model)
	d.str("identity.hardware", "hardware version", old.Identity.Hardware, new.Identity.Hardware)
	d.str("identity.region", "region", old.Identity.Region, new.Identity.Region)
	d.str("identity.firmware", "firmware", old.Identity.Firmware, new.Identity.Firmware)
	d.dns("wan_dns", "WAN DNS", old.WANDNS, new.WANDNS)
	d.boolean("wan_dns_automatic", "WAN DNS from the ISP (automatic)", old.WANDNSAuto, new.WANDNSAuto)
	scalarOf(d, "lan", "LAN address", old.LAN, new.LAN, func(p netip.Prefix) string { return p.String() })
	d.boolean("dhcp_enabled", "DHCP server", old.DHCPEnabled, new.DHCPEnabled)
	scalarOf(d, "dhcp_range", "DHCP pool", old.DHCPRange, new.DHCPRange, func(r Range) string { return r.First.String() + "-" + r.Last.String() })
	d.dns("dhcp_dns", "DHCP DNS", old.DHCPDNS, new.DHCPDNS)
	names := map[string]bool{}
	for n := range old.Services {
		names[n] = true
	}
	for n := range new.Services {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		o, w := old.Service(n), new.Service(n)
		p := "services." + n
		d.boolean(p+".enabled", n, o.Enabled, w.Enabled)
		scalarOf(d, p+".port", n+" port", o.Port, w.Port, func(v uint16) string { return strconv.Itoa(int(v)) })
		scalarOf(d, p+".allowed", n+" allowed sources", o.Allowed, w.Allowed, prefixesText)
		d.boolean(p+".wan", n+" from the Internet (remote management)", o.WAN, w.WAN)
	}
	d.list("local_management", "local management allow-list", old.LocalManagement, new.LocalManagement)
	d.list("snmp_communities", "SNMP community", old.SNMPCommunities, new.SNMPCommunities)
	d.list("admins", "admin account", old.Admins, new.Admins)
	d.forwards(old.PortForwards, new.PortForwards)
	scalarOf(d, "dmz", "DMZ host", old.DMZ, new.DMZ, func(a netip.Addr) string {
		if !a.IsValid() {
			return "none"
		}
		return a.String()
	})
	d.list("ntp", "NTP server", old.NTP, new.NTP)
	d.list("syslog", "remote syslog server", old.Syslog, new.Syslog)
	return d.out
}

type differ struct{ out []Change }

func (d *differ) add(c Change) { d.out = append(d.out, c) }

// known handles the unknown cases of two fields; it reports whether both
// are known (and the caller compares values).
func known[T any](d *differ, path, what string, o, n Field[T], text func(T) string) bool {
	switch {
	case o.Known && n.Known:
		return true
	case !o.Known && n.Known:
		d.add(Change{Path: path, What: what, Kind: NowKnown, New: text(n.Value)})
	case o.Known && !n.Known:
		d.add(Change{Path: path, What: what, Kind: NowUnknown, Old: text(o.Value)})
	}
	return false
}

func (d *differ) str(path, what string, o, n Field[string]) {
	scalarOf(d, path, what, o, n, func(s string) string { return s })
}

func (d *differ) boolean(path, what string, o, n Field[bool]) {
	scalarOf(d, path, what, o, n, onOff)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// scalarOf compares two single values by their text.
func scalarOf[T any](d *differ, path, what string, o, n Field[T], text func(T) string) {
	if known(d, path, what, o, n, text) && text(o.Value) != text(n.Value) {
		d.add(Change{Path: path, What: what, Kind: Changed, Old: text(o.Value), New: text(n.Value)})
	}
}

// dns compares resolver lists position by position: the primary is
// what clients ask first, so a reordering is a change.
func (d *differ) dns(path, what string, o, n Field[[]netip.Addr]) {
	if !known(d, path, what, o, n, addrsText) {
		return
	}
	for i := range max(len(o.Value), len(n.Value)) {
		c := Change{Path: fmt.Sprintf("%s[%d]", path, i), What: what + " " + role(i)}
		switch {
		case i >= len(o.Value):
			c.Kind, c.New, c.NewAddr = Added, n.Value[i].String(), n.Value[i]
		case i >= len(n.Value):
			c.Kind, c.Old, c.OldAddr = Removed, o.Value[i].String(), o.Value[i]
		case o.Value[i] != n.Value[i]:
			c.Kind, c.Old, c.New, c.OldAddr, c.NewAddr = Changed, o.Value[i].String(), n.Value[i].String(), o.Value[i], n.Value[i]
		default:
			continue
		}
		d.add(c)
	}
}

// role names a position in a resolver list.
func role(i int) string {
	switch i {
	case 0:
		return "primary"
	case 1:
		return "secondary"
	case 2:
		return "3rd"
	}
	return fmt.Sprintf("%dth", i+1)
}

// list compares lists as sets: what was added, what was removed.
func (d *differ) list(path, what string, o, n Field[[]string]) {
	if !known(d, path, what, o, n, func(ss []string) string { return listText(ss) }) {
		return
	}
	for _, s := range o.Value {
		if !slices.Contains(n.Value, s) {
			d.add(Change{Path: path + "[" + s + "]", What: what, Kind: Removed, Old: s})
		}
	}
	for _, s := range n.Value {
		if !slices.Contains(o.Value, s) {
			d.add(Change{Path: path + "[" + s + "]", What: what, Kind: Added, New: s})
		}
	}
}

func (d *differ) forwards(o, n Field[[]PortForward]) {
	text := func(fs []PortForward) string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = forwardText(f)
		}
		return listText(out)
	}
	if !known(d, "port_forwards", "port forwards", o, n, text) {
		return
	}
	key := func(f PortForward) string { return f.Proto + " " + f.ExternalPort }
	byKey := func(fs []PortForward) map[string]PortForward {
		m := map[string]PortForward{}
		for _, f := range fs {
			m[key(f)] = f
		}
		return m
	}
	om, nm := byKey(o.Value), byKey(n.Value)
	var keys []string
	for k := range om {
		keys = append(keys, k)
	}
	for k := range nm {
		if _, ok := om[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		of, inOld := om[k]
		nf, inNew := nm[k]
		c := Change{Path: "port_forwards[" + k + "]", What: "port forward " + k}
		switch {
		case !inOld:
			c.Kind, c.New = Added, forwardText(nf)
		case !inNew:
			c.Kind, c.Old = Removed, forwardText(of)
		case of != nf:
			c.Kind, c.Old, c.New = Changed, forwardText(of), forwardText(nf)
		default:
			continue
		}
		d.add(c)
	}
}

func forwardText(f PortForward) string {
	s := fmt.Sprintf("%s %s → %s", f.Proto, f.ExternalPort, f.Internal)
	if f.InternalPort != "" && f.InternalPort != f.ExternalPort {
		s += ":" + f.InternalPort
	}
	if !f.Enabled {
		s += " (disabled)"
	}
	return s
}

func addrsText(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return listText(ss)
}

func prefixesText(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "anyone"
	}
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return strings.Join(ss, ", ")
}

func listText(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
