// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
	"github.com/routerwatch/routerwatch/internal/store/postgres"
)

// TestRangeLab is an ISP's range audit of its own address space in the
// lab, as the issue describes it: a scope of two prefixes seen from the
// Internet's side (the ISP's namespace), a run worked by a real
// `routerwatch worker` process on PostgreSQL, then the per-prefix report
// and the CSV and JSON exports read through the CLI.
//
// The scope is 100.64.0.0/25 and 100.64.0.128/25 (shared address space,
// as an ISP numbers its customers behind carrier-grade NAT; no
// documentation prefix, which may be a real network next to the lab's
// host), routed by the ISP to the
// tplink-legacy router, which drops it (a blackhole route) except for
// twelve addresses DNATed to its own LAN address: twelve TP-Link routers
// whose web UI, SSH, telnet and DNS forwarder answer the Internet. One more
// address is DNATed to the router's WAN address, where nothing listens:
// it resets every port (a host that answers but exposes nothing). The
// other 243 addresses are silent. The live routers must be in the report
// and the exports with their model and exposed management; the closed and
// the silent addresses must produce nothing (the jobs record only the
// addresses the sweep found open ports on).
func TestRangeLab(t *testing.T) {
	t.Parallel()
	requireNFT(t)
	l := labtest.Up(t, "tplink-legacy")
	srv := pgtest.Start(t)
	dsn := socketDSN(t, srv, srv.NewDatabase(t))
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	low, high := netip.MustParsePrefix("100.64.0.0/25"), netip.MustParsePrefix("100.64.0.128/25")
	var exposed []netip.Addr
	for _, a := range []string{"100.64.0.1", "100.64.0.17", "100.64.0.33", "100.64.0.49", "100.64.0.65", "100.64.0.81", "100.64.0.97", "100.64.0.113",
		"100.64.0.129", "100.64.0.161", "100.64.0.193", "100.64.0.254"} {
		exposed = append(exposed, netip.MustParseAddr(a))
	}
	closed := netip.MustParseAddr("100.64.0.100")
	labRangeNetwork(t, l, exposed, closed)

	bin := labtest.Executable(t)
	home := t.TempDir()
	rw := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := l.Command(ctx, lab.ISP, bin, args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
			"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "NO_COLOR=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("routerwatch %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), errb.String(), code
	}
	mustRW := func(want string, args ...string) string {
		t.Helper()
		out, errs, code := rw(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("routerwatch %s: exit %d, want 0 with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
		}
		return out
	}

	mustRW("scope 1: 100.64.0.0/25 100.64.0.128/25", "range", "scope", "add", "--db", dsn, "--prefix", low.String(), "--prefix", high.String(),
		"--owner", "Example ISP AS64500", "--reason", "post-campaign exposure audit, ticket 4711", "--rate", "100")

	// The worker: a real process in the ISP's namespace, on PostgreSQL.
	logf := filepath.Join(t.TempDir(), "worker.log")
	wlog, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	defer wlog.Close()
	worker := l.Command(context.WithoutCancel(ctx), lab.ISP, bin, "worker", "--db", dsn, "--workers", "2", "--log-level", "info")
	worker.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	worker.Stdout, worker.Stderr = wlog, wlog
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	// waited is closed once the worker has exited, with waitErr.
	var waitErr error
	waited := make(chan struct{})
	go func() { waitErr = worker.Wait(); close(waited) }()
	t.Cleanup(func() {
		worker.Process.Kill() // an error when it has exited already
		<-waited
	})
	awaitLog(t, logf, "worker: started", waited)

	mustRW("run 1 of scope 1 queued", "range", "run", "1", "--db", dsn)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tenant := st.ForOrg(store.DefaultOrg)
	var run store.RangeRun
	for {
		if run, err = tenant.RangeRun(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if run.State != store.RangeRunning {
			break
		}
		select {
		case <-waited:
			t.Fatalf("the worker exited (%v) before the run ended:\n%s", waitErr, readFile(logf))
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("the run did not end: %v\nworker:\n%s", ctx.Err(), readFile(logf))
		}
	}
	if run.State != store.RangeDone {
		t.Fatalf("run %s, want done\nworker:\n%s", run.State, readFile(logf))
	}
	t.Logf("run done in %s", run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond))

	// Exactly the live routers were recorded: not the closed address,
	// not the silent ones.
	done, err := tenant.RangeDone(ctx, 1, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(done, netip.Addr.Compare)
	if !slices.Equal(done, exposed) {
		t.Errorf("recorded %v, want the %d exposed routers %v", done, len(exposed), exposed)
	}

	// The report: per prefix, the live routers, their exposed management
	// and open resolvers, and their model with its advisory verdict.
	report := mustRW("100.64.0.0/25", "range", "report", "1", "--db", dsn)
	for _, tt := range []struct {
		prefix netip.Prefix
		n      int
	}{{low, 8}, {high, 4}} {
		want := fmt.Sprintf("%-20s %6d %10d %10d  TP-Link TL-WR841N (unknown: %d)", tt.prefix, tt.n, tt.n, tt.n, tt.n)
		if !strings.Contains(report, want+"\n") {
			t.Errorf("report has no line %q:\n%s", want, report)
		}
	}

	// The CSV export: one row per exposed router, none for the others.
	out := mustRW("address,prefix,model", "range", "export", "1", "--db", dsn, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var got []netip.Addr
	for _, r := range rows[1:] {
		a := netip.MustParseAddr(r[col["address"]])
		got = append(got, a)
		wantPrefix := low
		if high.Contains(a) {
			wantPrefix = high
		}
		for k, want := range map[string]string{"prefix": wantPrefix.String(), "model": "TP-Link TL-WR841N", "advisory_verdict": "unknown",
			"exploited_in_the_wild": "true", "exposed_management": "tcp/80 web tcp/22 ssh tcp/23 telnet", "open_resolver": "true"} {
			if r[col[k]] != want {
				t.Errorf("%s: %s %q, want %q", a, k, r[col[k]], want)
			}
		}
		for _, c := range []string{"exposure.remote_management", "exposure.open_resolver"} {
			if !strings.Contains(r[col["failing_checks"]], c) {
				t.Errorf("%s: failing checks %q lack %s", a, r[col["failing_checks"]], c)
			}
		}
	}
	slices.SortFunc(got, netip.Addr.Compare)
	if !slices.Equal(got, exposed) {
		t.Errorf("CSV rows for %v, want %v", got, exposed)
	}

	// The JSON Lines export: the same addresses.
	out = mustRW("", "range", "export", "1", "--db", dsn, "--format", "json")
	got = got[:0]
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Address netip.Addr `json:"address"`
			Model   string     `json:"model"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		got = append(got, r.Address)
	}
	slices.SortFunc(got, netip.Addr.Compare)
	if !slices.Equal(got, exposed) {
		t.Errorf("JSON rows for %v, want %v", got, exposed)
	}

	// The worker stops on SIGTERM, with exit status 0.
	worker.Process.Signal(syscall.SIGTERM)
	select {
	case <-waited:
		if waitErr != nil {
			t.Errorf("worker: %v\n%s", waitErr, readFile(logf))
		}
	case <-time.After(45 * time.Second):
		t.Errorf("the worker did not stop on SIGTERM:\n%s", readFile(logf))
	}
}

// socketDSN turns a pgtest DSN (TCP on the host's 127.0.0.1) into one
// through the server's Unix socket: a lab namespace has a loopback of its
// own, but the socket, a file, is reachable from every namespace.
func socketDSN(t *testing.T, srv *pgtest.Server, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"host": {srv.Dir}, "port": {fmt.Sprint(srv.Port)}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: u.User, Path: u.Path, RawQuery: q.Encode()}).String()
}

// labRangeNetwork routes 100.64.0.0/24 from the ISP to the router, which
// drops it except for exposed (DNATed to its LAN address, where its
// services listen) and closed (DNATed to its WAN address, where none do).
func labRangeNetwork(t *testing.T, l *lab.Lab, exposed []netip.Addr, closed netip.Addr) {
	t.Helper()
	var set []string
	for _, a := range exposed {
		set = append(set, a.String())
	}
	rules := fmt.Sprintf(`table ip rwrange {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" ip daddr { %s } dnat to %s
		iifname "wan0" ip daddr %s dnat to %s
	}
}
`, strings.Join(set, ", "), l.Addr("router.lan"), closed, l.Addr("router.wan"))
	for _, c := range []struct {
		host  lab.Host
		args  []string
		stdin string
	}{
		{lab.Router, []string{"ip", "route", "add", "blackhole", "100.64.0.0/24"}, ""},
		{lab.Router, []string{"nft", "-f", "-"}, rules},
		{lab.ISP, []string{"ip", "route", "add", "100.64.0.0/24", "via", l.Addr("router.wan").String()}, ""},
	} {
		cmd := l.Command(t.Context(), c.host, c.args[0], c.args[1:]...)
		cmd.Stdin = strings.NewReader(c.stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(c.args, " "), err, out)
		}
	}
}

// requireNFT skips t without nft (Debian's nftables), which the DNAT
// rules need, or fails it under CI=true, where lab tests must run
// (scripts/install-lab-deps installs it).
func requireNFT(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nft not found (apt-get install nftables; scripts/install-lab-deps does)")
		}
		t.Skip("nft not found (apt-get install nftables)")
	}
}

// awaitLog waits until the log file has s, failing t if the process
// exits first (waited is closed).
func awaitLog(t *testing.T, path, s string, waited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(readFile(path), s) {
		select {
		case <-waited:
			t.Fatalf("the worker exited:\n%s", readFile(path))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the worker's log:\n%s", s, readFile(path))
		}
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
