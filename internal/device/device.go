// SPDX-License-Identifier: Apache-2.0

// Package device is what routerwatch knows about a router's own settings,
// read with the owner's credentials or from a backup the owner gives: one
// normalized Config for every vendor, the Snapshot that carries it with
// the raw pages or commands it came from (secrets redacted), and Diff,
// which says what changed between two configurations in terms of meaning.
//
// The contract:
//   - Unknown is not off. Every setting is a Field that is either known,
//     with the adapter and the page, array index, command or file line
//     that said so, or unknown (the adapter cannot read it, the page was
//     missing, the value did not parse). Nothing is filled with a default.
//   - No secret leaves an adapter: passwords, pre-shared keys, PPPoE and
//     VPN credentials and non-default SNMP communities are redacted from
//     the raw artifacts and never put in a Config.
//   - Diff is pure: the same two configurations give the same changes, in
//     a stable order, with a path per change ("dhcp.dns[0]").
//
// Vendor adapters live in the sub-packages (tplink, mikrotik, openwrt) and
// never import each other.
package device

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Source says where a value was read: which adapter, and the page,
// command, file or array element. It is evidence, never a secret.
type Source struct {
	// Adapter names the adapter: "tplink-legacy", "routeros-api",
	// "routeros-rest", "routeros-export", "openwrt-ubus", "openwrt-uci",
	// "tplink-configbin".
	Adapter string `json:"adapter"`
	// Where is the page, command or file and the element within it:
	// "LanDhcpServerRpm.htm DHCPPara[6]", "/ip dhcp-server network
	// dns-server", "dhcp: config dhcp 'lan' list dhcp_option".
	Where string `json:"where"`
	// Note explains a normalization ("0.0.0.0: the router hands out its
	// own address").
	Note string `json:"note,omitempty"`
}

// Field is one setting: known with its value and source, or unknown.
// The zero Field is unknown.
type Field[T any] struct {
	Known  bool   `json:"known"`
	Value  T      `json:"value"`
	Source Source `json:"source"`
}

// Known returns a known field.
func Known[T any](v T, src Source) Field[T] { return Field[T]{Known: true, Value: v, Source: src} }

// Unknown returns an unknown field, with where the adapter looked and why
// it could not tell in the source's Note.
func Unknown[T any](src Source) Field[T] { return Field[T]{Source: src} }

// MarshalJSON writes an unknown field as {"known":false,...} without a
// value, so that a zero value is never read as a setting.
func (f Field[T]) MarshalJSON() ([]byte, error) {
	if !f.Known {
		type unknown struct {
			Known  bool    `json:"known"`
			Source *Source `json:"source,omitempty"`
		}
		u := unknown{}
		if f.Source != (Source{}) {
			u.Source = &f.Source
		}
		return json.Marshal(u)
	}
	type known Field[T]
	return json.Marshal(known(f))
}

// Range is a DHCP address pool.
type Range struct {
	First netip.Addr `json:"first"`
	Last  netip.Addr `json:"last"`
}

// Service is one management or risky service of the router.
type Service struct {
	// Enabled: the service runs (on any interface).
	Enabled Field[bool] `json:"enabled"`
	// Port is the port it listens on.
	Port Field[uint16] `json:"port"`
	// Allowed are the sources allowed to connect; known and empty means
	// anyone (MikroTik address="", TP-Link 255.255.255.255).
	Allowed Field[[]netip.Prefix] `json:"allowed"`
	// WAN: it can be reached from the Internet side (remote management).
	WAN Field[bool] `json:"wan"`
}

// Service names used as keys of Config.Services.
const (
	ServiceWeb    = "web"     // the web admin page
	ServiceWebTLS = "web-tls" // the web admin page over HTTPS
	ServiceSSH    = "ssh"
	ServiceTelnet = "telnet"
	ServiceFTP    = "ftp"
	ServiceWinbox = "winbox"
	ServiceAPI    = "api"     // RouterOS API
	ServiceAPISSL = "api-ssl" // RouterOS API over TLS
	ServiceUPnP   = "upnp"
	ServiceWPS    = "wps"
	ServiceTR069  = "tr069"
	ServiceSNMP   = "snmp"
	ServiceDNS    = "dns" // the router's resolver answering others (MikroTik allow-remote-requests)
)

// PortForward is one port forward (virtual server, dst-nat, redirect).
type PortForward struct {
	Proto        string     `json:"proto"` // "tcp", "udp", "tcp+udp", "any"
	ExternalPort string     `json:"external_port"`
	Internal     netip.Addr `json:"internal"`
	InternalPort string     `json:"internal_port,omitempty"`
	Enabled      bool       `json:"enabled"`
	Comment      string     `json:"comment,omitempty"`
}

// Identity is what the router says it is, from its own settings pages.
type Identity struct {
	Vendor   Field[string] `json:"vendor"`
	Model    Field[string] `json:"model"`
	Hardware Field[string] `json:"hardware"`
	// Region is the market variant ("EU", "US") where the settings show
	// it; advisories may depend on it.
	Region   Field[string] `json:"region"`
	Firmware Field[string] `json:"firmware"`
}

// Config is one router's settings, normalized. Each group says what the
// campaign and the vendors' advice are about.
type Config struct {
	Identity Identity `json:"identity"`

	// WAN: the resolvers the router itself uses, and whether it takes
	// them from the ISP (automatic) or from its settings.
	WANDNS     Field[[]netip.Addr] `json:"wan_dns"`
	WANDNSAuto Field[bool]         `json:"wan_dns_automatic"`

	// LAN is the router's own address on the LAN, with its prefix.
	LAN Field[netip.Prefix] `json:"lan"`

	// The DHCP server: whether it runs, its pool, and the resolvers it
	// hands out (the field the 2025-2026 attack wrote). A router that
	// hands out itself is normalized to its LAN address, with a Note.
	DHCPEnabled Field[bool]         `json:"dhcp_enabled"`
	DHCPRange   Field[Range]        `json:"dhcp_range"`
	DHCPDNS     Field[[]netip.Addr] `json:"dhcp_dns"`

	// Services by name (Service* constants): remote management is a
	// service with WAN true.
	Services map[string]Service `json:"services"`
	// LocalManagement restricts who may manage the router from the LAN
	// (MAC or address allow-list); known and empty means anyone on the
	// LAN.
	LocalManagement Field[[]string] `json:"local_management"`
	// SNMPCommunities are the communities the agent accepts: default
	// names as they are, others as "configured-N".
	SNMPCommunities Field[[]string] `json:"snmp_communities"`

	// Admins are the administrator account names.
	Admins Field[[]string] `json:"admins"`

	PortForwards Field[[]PortForward] `json:"port_forwards"`
	// DMZ is the host that gets every unsolicited connection; known and
	// invalid means no DMZ.
	DMZ Field[netip.Addr] `json:"dmz"`

	NTP    Field[[]string] `json:"ntp"`
	Syslog Field[[]string] `json:"syslog"`
}

// Service returns the service name, or an unknown one.
func (c *Config) Service(name string) Service {
	if c.Services == nil {
		return Service{}
	}
	return c.Services[name]
}

// SetService stores s under name.
func (c *Config) SetService(name string, s Service) {
	if c.Services == nil {
		c.Services = map[string]Service{}
	}
	c.Services[name] = s
}

// Artifact is one raw page, command output or file an adapter read,
// with secrets already redacted.
type Artifact struct {
	// Name is the page, command or file ("LanDhcpServerRpm.htm",
	// "/ip dns print", "etc/config/dhcp").
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body"`
	// Redacted counts the secrets removed from Body.
	Redacted int `json:"redacted,omitempty"`
}

// Snapshot is one reading of a router's settings.
type Snapshot struct {
	// Target is the router's address (or, for an imported file, empty).
	Target netip.Addr `json:"target,omitzero"`
	// Adapter names the adapter or importer that read it.
	Adapter string    `json:"adapter"`
	TakenAt time.Time `json:"taken_at"`
	Config  Config    `json:"config"`
	// Raw are the artifacts read, redacted.
	Raw []Artifact `json:"raw,omitempty"`
	// Warnings are problems that left fields unknown (a page that did
	// not parse), kept apart from errors.
	Warnings []string `json:"warnings,omitempty"`
}
