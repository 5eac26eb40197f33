// SPDX-License-Identifier: Apache-2.0

package bannerprobe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// The service kinds this probe measures.
const (
	KindSSH    probe.Kind = "ssh"
	KindTelnet probe.Kind = "telnet"
	KindFTP    probe.Kind = "ftp"
)

// Declare implements probe.DeviceProbe: SSH, telnet and FTP, each on a
// movable set of ports. RawPorts are only read, never judged.
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindSSH, Proto: "tcp"}, {Kind: KindTelnet, Proto: "tcp"}, {Kind: KindFTP, Proto: "tcp"}},
		Ports: []probe.PortSpec{
			{Name: "ssh", Proto: "tcp", Ports: slices.Clone(p.SSHPorts)},
			{Name: "telnet", Proto: "tcp", Ports: slices.Clone(p.TelnetPorts)},
			{Name: "ftp", Proto: "tcp", Ports: slices.Clone(p.FTPPorts)},
		},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	switch name {
	case "ssh":
		p.SSHPorts = slices.Clone(ports)
	case "telnet":
		p.TelnetPorts = slices.Clone(ports)
	case "ftp":
		p.FTPPorts = slices.Clone(ports)
	default:
		return fmt.Errorf("bannerprobe: no port set %q", name)
	}
	return nil
}

// Services implements probe.ServiceObservation: one port per SSH, telnet
// and FTP endpoint, confirmed when it spoke the protocol.
func (o *Observation) Services() []probe.Service {
	var out []probe.Service
	for _, ep := range o.Endpoints {
		var k probe.Kind
		confirmed := false
		switch ep.Service {
		case ServiceSSH:
			k, confirmed = KindSSH, ep.SSH != nil
		case ServiceTelnet:
			// Telnet has no greeting to check: option negotiation, a
			// login prompt or a text banner is the service talking;
			// binary noise is not.
			k, confirmed = KindTelnet, ep.Status == netx.StatusOK && (len(ep.TelnetOptions) > 0 || ep.Prompt != "" || mostlyText(ep.Banner))
		case ServiceFTP:
			k, confirmed = KindFTP, ep.FTP != nil
		default:
			continue
		}
		st, why := probe.TCPState(ep.Exchange)
		if st == probe.StateOpen && !confirmed && why == "" {
			why = "it sent something that is not " + serviceWords[k]
		}
		s := probe.Service{Kind: k, Proto: "tcp", Port: ep.Port, State: st, Status: ep.Status, Reason: why, Confirmed: confirmed}
		switch {
		case ep.SSH != nil:
			s.Facts = append(s.Facts, "SSH banner: "+ep.Banner)
		case ep.FTP != nil && len(ep.FTP.Lines) > 0:
			s.Facts = append(s.Facts, "FTP greeting: "+strings.TrimSpace(ep.FTP.Lines[0]))
		case k == KindTelnet && confirmed:
			if ep.Prompt != "" {
				s.Facts = append(s.Facts, "asks for "+ep.Prompt)
			}
			if b := firstLine(ep.Banner); b != "" {
				s.Facts = append(s.Facts, "banner: "+b)
			}
		}
		out = append(out, s)
	}
	return out
}

// serviceWords names the kinds in the reason of an unconfirmed port.
var serviceWords = map[probe.Kind]string{KindSSH: "SSH", KindTelnet: "telnet", KindFTP: "FTP"}

// mostlyText reports whether s is a text banner: at least nine in ten
// runes printable ASCII or whitespace (random bytes read as ISO-8859-1
// are about four in ten).
func mostlyText(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	n, text := 0, 0
	for _, r := range s {
		n++
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r < 0x7f) {
			text++
		}
	}
	return text*10 >= n*9
}

// firstLine is the first non-blank line of s, at most 120 bytes.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 120 {
				l = l[:120]
			}
			return l
		}
	}
	return ""
}

var (
	_ probe.DeviceProbe        = (*Prober)(nil)
	_ probe.ServiceObservation = (*Observation)(nil)
)
