// SPDX-License-Identifier: Apache-2.0

package upnpprobe

import (
	"fmt"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// The service kinds this probe measures.
const (
	KindUPnP   probe.Kind = "upnp"   // SSDP and the IGD behind it
	KindNATPMP probe.Kind = "natpmp" // NAT-PMP and PCP, which share a port
)

// Declare implements probe.DeviceProbe.
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindUPnP, Proto: "udp"}, {Kind: KindNATPMP, Proto: "udp"}},
		Ports: []probe.PortSpec{
			{Name: "ssdp", Proto: "udp", Ports: []uint16{p.SSDPPort}, Single: true},
			{Name: "natpmp", Proto: "udp", Ports: []uint16{p.NATPMPPort}, Single: true},
		},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	if len(ports) != 1 {
		return fmt.Errorf("upnpprobe: port set %q takes one port", name)
	}
	switch name {
	case "ssdp":
		p.SSDPPort = ports[0]
	case "natpmp":
		p.NATPMPPort = ports[0]
	default:
		return fmt.Errorf("upnpprobe: no port set %q", name)
	}
	return nil
}

// Services implements probe.ServiceObservation: the SSDP port (with what
// the IGD behind it revealed) and the NAT-PMP/PCP port.
func (o *Observation) Services() []probe.Service {
	st, why := probe.UDPState(o.SSDP.Exchange, o.SSDP.Answered())
	ssdp := probe.Service{Kind: KindUPnP, Proto: "udp", Port: o.SSDP.Port, State: st, Status: o.SSDP.Status, Reason: why, Confirmed: o.SSDP.Answered()}
	if len(o.SSDP.Responses) > 0 && o.SSDP.Responses[0].Server != "" {
		ssdp.Facts = append(ssdp.Facts, "SERVER: "+o.SSDP.Responses[0].Server)
	}
	if igd := o.IGD; igd != nil {
		ssdp.Facts = append(ssdp.Facts, "Internet Gateway Device control service "+igd.ServiceType)
		if igd.ExternalIP != "" {
			ssdp.Facts = append(ssdp.Facts, "external address "+igd.ExternalIP)
		}
		if n := len(igd.Mappings); n > 0 {
			ssdp.Facts = append(ssdp.Facts, fmt.Sprintf("%d port mapping(s) open", n))
		}
	}
	for _, dr := range o.Descriptions {
		if dr.Status != netx.StatusOK && dr.Status != "" {
			ssdp.Facts = append(ssdp.Facts, "description "+dr.URL+": "+probe.ExchangeReason(dr.Exchange))
		}
	}

	// NAT-PMP and PCP share UDP 5351: one port, answered by either.
	nat := probe.Service{Kind: KindNATPMP, Proto: "udp", Port: o.NATPMP.Port}
	if nat.Port == 0 {
		nat.Port = o.PCP.Port
	}
	answered := o.NATPMP.Answered || o.PCP.Answered
	switch {
	case answered:
		nat.State, nat.Confirmed, nat.Status = probe.StateOpen, true, netx.StatusOK
		if o.NATPMP.Answered && o.NATPMP.ExternalAddr.IsValid() {
			nat.Facts = append(nat.Facts, "NAT-PMP external address "+o.NATPMP.ExternalAddr.String())
		} else if o.NATPMP.Answered {
			nat.Facts = append(nat.Facts, fmt.Sprintf("NAT-PMP answered (result code %d)", o.NATPMP.ResultCode))
		}
		if o.PCP.Answered && o.PCP.Version == 2 {
			nat.Facts = append(nat.Facts, "PCP answered")
		}
	default:
		// The IPv4-only NAT-PMP leaves no status on IPv6: judge by PCP.
		x := o.NATPMP.Exchange
		if x.Status == "" || x.Status == netx.StatusTimeout && o.PCP.Status != "" && o.PCP.Status != netx.StatusTimeout {
			x = o.PCP.Exchange
		}
		nat.State, nat.Reason = probe.UDPState(x, false)
		nat.Status = x.Status
	}
	return []probe.Service{ssdp, nat}
}

var (
	_ probe.DeviceProbe        = (*Prober)(nil)
	_ probe.ServiceObservation = (*Observation)(nil)
)
