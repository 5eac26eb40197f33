// SPDX-License-Identifier: Apache-2.0

package configaudit

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
)

// Line is one setting in words, with where it was read.
type Line struct {
	Field string `json:"field"`
	// Value is the setting in words, or "unknown".
	Value string `json:"value"`
	// From says where it was read (or where the adapter looked).
	From string `json:"from,omitempty"`
}

// Describe lists every setting of c in words, unknown ones included,
// in the order of the normalized configuration.
func Describe(c *device.Config) []Line {
	var out []Line
	add := func(field string, known bool, v string, s device.Source) {
		if !known {
			v = "unknown"
		}
		from := s.Adapter
		if s.Where != "" {
			from += ": " + s.Where
		}
		if s.Note != "" {
			from += " (" + s.Note + ")"
		}
		out = append(out, Line{Field: field, Value: v, From: from})
	}
	str := func(field string, f device.Field[string]) { add(field, f.Known, f.Value, f.Source) }
	addrs := func(field string, f device.Field[[]netip.Addr]) { add(field, f.Known, addrList(f.Value), f.Source) }
	boolean := func(field string, f device.Field[bool]) { add(field, f.Known, onOff(f.Value), f.Source) }
	list := func(field string, f device.Field[[]string]) {
		v := strings.Join(f.Value, ", ")
		if v == "" {
			v = "none"
		}
		add(field, f.Known, v, f.Source)
	}
	str("vendor", c.Identity.Vendor)
	str("model", c.Identity.Model)
	str("hardware", c.Identity.Hardware)
	str("region", c.Identity.Region)
	str("firmware", c.Identity.Firmware)
	addrs("wan_dns", c.WANDNS)
	boolean("wan_dns_automatic", c.WANDNSAuto)
	add("lan", c.LAN.Known, c.LAN.Value.String(), c.LAN.Source)
	boolean("dhcp_enabled", c.DHCPEnabled)
	add("dhcp_range", c.DHCPRange.Known, c.DHCPRange.Value.First.String()+"-"+c.DHCPRange.Value.Last.String(), c.DHCPRange.Source)
	addrs("dhcp_dns", c.DHCPDNS)
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s := c.Services[n]
		boolean("services."+n+".enabled", s.Enabled)
		if s.Port.Known || s.Port.Source != (device.Source{}) {
			add("services."+n+".port", s.Port.Known, strconv.Itoa(int(s.Port.Value)), s.Port.Source)
		}
		if s.Allowed.Known || s.Allowed.Source != (device.Source{}) {
			add("services."+n+".allowed", s.Allowed.Known, prefixList(s.Allowed.Value), s.Allowed.Source)
		}
		boolean("services."+n+".wan", s.WAN)
	}
	list("local_management", c.LocalManagement)
	list("snmp_communities", c.SNMPCommunities)
	list("admins", c.Admins)
	var fw []string
	for _, f := range c.PortForwards.Value {
		s := fmt.Sprintf("%s %s → %s", f.Proto, f.ExternalPort, f.Internal)
		if f.InternalPort != "" {
			s += ":" + f.InternalPort
		}
		if !f.Enabled {
			s += " (disabled)"
		}
		fw = append(fw, s)
	}
	list("port_forwards", device.Field[[]string]{Known: c.PortForwards.Known, Value: fw, Source: c.PortForwards.Source})
	dmz := "none"
	if c.DMZ.Value.IsValid() {
		dmz = c.DMZ.Value.String()
	}
	add("dmz", c.DMZ.Known, dmz, c.DMZ.Source)
	list("ntp", c.NTP)
	list("syslog", c.Syslog)
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func prefixList(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "anyone"
	}
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return strings.Join(ss, ", ")
}
