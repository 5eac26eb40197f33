// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
	"github.com/routerwatch/routerwatch/internal/report"
)

// BenchmarkLabCheck times `routerwatch check` (identity, advisories,
// exposure and the DNS checks) in the client of tplink-legacy, the
// campaign's router, as a home user runs it: the router found as the
// default gateway, the trusted resolver over DoT. Process start and
// `ip netns exec` are included. Every iteration also checks the findings
// (the router named, telnet and SNMP failing, DNS clean), so a fast
// wrong run cannot pass.
//
// With ROUTERWATCH_BENCH_BASELINE=/path/to/an/older/routerwatch, that
// binary runs in the same iterations (interleaved, so a noisy machine
// slows both alike) and ratio-vs-base divides this build's median by
// its; base-same-findings is 1 when both reported the same set of
// (check, status, severity).
//
//	go test -run '^$' -bench BenchmarkLabCheck -benchtime 10x ./internal/e2e/
func BenchmarkLabCheck(b *testing.B) {
	labtest.RequireRoot(b, "tplink-legacy")
	l := labtest.Up(b, "tplink-legacy")
	args := append([]string{"check", "--format", "json"}, trustedDNS(l)...)
	exe := labtest.Executable(b)
	base := os.Getenv("ROUTERWATCH_BENCH_BASELINE")

	run := func(exe string) (time.Duration, []string) {
		cmd := l.Command(b.Context(), lab.Client, exe, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1) {
			b.Fatalf("%s check: %v\n%s", exe, err, errb.String())
		}
		var rep report.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			b.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			got = append(got, f.CheckID+" "+f.Status.String()+" "+f.Severity.String())
		}
		slices.Sort(got)
		for _, want := range []string{"exposure.telnet_open fail medium", "exposure.snmp_default_community fail medium"} {
			if !slices.Contains(got, want) {
				b.Fatalf("%s: findings lack %q: %v", exe, want, got)
			}
		}
		return took, got
	}
	// Warm up (caches, the link-local address leaving DAD).
	_, mine := run(exe)
	same := 1.0
	if base != "" {
		if _, theirs := run(base); !slices.Equal(mine, theirs) {
			same = 0
			b.Logf("findings differ:\nthis build %v\nbaseline   %v", mine, theirs)
		}
	}
	var tNew, tBase []time.Duration
	for b.Loop() {
		d, _ := run(exe)
		tNew = append(tNew, d)
		if base != "" {
			d, _ := run(base)
			tBase = append(tBase, d)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(tNew)), "check-median-ms")
	b.ReportMetric(ms(slices.Max(tNew)), "check-max-ms")
	if base != "" {
		b.ReportMetric(ms(median(tBase)), "base-median-ms")
		b.ReportMetric(float64(median(tNew))/float64(median(tBase)), "ratio-vs-base")
		b.ReportMetric(same, "base-same-findings")
	}
	b.ReportMetric(0, "ns/op")
	b.Logf("this build %v\nbaseline %v", tNew, tBase)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
