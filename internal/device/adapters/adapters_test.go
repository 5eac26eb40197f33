// SPDX-License-Identifier: Apache-2.0

package adapters

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// TestNamesUnique: adapters are chosen by name (--adapter, the store).
func TestNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range append(Names(), ImporterNames()...) {
		if n == "" || seen[n] {
			t.Errorf("adapter name %q empty or twice", n)
		}
		seen[n] = true
	}
	for _, n := range Names() {
		if p, ok := Puller(n); !ok || p.Name() != n {
			t.Errorf("Puller(%q) = %v, %v", n, p, ok)
		}
	}
	if _, ok := Puller("cisco"); ok {
		t.Error("Puller(cisco) found")
	}
}

// TestDetectSamples: every real sample file is recognised by the importer
// of its format, however the others' Detect are ordered.
func TestDetectSamples(t *testing.T) {
	dir := filepath.Join(testutil.SharedData(t), "router-samples")
	for _, tc := range []struct {
		file, want string
	}{
		{"mikrotik/rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-LUNARSA-EXPORT.rsc", "routeros-export"},
		{"mikrotik/chr_ros7.16_auliaarifin-gns3_R-1.rsc", "routeros-export"},
		{"openwrt/tl-wdr4300_openwrt14.07_katallaxie_etc-config-dhcp", "openwrt-uci"},
		{"openwrt/netgear-r6220_openwrt-2023_nazreinkaram_etc-config-firewall", "openwrt-uci"},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			im, ok := Detect(b)
			if !ok || im.Name() != tc.want {
				name := "none"
				if ok {
					name = im.Name()
				}
				t.Errorf("Detect = %s, want %s", name, tc.want)
			}
		})
	}
	if _, ok := Detect([]byte("just some text\n")); ok {
		t.Error("plain text was taken for a router file")
	}
}
