// SPDX-License-Identifier: Apache-2.0

package tr069probe

import (
	"fmt"
	"slices"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// KindTR069 is the CWMP connection-request port this probe measures.
const KindTR069 probe.Kind = "tr069"

// Declare implements probe.DeviceProbe.
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindTR069, Proto: "tcp"}},
		Ports:    []probe.PortSpec{{Name: "tr069", Proto: "tcp", Ports: slices.Clone(p.Ports)}},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	if name != "tr069" {
		return fmt.Errorf("tr069probe: no port set %q", name)
	}
	p.Ports = slices.Clone(ports)
	return nil
}

// Services implements probe.ServiceObservation: one port per endpoint,
// confirmed when it answered HTTP, with whether it asked for
// credentials.
func (o *Observation) Services() []probe.Service {
	var out []probe.Service
	for _, ep := range o.Endpoints {
		st, why := probe.TCPState(ep.Exchange)
		s := probe.Service{Kind: KindTR069, Proto: "tcp", Port: ep.Port, State: st, Status: ep.Status, Reason: why, Confirmed: ep.Response != nil}
		if r := ep.Response; r != nil {
			s.Facts = append(s.Facts, fmt.Sprintf("HTTP %d", r.StatusCode))
			if r.Server != "" {
				s.Facts = append(s.Facts, "Server: "+r.Server)
			}
			for _, ch := range r.Challenges {
				s.Facts = append(s.Facts, "asks for "+ch.Scheme+" authentication")
			}
			s.Authenticates = r.StatusCode == 401 && len(r.Challenges) > 0
		}
		out = append(out, s)
	}
	return out
}

var (
	_ probe.DeviceProbe        = (*Prober)(nil)
	_ probe.ServiceObservation = (*Observation)(nil)
)
