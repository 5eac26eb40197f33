// SPDX-License-Identifier: Apache-2.0

package scan_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/target"
)

// sweepLab is a loopback /25 (127.0.77.0-127) with two fake routers in
// it; every other address is this machine's loopback, where the fakes'
// ports are closed (a reset per TCP probe).
type sweepLab struct {
	tp, mt netip.Addr
	opts   scan.Options
}

func newSweepLab(t *testing.T, mode scan.SweepMode) *sweepLab {
	t.Helper()
	if mode == scan.SweepSYN && os.Geteuid() != 0 {
		t.Skip("a SYN sweep needs root (raw sockets)")
	}
	l := &sweepLab{tp: netip.MustParseAddr("127.0.77.61"), mt: netip.MustParseAddr("127.0.77.100")}
	ports := audittest.FreePorts(t, l.tp, l.mt)
	audittest.TPLink(t, l.tp, ports)
	audittest.MikroTik(t, l.mt, ports)
	r := target.Range{First: netip.MustParseAddr("127.0.77.0"), Last: netip.MustParseAddr("127.0.77.127")}
	l.opts = scan.Options{
		Targets: target.NewSet(r), Scope: target.NewScope(netip.MustParsePrefix("127.0.77.0/25")), Ports: ports,
		Judge:   audit.Options{Vantage: exposure.LAN, Index: index(t), Noun: "device"},
		Workers: 4, Rate: 4000, PrefixRate: 4000, SweepWait: 300 * time.Millisecond, Timeout: 10 * time.Second,
		Sweep: mode, FailOn: finding.SeverityMedium,
	}
	return l
}

// collect runs the scan and returns its records and prefix lines.
func collect(t *testing.T, o scan.Options) (*scan.Outcome, []scan.Record, []scan.PrefixSummary, error) {
	t.Helper()
	var (
		mu   sync.Mutex
		recs []scan.Record
		pfx  []scan.PrefixSummary
	)
	o.Record = func(r *scan.Record) error {
		mu.Lock()
		defer mu.Unlock()
		recs = append(recs, *r)
		return nil
	}
	o.Prefix = func(p *scan.PrefixSummary) error {
		mu.Lock()
		defer mu.Unlock()
		pfx = append(pfx, *p)
		return nil
	}
	out, err := scan.Run(t.Context(), o)
	slices.SortFunc(recs, func(a, b scan.Record) int {
		return netip.MustParseAddr(a.Target).Compare(netip.MustParseAddr(b.Target))
	})
	return out, recs, pfx, err
}

// TestSweepEngine sweeps the /25 in each mode: only the two routers are
// live and audited (records with the ports the sweep saw), the prefix
// summary counts them, and with All every other address has a record of
// its own, closed (loopback resets every port).
func TestSweepEngine(t *testing.T) {
	for _, mode := range []scan.SweepMode{scan.SweepConnect, scan.SweepSYN} {
		t.Run(string(mode), func(t *testing.T) {
			l := newSweepLab(t, mode)
			out, recs, pfx, err := collect(t, l.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Target)
				if r.Sweep == nil || r.Sweep.Mode != string(mode) || len(r.Sweep.Open) == 0 {
					t.Errorf("%s: sweep %+v", r.Target, r.Sweep)
				}
			}
			if want := []string{l.tp.String(), l.mt.String()}; !slices.Equal(got, want) {
				t.Fatalf("records for %v, want %v", got, want)
			}
			// The TP-Link fake answers on SNMP, SSDP and NAT-PMP as well as
			// its TCP ports: the sweep saw them all.
			for _, want := range []string{"udp/" + port(l.opts.Ports, "snmp"), "udp/" + port(l.opts.Ports, "ssdp"), "udp/" + port(l.opts.Ports, "natpmp"), "tcp/" + port(l.opts.Ports, "telnet")} {
				if !slices.Contains(recs[0].Sweep.Open, want) {
					t.Errorf("TP-Link: sweep open %v, missing %s", recs[0].Sweep.Open, want)
				}
			}
			if out.Sweep == nil || out.Sweep.Swept != 128 || out.Sweep.Live != 2 || out.Sweep.Audited != 2 || out.Measured != 2 || out.Failing != 2 {
				t.Errorf("outcome %+v sweep %+v", out, out.Sweep)
			}
			want := scan.PrefixSummary{SchemaVersion: 1, Type: "prefix", Prefix: "127.0.77.0/24", First: "127.0.77.0", Last: "127.0.77.127",
				Swept: 128, Live: 2, Closed: 126, Identified: 2, Failing: 2}
			if len(pfx) != 1 || pfx[0] != want {
				t.Errorf("prefix summaries %+v, want %+v", pfx, want)
			}
		})
	}
}

func port(p audit.Ports, name string) string {
	b, _ := json.Marshal(p[name][0])
	return string(b)
}

// TestSweepAll: with All, every swept address has a record.
func TestSweepAll(t *testing.T) {
	l := newSweepLab(t, scan.SweepConnect)
	l.opts.All = true
	out, recs, _, err := collect(t, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	for _, r := range recs {
		status[r.Status]++
	}
	if len(recs) != 128 || status[scan.StatusAnswered] != 2 || status[scan.StatusClosed] != 126 || out.Summary.Targets != 128 {
		t.Errorf("%d records, statuses %v, summary %d", len(recs), status, out.Summary.Targets)
	}
	var sb strings.Builder
	out.Summary.Write(&sb, 0)
	for _, want := range []string{"Swept 128 address(es) (connect): 2 live (an open port), 2 audited.", "127.0.77.0/24  128    2     2           2"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sb.String())
		}
	}
}

// TestSweepResume: a swept prefix is a line of the resume file; a second
// run sweeps and audits nothing and counts the same.
func TestSweepResume(t *testing.T) {
	l := newSweepLab(t, scan.SweepConnect)
	l.opts.Resume = filepath.Join(t.TempDir(), "resume.jsonl")
	first, _, _, err := collect(t, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(l.opts.Resume)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case m["routerwatch_resume"] != nil:
			kinds = append(kinds, "header")
		case m["type"] == "prefix":
			kinds = append(kinds, "prefix")
		default:
			kinds = append(kinds, "record")
		}
	}
	if strings.Join(kinds, " ") != "header record record prefix" {
		t.Errorf("resume file lines: %v", kinds)
	}
	var started [3]int
	l.opts.Start = func(todo, resumed, dropped int) { started = [3]int{todo, resumed, dropped} }
	again, recs, pfx, err := collect(t, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 || again.Measured != 0 || again.Resumed != 2 || again.Sweep.Swept != 0 || again.Failing != first.Failing || started != [3]int{0, 128, 0} {
		t.Errorf("second run: %d records, measured %d, resumed %d, swept %d, failing %d, start %v", len(recs), again.Measured, again.Resumed, again.Sweep.Swept, again.Failing, started)
	}
	if len(pfx) != 0 || len(again.Prefixes) != 1 || again.Prefixes[0].Live != 2 {
		t.Errorf("second run: prefix lines %v, outcome prefixes %+v", pfx, again.Prefixes)
	}
}
