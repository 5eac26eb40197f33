// SPDX-License-Identifier: Apache-2.0

package watch_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rssMB is this process's resident set, in MB (Linux).
func rssMB(tb testing.TB) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	tb.Skip("no VmRSS")
	return 0
}

// BenchmarkWatchMemory runs 1,000 watch cycles against a fake router
// (settings read, stored, judged, alert state saved each cycle; the DNS
// switched every 100 cycles, so alerts are raised and resolved) and
// reports the resident memory after cycle 100 and after cycle 1,000: a
// watcher that keeps something per cycle grows between the two.
//
//	go test -run '^$' -bench BenchmarkWatchMemory -benchtime 1x ./internal/watch/
func BenchmarkWatchMemory(b *testing.B) {
	for b.Loop() {
		wd := newWorld(b)
		var at100, at1000 float64
		var heap100, heap1000 uint64
		for i := 1; i <= 1000; i++ {
			if i%100 == 50 {
				wd.r.SetState(flipDNS(i/100%2 == 0))
			}
			if _, err := wd.w.Cycle(b.Context()); err != nil {
				b.Fatal(err)
			}
			wd.out.buf.Reset()
			if i == 100 || i == 1000 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if i == 100 {
					at100, heap100 = rssMB(b), ms.HeapAlloc
				} else {
					at1000, heap1000 = rssMB(b), ms.HeapAlloc
				}
			}
		}
		b.ReportMetric(at100, "rss-after-100-MB")
		b.ReportMetric(at1000, "rss-after-1000-MB")
		b.ReportMetric(float64(heap100)/(1<<20), "heap-after-100-MB")
		b.ReportMetric(float64(heap1000)/(1<<20), "heap-after-1000-MB")
	}
	b.ReportMetric(0, "ns/op")
}

// TestBudgetWatchMemoryFlat: 400 cycles keep no more live heap than 100
// did, give or take a megabyte (a watcher keeping something per cycle
// grows by megabytes: the fake router's own request log alone, before
// NoLog, made 3 MB per 1,000 cycles).
func TestBudgetWatchMemoryFlat(t *testing.T) {
	if raceEnabled {
		t.Skip("budget tests run without -race")
	}
	wd := newWorld(t)
	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / (1 << 20)
	}
	var at100 float64
	for i := 1; i <= 400; i++ {
		if i%100 == 50 {
			wd.r.SetState(flipDNS(i/100%2 == 0))
		}
		if _, err := wd.w.Cycle(t.Context()); err != nil {
			t.Fatal(err)
		}
		wd.out.buf.Reset()
		if i == 100 {
			at100 = heap()
		}
	}
	if at400 := heap(); at400 > at100+1 {
		t.Errorf("live heap grew from %.2f MB after 100 cycles to %.2f MB after 400", at100, at400)
	}
}
