// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"context"
	"testing"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik/mikrotiktest"
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

// BenchmarkPullAPI measures a whole API pull (login, 24 prints, /quit)
// of the LUNARSA fake on loopback.
func BenchmarkPullAPI(b *testing.B) {
	srv := mikrotiktest.NewServer(b, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users})
	d := testDialer()
	for b.Loop() {
		if _, err := (mikrotik.APIPuller{}).Pull(context.Background(), d, device.Target{Addr: srv.Addr.Addr(), Port: srv.Addr.Port()}, creds); err != nil {
			b.Fatal(err)
		}
	}
}
