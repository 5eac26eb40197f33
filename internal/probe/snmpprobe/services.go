// SPDX-License-Identifier: Apache-2.0

package snmpprobe

import (
	"fmt"
	"slices"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// KindSNMP is the SNMP agent this probe measures.
const KindSNMP probe.Kind = "snmp"

// Declare implements probe.DeviceProbe.
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindSNMP, Proto: "udp"}},
		Ports:    []probe.PortSpec{{Name: "snmp", Proto: "udp", Ports: []uint16{p.Port}, Single: true}},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	if name != "snmp" || len(ports) != 1 {
		return fmt.Errorf("snmpprobe: port set %q takes one port", name)
	}
	p.Port = ports[0]
	return nil
}

// Services implements probe.ServiceObservation. The communities fold
// into one port: open when any community answered (or anything came
// back), closed when refused, silent when every community met silence.
func (o *Observation) Services() []probe.Service {
	s := probe.Service{Kind: KindSNMP, Proto: "udp", Port: o.Port, State: probe.StateUnknown, Reason: "not measured"}
	var answered, open, refused, silent bool
	var why string
	for _, c := range o.Communities {
		switch {
		case c.Answered:
			answered = true
			s.Communities = append(s.Communities, c.Name)
			if c.ErrorStatus != "" {
				// The agent accepted the community (SNMPv2c agents drop
				// unknown communities silently) but refused the read.
				s.Facts = append(s.Facts, "community "+c.Name+" answered with "+c.ErrorStatus)
			}
			if c.SysDescr != "" && !slices.Contains(s.Facts, "sysDescr: "+c.SysDescr) {
				s.Facts = append(s.Facts, "sysDescr: "+c.SysDescr)
			}
		case c.Open:
			open = true
			why = probe.ExchangeReason(c.Exchange)
		case c.Status == netx.StatusRefused:
			refused = true
		case c.Status == netx.StatusTimeout:
			silent = true
		default:
			if why == "" {
				why = probe.ExchangeReason(c.Exchange)
			}
		}
		if s.Status == "" || c.Status == netx.StatusOK {
			s.Status = c.Status
		}
	}
	switch {
	case answered:
		s.State, s.Confirmed, s.Reason = probe.StateOpen, true, ""
	case open:
		s.State, s.Reason = probe.StateOpen, why
	case refused:
		s.State, s.Reason = probe.StateClosed, ""
	case silent && why == "":
		s.State, s.Reason = probe.StateSilent, ""
	case why != "":
		s.Reason = why
	}
	return []probe.Service{s}
}

var (
	_ probe.DeviceProbe        = (*Prober)(nil)
	_ probe.ServiceObservation = (*Observation)(nil)
)
