// SPDX-License-Identifier: Apache-2.0

package httpprobe

import (
	"fmt"
	"slices"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// KindWeb is the management web UI this probe measures.
const KindWeb probe.Kind = "web"

// Declare implements probe.DeviceProbe: the web UI on the plain and TLS
// ports, each set movable ("http", "https").
func (p *Prober) Declare() probe.Declaration {
	return probe.Declaration{
		Services: []probe.ServiceSpec{{Kind: KindWeb, Proto: "tcp"}},
		Ports: []probe.PortSpec{
			{Name: "http", Proto: "tcp", Ports: slices.Clone(p.HTTPPorts)},
			{Name: "https", Proto: "tcp", Ports: slices.Clone(p.HTTPSPorts)},
		},
	}
}

// SetPorts implements probe.DeviceProbe.
func (p *Prober) SetPorts(name string, ports []uint16) error {
	switch name {
	case "http":
		p.HTTPPorts = slices.Clone(ports)
	case "https":
		p.HTTPSPorts = slices.Clone(ports)
	default:
		return fmt.Errorf("httpprobe: no port set %q", name)
	}
	return nil
}

// Services implements probe.ServiceObservation: one web port per
// endpoint, confirmed when it answered HTTP.
func (o *Observation) Services() []probe.Service {
	var out []probe.Service
	for _, ep := range o.Endpoints {
		st, why := probe.TCPState(ep.Exchange)
		s := probe.Service{Kind: KindWeb, Proto: "tcp", Port: ep.Port, State: st, Status: ep.Status, Reason: why,
			Confirmed: ep.Response != nil}
		if r := ep.Response; r != nil {
			s.Facts = append(s.Facts, fmt.Sprintf("%s HTTP %d", ep.Scheme, r.StatusCode))
			if r.Server != "" {
				s.Facts = append(s.Facts, "Server: "+r.Server)
			}
			if realm := r.Realm(); realm != "" {
				s.Facts = append(s.Facts, "realm: "+realm)
			}
			if r.Title != "" {
				s.Facts = append(s.Facts, "title: "+r.Title)
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
