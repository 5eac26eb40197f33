// SPDX-License-Identifier: Apache-2.0

package audit

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/tr069probe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
	"github.com/routerwatch/routerwatch/internal/probeset"
)

// Ports overrides the ports the device probes use, by service name. A
// service not named keeps its default ports. Owners use it for services
// moved off their usual port (RouterOS exports show "ssh port=3322",
// "www port=8081"); tests use it to point the probes at loopback fakes.
type Ports map[string][]uint16

// portService is one service Ports can name, with its default ports.
type portService struct {
	name, proto string
	def         []uint16
	single      bool // the probe takes one port
}

// portServices are the services Ports can name.
var portServices = []portService{
	{"http", "tcp", httpprobe.DefaultHTTPPorts, false},
	{"https", "tcp", httpprobe.DefaultHTTPSPorts, false},
	{"ssh", "tcp", bannerprobe.DefaultSSHPorts, false},
	{"telnet", "tcp", bannerprobe.DefaultTelnetPorts, false},
	{"ftp", "tcp", bannerprobe.DefaultFTPPorts, false},
	{"snmp", "udp", []uint16{snmpprobe.DefaultPort}, true},
	{"ssdp", "udp", []uint16{upnpprobe.DefaultSSDPPort}, true},
	{"natpmp", "udp", []uint16{upnpprobe.DefaultNATPMPPort}, true},
	{"tr069", "tcp", tr069probe.DefaultPorts, false},
	{"winbox", "tcp", []uint16{mikrotikprobe.DefaultWinboxPort}, true},
	{"api", "tcp", []uint16{mikrotikprobe.DefaultAPIPort}, true},
	{"api-ssl", "tcp", []uint16{mikrotikprobe.DefaultAPISSLPort}, true},
	{"dns", "udp", []uint16{dnsprobe.DefaultPort}, true},
}

// PortServices returns the service names Ports accepts.
func PortServices() []string {
	var out []string
	for _, s := range portServices {
		out = append(out, s.name)
	}
	return out
}

// ParsePort reads one "SERVICE=PORT[,PORT...]" and adds it to p.
func (p Ports) ParsePort(s string) error {
	name, list, ok := strings.Cut(s, "=")
	name = strings.ToLower(strings.TrimSpace(name))
	i := slices.IndexFunc(portServices, func(x portService) bool { return x.name == name })
	if !ok || i < 0 {
		return fmt.Errorf("%q: want SERVICE=PORT with SERVICE one of %s", s, strings.Join(PortServices(), ", "))
	}
	var ports []uint16
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("%q: %q is not a port (1-65535)", s, f)
		}
		if !slices.Contains(ports, uint16(n)) {
			ports = append(ports, uint16(n))
		}
	}
	if portServices[i].single && len(ports) != 1 {
		return fmt.Errorf("%q: %s takes exactly one port", s, name)
	}
	p[name] = append(p[name], ports...)
	return nil
}

func (p Ports) get(name string) []uint16 {
	if v, ok := p[name]; ok {
		return slices.Clone(v)
	}
	for _, s := range portServices {
		if s.name == name {
			return slices.Clone(s.def)
		}
	}
	return nil
}

// List returns every port probed, as "tcp/80", sorted by protocol and
// port (for the benchmark and the docs: the same list nmap gets).
func (p Ports) List() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range portServices {
		for _, port := range p.get(s.name) {
			k := fmt.Sprintf("%s/%d", s.proto, port)
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		pi, ni := splitLabel(out[i])
		pj, nj := splitLabel(out[j])
		if pi != pj {
			return pi < pj
		}
		return ni < nj
	})
	return out
}

func splitLabel(s string) (string, int) {
	proto, port, _ := strings.Cut(s, "/")
	n, _ := strconv.Atoi(port)
	return proto, n
}

// Probes returns the default probe set (probeset.Default) with p applied.
func Probes(p Ports) []probe.Probe {
	ps := probeset.Default()
	for _, pr := range ps {
		switch x := pr.(type) {
		case *httpprobe.Prober:
			x.HTTPPorts, x.HTTPSPorts = p.get("http"), p.get("https")
		case *bannerprobe.Prober:
			x.SSHPorts, x.TelnetPorts, x.FTPPorts = p.get("ssh"), p.get("telnet"), p.get("ftp")
		case *snmpprobe.Prober:
			x.Port = p.get("snmp")[0]
		case *upnpprobe.Prober:
			x.SSDPPort, x.NATPMPPort = p.get("ssdp")[0], p.get("natpmp")[0]
		case *tr069probe.Prober:
			x.Ports = p.get("tr069")
		case *mikrotikprobe.Prober:
			x.WinboxPort, x.APIPort, x.APISSLPort = p.get("winbox")[0], p.get("api")[0], p.get("api-ssl")[0]
		case *dnsprobe.Prober:
			x.Port = p.get("dns")[0]
		}
	}
	return ps
}
