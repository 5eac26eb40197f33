// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"testing"

	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
)

// BenchmarkImport measures importing the largest real export (the
// verbose one, 33 KB).
func BenchmarkImport(b *testing.B) {
	in := sample(b, "rblhgr_ros6.49.2_tim0n3-iptables_mikrotik-.sh.rsc")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (mikrotik.Importer{}).Import(in); err != nil {
			b.Fatal(err)
		}
	}
}
