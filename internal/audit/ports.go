// SPDX-License-Identifier: Apache-2.0

package audit

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probeset"
)

// Ports overrides the ports the device probes use, by port-set name (the
// names the probes declare: "http", "ssh", "ssdp"). A set not named keeps
// its default ports. Owners use it for services moved off their usual
// port (RouterOS exports show "ssh port=3322", "www port=8081"); tests
// use it to point the probes at loopback fakes.
type Ports map[string][]uint16

// PortSpecs returns every port set the default probes declare, with their
// default ports, in registry order.
func PortSpecs() []probe.PortSpec {
	var out []probe.PortSpec
	for _, p := range probeset.Default() {
		out = append(out, p.Declare().Ports...)
	}
	return out
}

// PortServices returns the port-set names Ports accepts.
func PortServices() []string {
	var out []string
	for _, s := range PortSpecs() {
		out = append(out, s.Name)
	}
	return out
}

// ParsePort reads one "SERVICE=PORT[,PORT...]" and adds it to p.
func (p Ports) ParsePort(s string) error {
	name, list, ok := strings.Cut(s, "=")
	name = strings.ToLower(strings.TrimSpace(name))
	specs := PortSpecs()
	i := slices.IndexFunc(specs, func(x probe.PortSpec) bool { return x.Name == name })
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
	if specs[i].Single && len(p[name])+len(ports) != 1 {
		return fmt.Errorf("%q: %s takes exactly one port", s, name)
	}
	p[name] = append(p[name], ports...)
	return nil
}

// Check reports the first port override the probes cannot take: a name
// no probe declares, port 0, or several ports for a one-port set (a map
// built by hand, not through ParsePort).
func (p Ports) Check() error {
	specs := PortSpecs()
	for name, ports := range p {
		i := slices.IndexFunc(specs, func(x probe.PortSpec) bool { return x.Name == name })
		switch {
		case i < 0:
			return fmt.Errorf("port set %q: not one of %s", name, strings.Join(PortServices(), ", "))
		case len(ports) == 0 || slices.Contains(ports, 0):
			return fmt.Errorf("port set %s: ports must be 1-65535", name)
		case specs[i].Single && len(ports) != 1:
			return fmt.Errorf("port set %s takes exactly one port", name)
		}
	}
	return nil
}

// List returns every port probed, as "tcp/80", sorted by protocol and
// port (for the benchmark and the docs: the same list nmap gets).
func (p Ports) List() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range PortSpecs() {
		ports := s.Ports
		if v, ok := p[s.Name]; ok {
			ports = v
		}
		for _, port := range ports {
			k := fmt.Sprintf("%s/%d", s.Proto, port)
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
// p must pass Check (ParsePort keeps it so); an override Check would
// refuse is ignored here.
func Probes(p Ports) []probe.Probe {
	ds := probeset.Default()
	for _, d := range ds {
		for _, spec := range d.Declare().Ports {
			if ports, ok := p[spec.Name]; ok {
				// ParsePort validated the ports against the spec; the
				// probe's Validate (CheckSet) catches the rest.
				_ = d.SetPorts(spec.Name, ports)
			}
		}
	}
	return probeset.Probes(ds)
}
