// SPDX-License-Identifier: Apache-2.0

package probeset_test

import (
	"testing"

	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probeset"
)

func TestDefaultRegistry(t *testing.T) {
	ps := probeset.Default()
	if err := probe.CheckSet(probeset.Probes(ps)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID())
	}
	want := "http upnp banner snmp tr069 mikrotik dns"
	if got := join(ids); got != want {
		t.Errorf("Default() IDs %q, want %q", got, want)
	}
	// Default returns fresh probes: configuring one copy must not change
	// the next.
	a, b := probeset.Default(), probeset.Default()
	if a[0] == b[0] {
		t.Error("Default returned the same probe value twice")
	}
}

// TestDeclarations holds the registry's promises: every probe declares at
// least one service and one port set, kinds and port-set names are unique
// across probes, and every port set can be moved with SetPorts.
func TestDeclarations(t *testing.T) {
	kinds, names := map[probe.Kind]string{}, map[string]string{}
	for _, p := range probeset.Default() {
		d := p.Declare()
		if len(d.Services) == 0 || len(d.Ports) == 0 {
			t.Errorf("%s declares %d services and %d port sets", p.ID(), len(d.Services), len(d.Ports))
		}
		for _, s := range d.Services {
			if other, dup := kinds[s.Kind]; dup {
				t.Errorf("kind %s declared by %s and %s", s.Kind, other, p.ID())
			}
			kinds[s.Kind] = p.ID()
			if s.Proto != "tcp" && s.Proto != "udp" {
				t.Errorf("%s: kind %s has protocol %q", p.ID(), s.Kind, s.Proto)
			}
		}
		for _, ps := range d.Ports {
			if other, dup := names[ps.Name]; dup {
				t.Errorf("port set %s declared by %s and %s", ps.Name, other, p.ID())
			}
			names[ps.Name] = p.ID()
			if len(ps.Ports) == 0 {
				t.Errorf("%s: port set %s has no default port", p.ID(), ps.Name)
			}
			if err := p.SetPorts(ps.Name, []uint16{40000}); err != nil {
				t.Errorf("%s.SetPorts(%s): %v", p.ID(), ps.Name, err)
				continue
			}
			for _, again := range p.Declare().Ports {
				if again.Name == ps.Name && (len(again.Ports) != 1 || again.Ports[0] != 40000) {
					t.Errorf("%s: after SetPorts(%s, 40000) it declares %v", p.ID(), ps.Name, again.Ports)
				}
			}
		}
		if err := p.SetPorts("no-such-set", []uint16{1}); err == nil {
			t.Errorf("%s.SetPorts accepted an undeclared port set", p.ID())
		}
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}
