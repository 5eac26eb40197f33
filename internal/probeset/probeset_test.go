// SPDX-License-Identifier: Apache-2.0

package probeset_test

import (
	"testing"

	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probeset"
)

func TestDefaultRegistry(t *testing.T) {
	ps := probeset.Default()
	if err := probe.CheckSet(ps); err != nil {
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
