// SPDX-License-Identifier: Apache-2.0

// Package mikrotiktest is a fake RouterOS for tests (imported only from
// _test.go files): an API server on 127.0.0.1 that speaks the word and
// sentence encoding, both logins, !trap on a wrong password, !fatal when
// too many sessions are open, print and set over its State; and a REST
// handler over the same State.
//
// The State's values come from a real export sample (Lunarsa); what an
// export does not hold (users, the resource and routerboard menus, the
// properties every print shows) is synthetic, written from CONFIGS.md
// §3.3 and marked so. No reply here is a capture: CONFIGS.md §3.5 found
// no real API or REST capture.
package mikrotiktest

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// State is a router's menus: key ("ip/dhcp-server/network") to rows, each
// a property map as print shows it (values are strings, booleans
// "true"/"false"). List menus' rows carry ".id".
type State struct {
	mu     sync.Mutex
	menus  map[string][]map[string]string
	single map[string]bool // settings menus: one row, no .id
	nextID int
}

// NewState returns an empty State.
func NewState() *State {
	return &State{menus: map[string][]map[string]string{}, single: map[string]bool{}, nextID: 100}
}

// SetSingle sets the row of a settings menu (/ip dns).
func (s *State) SetSingle(key string, props map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.single[key] = true
	s.menus[key] = []map[string]string{maps.Clone(props)}
}

// Add appends a row to a list menu, giving it an id, and returns the id.
func (s *State) Add(key string, props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := maps.Clone(props)
	if r[".id"] == "" {
		s.nextID++
		r[".id"] = "*" + strings.ToUpper(strconv.FormatInt(int64(s.nextID), 16))
	}
	s.menus[key] = append(s.menus[key], r)
	return r[".id"]
}

// Ensure makes an empty list menu exist (a print answers with no rows).
func (s *State) Ensure(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.menus[key]; !ok {
		s.menus[key] = []map[string]string{}
	}
}

// Remove deletes a menu: its print fails as on a router without it.
func (s *State) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.menus, key)
	delete(s.single, key)
}

// Rows returns a copy of a menu's rows and whether the menu exists.
func (s *State) Rows(key string) ([]map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, ok := s.menus[key]
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		out[i] = maps.Clone(r)
	}
	return out, ok
}

// Get returns one property of the row named by id (".id", or the "name"
// property) or, for a settings menu, of its row.
func (s *State) Get(key, id, prop string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(key, id)
	if r == nil {
		return ""
	}
	return r[prop]
}

// IsSingle reports whether key is a settings menu.
func (s *State) IsSingle(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.single[key]
}

func (s *State) find(key, id string) map[string]string {
	rows := s.menus[key]
	if s.single[key] && id == "" && len(rows) > 0 {
		return rows[0]
	}
	for _, r := range rows {
		if r[".id"] == id || id != "" && r["name"] == id {
			return r
		}
	}
	return nil
}

// boolProps are printed as true/false; set takes yes/no too.
var boolProps = []string{"disabled", "enabled", "allow-remote-requests", "read-access", "write-access"}

// Set changes properties of a row (id as in Get) and reports whether the
// row exists. Booleans given as yes/no are stored as print shows them.
func (s *State) Set(key, id string, props map[string]string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(key, id)
	if r == nil {
		return false
	}
	for k, v := range props {
		if slices.Contains(boolProps, k) {
			switch v {
			case "yes":
				v = "true"
			case "no":
				v = "false"
			}
		}
		r[k] = v
	}
	return true
}

// Clone returns an independent copy.
func (s *State) Clone() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := NewState()
	c.nextID = s.nextID
	for k, rows := range s.menus {
		for _, r := range rows {
			c.menus[k] = append(c.menus[k], maps.Clone(r))
		}
		if rows != nil && c.menus[k] == nil {
			c.menus[k] = []map[string]string{}
		}
	}
	maps.Copy(c.single, s.single)
	return c
}

// Lunarsa is the router of the real export
// rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-LUNARSA-EXPORT.rsc (RB951Ui-2HnD,
// RouterOS 6.49.6), as its prints would show it. Values the export holds
// are copied from it (line numbers in the comments); properties it leaves
// at their defaults are given the RouterOS default where documented and
// a plausible value marked "synthetic" otherwise.
func Lunarsa() *State {
	s := NewState()
	// Synthetic: an export has no /system resource or routerboard; the
	// version and model are the header's (lines 1, 4).
	s.SetSingle("system/resource", map[string]string{
		"uptime": "1w2d3h", "version": "6.49.6 (stable)", "build-time": "Apr/07/2022 17:53:31",
		"free-memory": "40000000", "total-memory": "67108864", "cpu": "MIPS 74Kc V4.12", "cpu-count": "1",
		"cpu-frequency": "600", "cpu-load": "2", "architecture-name": "mipsbe", "board-name": "RB951Ui-2HnD",
		"platform": "MikroTik",
	})
	s.SetSingle("system/routerboard", map[string]string{
		"routerboard": "true", "model": "951Ui-2HnD", "serial-number": "B8710EAFF12C",
		"firmware-type": "ar9344", "factory-firmware": "3.41", "current-firmware": "6.49.6", "upgrade-firmware": "6.49.6",
	})
	s.SetSingle("system/identity", map[string]string{"name": "1015690 LUNARSA SOCIEDAD ANONIMA"}) // line 100
	s.Add("ip/address", map[string]string{".id": "*1", "address": "192.168.88.1/24", "network": "192.168.88.0",
		"interface": "bridge", "actual-interface": "bridge", "comment": "defconf", "invalid": "false", "dynamic": "false", "disabled": "false"}) // lines 41-42
	s.Add("ip/address", map[string]string{".id": "*2", "address": "201.221.26.99/28", "network": "201.221.26.96",
		"interface": "ether1", "actual-interface": "ether1", "invalid": "false", "dynamic": "false", "disabled": "false"}) // line 43
	s.Add("ip/pool", map[string]string{".id": "*1", "name": "dhcp", "ranges": "192.168.88.10-192.168.88.254"}) // line 19
	s.Add("ip/pool", map[string]string{".id": "*2", "name": "poolL2TP", "ranges": "192.168.250.0/29"})         // line 20
	s.Add("ip/dhcp-server", map[string]string{".id": "*1", "name": "defconf", "interface": "bridge", "address-pool": "dhcp",
		"lease-time": "10h", "authoritative": "yes", "invalid": "false", "dynamic": "false", "disabled": "false"}) // lines 22-23
	s.Add("ip/dhcp-server/network", map[string]string{".id": "*1", "address": "192.168.88.0/24", "gateway": "192.168.88.1",
		"dns-server": "192.168.88.1", "comment": "defconf"}) // lines 47-48
	// Line 45 adds the client without disabled=: RouterOS 6 adds it off.
	s.Add("ip/dhcp-client", map[string]string{".id": "*1", "interface": "ether1", "comment": "defconf", "use-peer-dns": "true",
		"add-default-route": "yes", "disabled": "true", "invalid": "false", "dynamic": "false"})
	s.SetSingle("ip/dns", map[string]string{ // lines 50-51; the rest defaults (help.mikrotik.com, DNS)
		"servers": "200.108.192.4,200.108.192.5,8.8.8.8", "dynamic-servers": "", "allow-remote-requests": "true",
		"max-udp-packet-size": "4096", "query-server-timeout": "2s", "query-total-timeout": "10s",
		"cache-size": "2048KiB", "cache-max-ttl": "6h", "cache-used": "40KiB", "use-doh-server": "", "verify-doh-cert": "false",
	})
	// Lines 85-93. www-ssl is not in the export; its state here is
	// synthetic (disabled, as it has no certificate).
	for _, svc := range []struct{ id, name, port, disabled, address string }{
		{"*1", "telnet", "23", "true", ""},
		{"*2", "ftp", "21", "true", ""},
		{"*3", "www", "80", "true", ""},
		{"*4", "ssh", "22", "false", "192.168.0.0/16,192.168.88.0/24,200.108.0.0/16,201.221.0.0/16,10.0.0.0/8"},
		{"*5", "www-ssl", "443", "true", ""},
		// The export disables api (line 90); this fake answers the API
		// whatever its own /ip service rows say.
		{"*6", "api", "8728", "true", ""},
		{"*7", "winbox", "8291", "false", "192.168.0.0/16,192.168.88.0/24,200.108.0.0/16,201.221.0.0/16,10.0.0.0/8"},
		{"*8", "api-ssl", "8729", "true", ""},
	} {
		r := map[string]string{".id": svc.id, "name": svc.name, "port": svc.port, "address": svc.address,
			"disabled": svc.disabled, "invalid": "false"}
		if svc.name == "www-ssl" || svc.name == "api-ssl" {
			r["certificate"] = "none"
		}
		s.Add("ip/service", r)
	}
	// Not in the export: the documented defaults.
	s.SetSingle("ip/upnp", map[string]string{"enabled": "false", "allow-disable-external-interface": "true", "show-dummy-rule": "true"})
	s.SetSingle("snmp", map[string]string{"enabled": "false", "contact": "", "location": "", "engine-id": "",
		"trap-community": "public", "trap-version": "1", "trap-generators": "temp-exception"})
	s.Add("snmp/community", map[string]string{".id": "*0", "name": "public", "addresses": "::/0", "security": "none",
		"read-access": "true", "write-access": "false", "authentication-protocol": "MD5", "encryption-protocol": "DES",
		"authentication-password": "", "encryption-password": "", "default": "true"})
	// Synthetic: exports leave out users. One admin, the default.
	s.Add("user", map[string]string{".id": "*1", "name": "admin", "group": "full", "address": "", "disabled": "false",
		"last-logged-in": "sep/19/2022 19:10:02"})
	// The built-in groups as the verbose sample prints them (its lines
	// 87-89).
	s.Add("user/group", map[string]string{".id": "*1", "name": "read", "policy": "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,tikapp,!ftp,!write,!policy,!dude", "skin": "default"})
	s.Add("user/group", map[string]string{".id": "*2", "name": "write", "policy": "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,tikapp,!ftp,!policy,!dude", "skin": "default"})
	s.Add("user/group", map[string]string{".id": "*3", "name": "full", "policy": "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,dude,tikapp", "skin": "default"})
	// Lines 55-77, in order, with the counters and flags print adds.
	for i, rule := range []map[string]string{
		{"action": "accept", "chain": "input", "protocol": "ipsec-esp"},
		{"action": "accept", "chain": "input", "dst-port": "1701,500,4500", "protocol": "udp"},
		{"action": "accept", "chain": "input", "comment": "snmp_radius_no_tocar", "dst-port": "161", "protocol": "udp", "src-address": "172.21.0.54"},
		{"action": "accept", "chain": "input", "comment": "default configuration", "protocol": "icmp"},
		{"action": "accept", "chain": "input", "comment": "default configuration", "connection-state": "established"},
		{"action": "accept", "chain": "input", "comment": "SSH", "dst-port": "3322", "in-interface-list": "WAN", "protocol": "tcp"},
		{"action": "accept", "chain": "input", "comment": "WinBox", "dst-port": "8291", "in-interface-list": "WAN", "protocol": "tcp"},
		{"action": "accept", "chain": "input", "comment": "default configuration", "connection-state": "related"},
		{"action": "accept", "chain": "forward", "comment": "default configuration", "connection-state": "established"},
		{"action": "accept", "chain": "forward", "comment": "default configuration", "connection-state": "related"},
		{"action": "drop", "chain": "input", "comment": "filtro DNS", "dst-port": "53", "in-interface-list": "WAN", "protocol": "tcp"},
		{"action": "drop", "chain": "input", "dst-port": "53", "in-interface-list": "WAN", "protocol": "udp"},
		{"action": "drop", "chain": "input", "comment": "default configuration", "in-interface-list": "WAN"},
		{"action": "drop", "chain": "forward", "comment": "default configuration", "connection-state": "invalid"},
	} {
		rule[".id"] = "*" + strconv.Itoa(i+1)
		rule["bytes"], rule["packets"] = "1024", "12"
		rule["invalid"], rule["dynamic"], rule["disabled"], rule["log"], rule["log-prefix"] = "false", "false", "false", "false", ""
		s.Add("ip/firewall/filter", rule)
	}
	s.Add("ip/firewall/nat", map[string]string{".id": "*1", "action": "masquerade", "chain": "srcnat", "comment": "defconf: masquerade",
		"ipsec-policy": "out,none", "out-interface-list": "WAN", "bytes": "0", "packets": "0",
		"invalid": "false", "dynamic": "false", "disabled": "false", "log": "false", "log-prefix": ""}) // lines 80-81
	s.Ensure("ip/firewall/raw")
	for i, l := range []map[string]string{
		{"name": "all", "builtin": "true", "comment": "contains all interfaces"},
		{"name": "none", "builtin": "true", "comment": "contains no interfaces"},
		{"name": "dynamic", "builtin": "true", "comment": "contains dynamic interfaces"},
		{"name": "WAN", "builtin": "false", "comment": "defconf", "include": "", "exclude": ""}, // line 13
		{"name": "LAN", "builtin": "false", "comment": "defconf", "include": "", "exclude": ""}, // line 14
	} {
		l[".id"] = "*" + strconv.Itoa(i+1)
		s.Add("interface/list", l)
	}
	s.Add("interface/list/member", map[string]string{".id": "*1", "list": "LAN", "interface": "bridge", "comment": "defconf", "disabled": "false", "dynamic": "false"}) // line 38
	s.Add("interface/list/member", map[string]string{".id": "*2", "list": "WAN", "interface": "ether1", "comment": "defconf", "disabled": "false", "dynamic": "false"}) // line 39
	s.SetSingle("system/ntp/client", map[string]string{"enabled": "true", "mode": "unicast",                                                                            // line 107
		"primary-ntp": "164.73.232.34", "secondary-ntp": "190.64.134.53", "server-dns-names": ""})
	// Lines 102-105 set the four default rules' action to disk; their
	// topics are the defaults (the verbose sample's lines 317-320).
	for i, topics := range []string{"info", "error", "warning", "critical"} {
		s.Add("system/logging", map[string]string{".id": "*" + strconv.Itoa(i), "topics": topics, "action": "disk", "prefix": "", "disabled": "false", "invalid": "false", "default": "true"})
	}
	// The default actions (the verbose sample's lines 82-85).
	s.Add("system/logging/action", map[string]string{".id": "*0", "name": "memory", "target": "memory", "memory-lines": "1000", "default": "true"})
	s.Add("system/logging/action", map[string]string{".id": "*1", "name": "disk", "target": "disk", "disk-file-name": "log", "default": "true"})
	s.Add("system/logging/action", map[string]string{".id": "*2", "name": "echo", "target": "echo", "remember": "true", "default": "true"})
	s.Add("system/logging/action", map[string]string{".id": "*3", "name": "remote", "target": "remote", "remote": "0.0.0.0", "remote-port": "514", "default": "true"})
	return s
}
