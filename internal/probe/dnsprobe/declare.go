// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"fmt"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// KindDNS is the device's own DNS service, which the device probe asks.
const KindDNS probe.Kind = "dns"

// Declare implements probe.DeviceProbe.
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindDNS, Proto: "udp"}},
		Ports:    []probe.PortSpec{{Name: "dns", Proto: "udp", Ports: []uint16{p.Port}, Single: true}},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	if name != "dns" || len(ports) != 1 {
		return fmt.Errorf("dnsprobe: port set %q takes one port", name)
	}
	p.Port = ports[0]
	return nil
}

// Services implements probe.ServiceObservation. The two questions fold
// into one port: open when either got anything back, confirmed when
// either got a valid DNS reply; closed or silent only when both were.
func (o *Observation) Services() []probe.Service {
	x := o.Recursive.Exchange
	if !x.Open && (o.VersionBind.Open || x.Status == "" || x.Status == netx.StatusTimeout && o.VersionBind.Status != netx.StatusTimeout) {
		x = o.VersionBind.Exchange
	}
	st, why := probe.UDPState(x, o.Answered())
	s := probe.Service{Kind: KindDNS, Proto: "udp", Port: o.Port, State: st, Status: x.Status, Reason: why, Confirmed: o.Answered(),
		Recursion: string(o.Recursion), RecursionWhy: o.RecursionWhy}
	if st == probe.StateOpen && !s.Confirmed && why == "" {
		s.Reason = "no valid DNS reply"
	}
	if s.Confirmed {
		s.Reason = ""
		s.Facts = append(s.Facts, "recursion "+string(o.Recursion)+": "+o.RecursionWhy)
		if t := o.VersionBind.Text; t != "" {
			s.Facts = append(s.Facts, "version.bind: "+t)
		}
	}
	return []probe.Service{s}
}

var (
	_ probe.DeviceProbe        = (*Prober)(nil)
	_ probe.ServiceObservation = (*Observation)(nil)
)
