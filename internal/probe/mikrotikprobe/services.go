// SPDX-License-Identifier: Apache-2.0

package mikrotikprobe

import (
	"fmt"
	"strings"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// The service kinds this probe measures.
const (
	KindWinbox probe.Kind = "winbox"
	KindAPI    probe.Kind = "api"     // RouterOS API, plain
	KindAPISSL probe.Kind = "api-ssl" // RouterOS API over TLS
)

// Declare implements probe.DeviceProbe. A port set to 0 is not probed.
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindWinbox, Proto: "tcp"}, {Kind: KindAPI, Proto: "tcp"}, {Kind: KindAPISSL, Proto: "tcp"}},
		Ports: []probe.PortSpec{
			{Name: "winbox", Proto: "tcp", Ports: []uint16{p.WinboxPort}, Single: true},
			{Name: "api", Proto: "tcp", Ports: []uint16{p.APIPort}, Single: true},
			{Name: "api-ssl", Proto: "tcp", Ports: []uint16{p.APISSLPort}, Single: true},
		},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	if len(ports) != 1 {
		return fmt.Errorf("mikrotikprobe: port set %q takes one port", name)
	}
	switch name {
	case "winbox":
		p.WinboxPort = ports[0]
	case "api":
		p.APIPort = ports[0]
	case "api-ssl":
		p.APISSLPort = ports[0]
	default:
		return fmt.Errorf("mikrotikprobe: no port set %q", name)
	}
	return nil
}

// Services implements probe.ServiceObservation: Winbox is confirmed by
// an open port (a connection is all this probe asks of it), the API
// ports by a RouterOS answer.
func (o *Observation) Services() []probe.Service {
	var out []probe.Service
	for _, p := range []struct {
		kind probe.Kind
		port *Port
	}{{KindWinbox, o.Winbox}, {KindAPI, o.API}, {KindAPISSL, o.APISSL}} {
		if p.port == nil {
			continue
		}
		st, why := probe.TCPState(p.port.Exchange)
		s := probe.Service{Kind: p.kind, Proto: "tcp", Port: p.port.Port, State: st, Status: p.port.Status, Reason: why}
		switch p.kind {
		case KindWinbox:
			s.Confirmed = p.port.Open
			s.Reason = ""
		default:
			s.Confirmed = p.port.RouterOS
			if p.port.RouterOS {
				s.Facts = append(s.Facts, "RouterOS API answered "+strings.Join(p.port.Reply, " "))
			}
		}
		out = append(out, s)
	}
	return out
}

var (
	_ probe.DeviceProbe        = (*Prober)(nil)
	_ probe.ServiceObservation = (*Observation)(nil)
)
