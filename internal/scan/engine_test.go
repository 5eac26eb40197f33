// SPDX-License-Identifier: Apache-2.0

package scan_test

import (
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/target"
)

func index(t *testing.T) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

func set(as ...netip.Addr) target.Set {
	var rs []target.Range
	for _, a := range as {
		rs = append(rs, target.Range{First: a, Last: a})
	}
	return target.NewSet(rs...)
}

func scopeOf(as ...netip.Addr) target.Scope {
	s := target.NewScope()
	for _, a := range as {
		s = s.WithAddr(a)
	}
	return s
}

// TestRunEngine runs the scan engine in process, without a command line,
// against three loopback fakes: a legacy TP-Link, an exposed MikroTik and
// a device with everything closed. A second run with the same resume
// file measures nothing and counts the same.
func TestRunEngine(t *testing.T) {
	tp, mt, closed := netip.MustParseAddr("127.0.0.61"), netip.MustParseAddr("127.0.0.62"), netip.MustParseAddr("127.0.0.63")
	ports := audittest.FreePorts(t, tp, mt, closed)
	audittest.TPLink(t, tp, ports)
	audittest.MikroTik(t, mt, ports)
	audittest.Closed(t, closed, ports)
	resume := filepath.Join(t.TempDir(), "resume.jsonl")
	opts := scan.Options{
		Targets: set(tp, mt, closed), Scope: scopeOf(tp, mt, closed), Ports: ports,
		Judge:   audit.Options{Vantage: exposure.LAN, Index: index(t), Noun: "device"},
		Workers: 3, Rate: 1000, Timeout: 10 * time.Second, Resume: resume, FailOn: finding.SeverityMedium,
	}
	var (
		mu      sync.Mutex
		targets []string
		started [3]int
	)
	opts.Record = func(r *scan.Record) error {
		mu.Lock()
		defer mu.Unlock()
		targets = append(targets, r.Target)
		return nil
	}
	opts.Start = func(todo, resumed, dropped int) { started = [3]int{todo, resumed, dropped} }
	out, err := scan.Run(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(targets)
	if want := []string{"127.0.0.61", "127.0.0.62", "127.0.0.63"}; !slices.Equal(targets, want) {
		t.Errorf("records for %v, want %v", targets, want)
	}
	if started != [3]int{3, 0, 0} || out.Total != 3 || out.Measured != 3 || out.Resumed != 0 {
		t.Errorf("start %v, outcome total %d measured %d resumed %d", started, out.Total, out.Measured, out.Resumed)
	}
	// The TP-Link (telnet, SNMP public) and the MikroTik (plain API) fail
	// at medium or above; the closed device does not.
	if out.Failing != 2 || out.Summary.Answered != 3 {
		t.Errorf("failing %d answered %d, want 2 and 3", out.Failing, out.Summary.Answered)
	}

	targets = nil
	again, err := scan.Run(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 0 || again.Measured != 0 || again.Resumed != 3 || again.Failing != out.Failing || started != [3]int{0, 3, 0} {
		t.Errorf("second run: records %v, measured %d, resumed %d, failing %d, start %v", targets, again.Measured, again.Resumed, again.Failing, started)
	}
}

// TestRunInvalid: options that would scan outside the scope, switch the
// pacing off or wait for ever are refused before anything is sent.
func TestRunInvalid(t *testing.T) {
	// A loopback address: a bug that let an invalid scan run would still
	// send nothing off this machine.
	a := netip.MustParseAddr("127.0.0.64")
	base := scan.Options{Targets: set(a), Scope: scopeOf(a), Judge: audit.Options{Index: index(t)}}
	for _, tc := range []struct {
		name   string
		change func(*scan.Options)
	}{
		{"outside_scope", func(o *scan.Options) { o.Scope = scopeOf(netip.MustParseAddr("127.0.0.65")) }},
		{"no_targets", func(o *scan.Options) { o.Targets = target.Set{} }},
		{"rate_nan", func(o *scan.Options) { o.Rate = math.NaN() }},
		{"rate_inf", func(o *scan.Options) { o.Rate = math.Inf(1) }},
		{"rate_huge", func(o *scan.Options) { o.Rate = 1e308 }},
		{"rate_negative", func(o *scan.Options) { o.Rate = -1 }},
		{"timeout_negative", func(o *scan.Options) { o.Timeout = -time.Second }},
		{"workers_too_many", func(o *scan.Options) { o.Workers = scan.MaxWorkers + 1 }},
		{"no_index", func(o *scan.Options) { o.Judge.Index = nil }},
		{"two_ports_for_one", func(o *scan.Options) { o.Ports = audit.Ports{"snmp": {1161, 2161}} }},
		{"unknown_port_set", func(o *scan.Options) { o.Ports = audit.Ports{"gopher": {70}} }},
		{"port_zero", func(o *scan.Options) { o.Ports = audit.Ports{"ssh": {0}} }},
		{"sweep_retries_negative", func(o *scan.Options) { o.SweepRetries = -1 }},
		{"sweep_retries_too_many", func(o *scan.Options) { o.SweepRetries = scan.MaxSweepRetries + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.Record = func(*scan.Record) error { t.Error("a record was made"); return nil }
			tc.change(&o)
			_, err := scan.Run(t.Context(), o)
			if !errors.Is(err, scan.ErrInvalid) {
				t.Errorf("Run = %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("resume_not_ours", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "targets.txt")
		if err := os.WriteFile(path, []byte("127.0.0.64\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		o := base
		o.Resume = path
		_, err := scan.Run(t.Context(), o)
		if !errors.Is(err, scan.ErrResume) || !errors.Is(err, scan.ErrNotResumeFile) || !errors.Is(err, scan.ErrInvalid) {
			t.Errorf("Run = %v, want ErrResume, ErrNotResumeFile and ErrInvalid", err)
		}
	})
}
