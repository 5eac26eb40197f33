// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
)

// BenchmarkLabConfigPull times `routerwatch config pull --no-store` from
// the client of each lab router with a live configuration interface:
// tplink-legacy over HTTP Basic (dns-changer), tplink-legacy with the
// cookie login (tplink-cookie), and routeros-api (routeros-live). Each
// iteration also runs `routerwatch version` in the same namespace, the
// cost of starting the process, so that the pull itself reads as the
// difference. Medians in ms. OpenWrt has no lab router (its adapter is
// measured against its loopback fake: go test -bench . ./internal/device/openwrt).
//
//	go test -run '^$' -bench BenchmarkLabConfigPull -benchtime 10x ./internal/e2e/
func BenchmarkLabConfigPull(b *testing.B) {
	for _, tc := range []struct{ scenario, adapter string }{
		{"dns-changer", "tplink-legacy"},
		{"tplink-cookie", "tplink-legacy"},
		{"routeros-live", "routeros-api"},
	} {
		b.Run(tc.scenario, func(b *testing.B) {
			labtest.RequireRoot(b, tc.scenario)
			l := labtest.Up(b, tc.scenario)
			user, password := l.RouterLogin()
			dir := b.TempDir()
			creds := filepath.Join(dir, "credentials.yaml")
			if err := os.WriteFile(creds, fmt.Appendf(nil, "routers:\n  - user: %s\n    password: %q\n", user, password), 0o600); err != nil {
				b.Fatal(err)
			}
			exe := labtest.Executable(b)
			run := func(args ...string) time.Duration {
				cmd := l.Command(b.Context(), lab.Client, exe, args...)
				cmd.Env = append(os.Environ(), "HOME="+dir)
				start := time.Now()
				out, err := cmd.CombinedOutput()
				took := time.Since(start)
				if err != nil {
					if ee, ok := err.(interface{ ExitCode() int }); !ok || ee.ExitCode() != 1 {
						b.Fatalf("%v: %v\n%s", args, err, out)
					}
				}
				return took
			}
			pull := []string{"--data-dir", filepath.Join(dir, "data"), "config", "pull", l.Addr("router.lan").String(),
				"--adapter", tc.adapter, "--credentials", creds, "--no-store", "--format", "json"}
			run(pull...) // warm up
			var tPull, tStart []time.Duration
			for b.Loop() {
				tPull = append(tPull, run(pull...))
				tStart = append(tStart, run("version"))
			}
			med := func(ds []time.Duration) float64 {
				s := slices.Clone(ds)
				slices.Sort(s)
				return float64(s[len(s)/2].Microseconds()) / 1000
			}
			b.ReportMetric(med(tPull), "pull-median-ms")
			b.ReportMetric(med(tStart), "process-median-ms")
			b.ReportMetric(med(tPull)-med(tStart), "pull-minus-process-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
