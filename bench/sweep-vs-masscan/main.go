// SPDX-License-Identifier: Apache-2.0

// Command sweep-vs-masscan benchmarks `routerwatch scan` (the sweep stage
// and, pipelined behind it, the audits of the live routers) against
// masscan and nmap on a routed, mostly silent range of the lab, with the
// same ports for every tool, several runs each in one go. It reports wall
// times, the packets per second each tool sent (counted by nftables in
// the router's namespace, whatever socket the tool used), what each found,
// and routerwatch's peak memory (the process's maximum RSS), also for a
// /24 and a /16 at the same rate.
//
// The lab is the tplink-legacy scenario brought up with the lab API. In
// the router's namespace a blackhole route makes 10.80.0.0/16 silent (no
// answer, no ICMP), and an nftables DNAT rule turns -live addresses of
// the -prefix (default 64 in 10.80.0.0/20, one every 64 addresses, so
// that every /24 has live routers) into the router itself: each is a full
// router (the DNAT trick of bench/scan-vs-nmap). All tools run in the
// client's namespace; nothing touches the host namespace, and the lab is
// removed at the end.
//
// Usage (root; needs masscan, nmap and nftables from Debian —
// apt-get install masscan nmap nftables — and the lab's programs from
// scripts/install-lab-deps):
//
//	go run ./bench/sweep-vs-masscan                  # 3 runs each, 10,000 packets/s
//	go run ./bench/sweep-vs-masscan -rate 20000 -json result.json
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/routerwatch/routerwatch/bench/internal/flowcount"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/scan"
)

// runTimeout bounds one tool run: nmap over a /20 takes minutes; an hour
// is a hang.
const runTimeout = time.Hour

// silentRange holds the swept ranges (-prefix lies in it).
var silentRange = netip.MustParsePrefix("10.80.0.0/16")

// memRange is the /16 of the memory runs: its first /24 holds as many
// live routers as -live (one every 256/-live addresses), and the rest is
// silent, so that the /24 and the /16 runs audit the same routers and
// differ only in the silent addresses swept.
var memRange = netip.MustParsePrefix("10.81.0.0/16")

// blackhole is routed into a blackhole by the router: silentRange and
// memRange.
var blackhole = netip.MustParsePrefix("10.80.0.0/15")

type options struct {
	runs, nmapRuns int
	nmapPnRuns     int
	live           int
	prefix         string
	rate           float64
	wait           time.Duration
	settle         time.Duration
	rss            bool
	scenario       string
	routerwatch    string
	jsonOut        string
	keep           bool
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 3, "runs of routerwatch and masscan (the median is reported)")
	flag.IntVar(&o.nmapRuns, "nmap-runs", 1, "runs of nmap with its host discovery (0: none)")
	flag.IntVar(&o.nmapPnRuns, "nmap-pn-runs", 1, "runs of nmap -Pn, which probes every address like masscan and routerwatch (0: none; about 45 minutes for a /20), after everything else")
	flag.IntVar(&o.live, "live", 64, "live router addresses in the prefix (1-128)")
	flag.StringVar(&o.prefix, "prefix", "10.80.0.0/20", "the swept range, inside 10.80.0.0/16")
	flag.Float64Var(&o.rate, "rate", 10000, "packets per second for routerwatch and masscan")
	flag.DurationVar(&o.wait, "wait", 2*time.Second, "how long answers are awaited (routerwatch --sweep-wait, masscan --wait)")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "pause before each run, so the shared lab daemons start idle")
	flag.BoolVar(&o.rss, "rss", true, "also measure routerwatch's peak memory on a /24 and a /16")
	flag.StringVar(&o.scenario, "scenario", "tplink-legacy", "lab scenario of the router")
	flag.StringVar(&o.routerwatch, "routerwatch", "", "routerwatch binary (default: built from this module)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "leave the lab up at the end (remove it with routerwatch lab down)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sweep-vs-masscan:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	pfx, err := netip.ParsePrefix(o.prefix)
	switch {
	case err != nil || !pfx.Addr().Is4() || pfx.Bits() < silentRange.Bits() || !silentRange.Contains(pfx.Addr()):
		return fmt.Errorf("-prefix must be an IPv4 prefix inside %s", silentRange)
	case o.runs < 1 || o.nmapRuns < 0 || o.live < 1 || o.live > 128 || o.live > 1<<(32-pfx.Bits()):
		return errors.New("-runs must be at least 1, -nmap-runs at least 0, -live 1-128 and at most the prefix's size")
	case !(o.rate >= 100 && o.rate <= 1e6) || o.wait <= 0:
		return errors.New("-rate must be 100-1,000,000 and -wait above 0")
	case os.Geteuid() != 0:
		return errors.New("needs root (the lab's network namespaces)")
	}
	for _, p := range []string{"masscan", "nmap", "nft", "ip"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s not found: apt-get install masscan nmap nftables iproute2", p)
		}
	}
	tmp, err := os.MkdirTemp("", "sweep-vs-masscan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.routerwatch
	if bin == "" {
		bin = filepath.Join(tmp, "routerwatch")
		fmt.Fprintln(os.Stderr, "building routerwatch…")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/routerwatch").CombinedOutput(); err != nil {
			return fmt.Errorf("go build (run from the module root): %w: %s", err, out)
		}
	}
	fmt.Fprintf(os.Stderr, "bringing up lab %s…\n", o.scenario)
	l, err := lab.Up(ctx, lab.Options{Scenario: o.scenario, Executable: bin, Keep: o.keep,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("lab up: %w", err)
	}
	if !o.keep {
		defer func() {
			if err := l.Down(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, "sweep-vs-masscan: lab down:", err)
			}
		}()
	}
	live, err := setUp(ctx, l, pfx, o.live)
	if err != nil {
		return err
	}

	ports := audit.Ports{}.List()
	var tcp, udp []string
	for _, p := range ports {
		proto, n, _ := strings.Cut(p, "/")
		if proto == "tcp" {
			tcp = append(tcp, n)
		} else {
			udp = append(udp, n)
		}
	}
	wait := o.wait.String()
	perPrefix := o.rate / float64(max(1, 1<<(24-min(pfx.Bits(), 24))))
	rate := strconv.FormatFloat(o.rate, 'f', -1, 64)
	rwArgs := func(target, mode string) []string {
		return []string{"scan", "--format", "jsonl", "--sweep", mode, "--rate", rate,
			"--prefix-rate", strconv.FormatFloat(perPrefix, 'f', -1, 64), "--sweep-wait", wait, target}
	}
	massList := filepath.Join(tmp, "masscan.txt")
	nmapXML := filepath.Join(tmp, "nmap.xml")
	// masscan's --wait takes whole seconds.
	massWait := strconv.Itoa(max(1, int(o.wait.Round(time.Second).Seconds())))
	tools := []*tool{
		{Name: "routerwatch scan (syn sweep + audits)", exe: bin, args: rwArgs(o.prefix, "syn"), runs: o.runs, parse: parseRouterwatch},
		{Name: "routerwatch scan (connect sweep + audits)", exe: bin, args: rwArgs(o.prefix, "connect"), runs: o.runs, parse: parseRouterwatch},
		{Name: "masscan", exe: "masscan", args: []string{o.prefix, "-p", strings.Join(tcp, ",") + ",U:" + strings.Join(udp, ",U:"),
			"--rate", rate, "--wait", massWait, "-oL", massList}, outFile: massList, runs: o.runs, parse: parseMasscan,
			sentMark: "100.00% done", wait: time.Duration(mustAtoi(massWait)) * time.Second},
		{Name: "nmap -sS -sU (host discovery)", exe: "nmap", args: []string{"-n", "-sS", "-sU", "-p", "T:" + strings.Join(tcp, ",") + ",U:" + strings.Join(udp, ","),
			"-oX", nmapXML, o.prefix}, outFile: nmapXML, runs: o.nmapRuns, parse: parseNmap},
	}
	// nmap -Pn runs last: it takes the better part of an hour, waiting on
	// timeouts, and the other measurements are done by then.
	slow := []*tool{
		{Name: "nmap -Pn -sS -sU", exe: "nmap", args: []string{"-n", "-Pn", "-sS", "-sU", "-p", "T:" + strings.Join(tcp, ",") + ",U:" + strings.Join(udp, ","),
			"-oX", nmapXML, o.prefix}, outFile: nmapXML, runs: o.nmapPnRuns, parse: parseNmap},
	}
	res := result{Scenario: o.scenario, Prefix: o.prefix, Live: len(live), Ports: ports, Rate: o.rate, PerPrefixRate: perPrefix, Wait: o.wait.Seconds()}
	for i := range max(o.runs, o.nmapRuns) {
		fmt.Fprintf(os.Stderr, "run %d:", i+1)
		for _, t := range tools {
			if i >= t.runs {
				continue
			}
			r, err := timedRun(ctx, l, t, o.settle)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			fmt.Fprintf(os.Stderr, " %s %.2f s;", t.Name, r.Seconds)
			t.Runs = append(t.Runs, r)
		}
		fmt.Fprintln(os.Stderr)
	}
	if o.rss {
		for _, target := range []netip.Prefix{netip.PrefixFrom(memRange.Addr(), 24), memRange} {
			t := &tool{Name: "routerwatch scan " + target.String(), exe: bin, args: rwArgs(target.String(), "syn"), parse: parseRouterwatch}
			fmt.Fprintf(os.Stderr, "memory: %s…", target)
			r, err := timedRun(ctx, l, t, o.settle)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			fmt.Fprintf(os.Stderr, " %.2f s, peak RSS %.1f MB\n", r.Seconds, r.MaxRSSMB)
			res.Memory = append(res.Memory, memory{Target: target.String(), Addresses: 1 << (32 - target.Bits()), Seconds: r.Seconds,
				MaxRSSMB: r.MaxRSSMB, Packets: r.Packets, Live: r.Live})
		}
	}
	for i := range o.nmapPnRuns {
		for _, t := range slow {
			fmt.Fprintf(os.Stderr, "%s, run %d…", t.Name, i+1)
			r, err := timedRun(ctx, l, t, o.settle)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			fmt.Fprintf(os.Stderr, " %.1f s\n", r.Seconds)
			t.Runs = append(t.Runs, r)
		}
	}
	tools = append(tools, slow...)
	for _, t := range tools {
		t.finish(live)
		res.Tools = append(res.Tools, *t)
	}
	res.goals(tools)
	res.print(os.Stdout)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// setUp makes 10.80.0.0/15 silent in the router (a blackhole route), sends
// n addresses of pfx (one every size/n) and n of memRange's first /24 to
// the router's own LAN address with a DNAT rule, and counts at the router's LAN ingress the packets
// that open a flow (SYNs and UDP datagrams, DHCP aside), whatever socket
// sent them (masscan sends from a packet socket, which the client's own
// netfilter never sees). It returns the live addresses.
func setUp(ctx context.Context, l *lab.Lab, pfx netip.Prefix, n int) ([]netip.Addr, error) {
	if out, err := l.Command(ctx, lab.Router, "ip", "route", "add", "blackhole", blackhole.String()).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("blackhole route: %w: %s", err, out)
	}
	spread := func(p netip.Prefix, size int) []netip.Addr {
		var out []netip.Addr
		a := p.Addr().Next() // not the network address
		for range n {
			out = append(out, a)
			for range size / n {
				a = a.Next()
			}
		}
		return out
	}
	live := spread(pfx, 1<<(32-pfx.Bits()))
	var set []string
	for _, a := range append(slices.Clone(live), spread(memRange, 256)...) {
		set = append(set, a.String())
	}
	rules := fmt.Sprintf(`table ip rwbench {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "lan0" ip daddr { %s } dnat to %s
	}
}
`+flowcount.Table, strings.Join(set, ", "), l.Addr("router.lan"))
	cmd := l.Command(ctx, lab.Router, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nft: %w: %s", err, out)
	}
	return live, nil
}

// tool is one command line the benchmark times.
type tool struct {
	Name    string    `json:"name"`
	Command string    `json:"command"`
	Runs    []runStat `json:"runs"`
	// Median is the median wall time; PPS the median packets a second.
	Median float64 `json:"median_seconds"`
	PPS    float64 `json:"median_packets_per_second"`
	// Found is what the last run found open ("10.80.0.1 tcp/80").
	Found []string `json:"found_last_run"`
	// NotLive counts found entries on addresses that are not live routers
	// (there should be none).
	NotLive int `json:"found_not_live"`

	// SweepMedian is masscan's median sweep time: until its status line
	// first says 100% sent, plus its --wait. masscan 1.3.2 then often
	// waits another 10-20 s for its receive thread to notice the end
	// (the wall time); the goals use the sweep time, masscan's best case.
	SweepMedian float64 `json:"median_sweep_seconds,omitempty"`

	exe  string
	args []string
	// sentMark, when set, is the status text that says the tool has sent
	// everything; wait is then added to make its sweep time.
	sentMark string
	wait     time.Duration
	outFile  string
	runs     int
	parse    func([]byte) (found []string, identified int, err error)
	last     []string
}

// runStat is one run.
type runStat struct {
	Seconds float64 `json:"seconds"`
	// SweepSeconds is the sweep time of a tool with a sentMark.
	SweepSeconds float64 `json:"sweep_seconds,omitempty"`
	Packets      int     `json:"packets"`
	PPS          float64 `json:"packets_per_second"`
	Open         int     `json:"open_ports"`
	Live         int     `json:"live_addresses"`
	Identified   int     `json:"identified"`
	MaxRSSMB     float64 `json:"max_rss_mb"`
	// NotFound lists, for a routerwatch run, masscan's open ports (any
	// run) that this run's sweep did not report.
	NotFound []string `json:"masscan_ports_not_found,omitempty"`

	found []string
}

// timedRun runs t once in the client's namespace after the settle pause.
func timedRun(ctx context.Context, l *lab.Lab, t *tool, settle time.Duration) (runStat, error) {
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return runStat{}, ctx.Err()
	}
	if _, err := flowcount.Reset(ctx, l); err != nil {
		return runStat{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	if t.outFile != "" {
		os.Remove(t.outFile)
	}
	cmd := l.Command(rctx, lab.Client, t.exe, t.args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var sent time.Time
	marked := make(chan struct{})
	if t.sentMark != "" {
		pr, pw := io.Pipe()
		cmd.Stderr = pw
		go func() {
			defer close(marked)
			// Status lines end in a carriage return.
			sc := bufio.NewScanner(pr)
			sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
				if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
					return i + 1, data[:i], nil
				}
				if atEOF && len(data) > 0 {
					return len(data), data, nil
				}
				return 0, nil, nil
			})
			for sc.Scan() {
				if sent.IsZero() && strings.Contains(sc.Text(), t.sentMark) {
					sent = time.Now()
				}
				errb.WriteString(sc.Text() + "\n")
			}
			io.Copy(io.Discard, pr)
		}()
		defer pw.Close()
		defer pr.Close()
	} else {
		close(marked)
	}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if pw, ok := cmd.Stderr.(*io.PipeWriter); ok {
		pw.Close()
	}
	<-marked
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && t.exe != "nmap" && t.exe != "masscan" {
		err = nil // routerwatch: failing findings
	}
	if err != nil {
		return runStat{}, fmt.Errorf("%w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	r := runStat{Seconds: d.Seconds()}
	if t.sentMark != "" {
		if sent.IsZero() {
			return r, fmt.Errorf("no %q in the status output", t.sentMark)
		}
		r.SweepSeconds = (sent.Sub(start) + t.wait).Seconds()
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSSMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	if r.Packets, err = flowcount.Reset(ctx, l); err != nil {
		return r, err
	}
	r.PPS = float64(r.Packets) / r.Seconds
	b := out.Bytes()
	if t.outFile != "" {
		if b, err = os.ReadFile(t.outFile); err != nil {
			return r, err
		}
	}
	found, identified, err := t.parse(b)
	if err != nil {
		return r, err
	}
	r.Open, r.Identified, t.last, r.found = len(found), identified, found, found
	hosts := map[string]bool{}
	for _, f := range found {
		h, _, _ := strings.Cut(f, " ")
		hosts[h] = true
	}
	r.Live = len(hosts)
	return r, nil
}

func (t *tool) finish(live []netip.Addr) {
	t.Command = filepath.Base(t.exe) + " " + strings.Join(t.args, " ")
	if len(t.Runs) == 0 {
		return
	}
	var secs, pps, sweeps []float64
	for _, r := range t.Runs {
		secs, pps, sweeps = append(secs, r.Seconds), append(pps, r.PPS), append(sweeps, r.SweepSeconds)
	}
	t.Median, t.PPS = flowcount.Median(secs), flowcount.Median(pps)
	if t.sentMark != "" {
		t.SweepMedian = flowcount.Median(sweeps)
	}
	t.Found = t.last
	for _, f := range t.Found {
		h, _, _ := strings.Cut(f, " ")
		if a, err := netip.ParseAddr(h); err != nil || !slices.Contains(live, a) {
			t.NotLive++
		}
	}
}

func parseRouterwatch(b []byte) ([]string, int, error) {
	var found []string
	identified := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(`"type":"prefix"`)) {
			continue
		}
		var r scan.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, 0, fmt.Errorf("routerwatch output: %w", err)
		}
		if r.Identity.Model != "" {
			identified++
		}
		if r.Sweep != nil {
			for _, p := range r.Sweep.Open {
				found = append(found, r.Target+" "+p)
			}
		}
	}
	sort.Strings(found)
	return found, identified, sc.Err()
}

// parseMasscan reads -oL output: "open tcp 80 10.80.0.1 1700000000".
func parseMasscan(b []byte) ([]string, int, error) {
	var found []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "open" {
			found = append(found, f[3]+" "+f[1]+"/"+f[2])
		}
	}
	sort.Strings(found)
	return found, 0, nil
}

// nmapRun is the part of nmap's XML output the benchmark reads.
type nmapRun struct {
	Hosts []struct {
		Addresses []struct {
			Addr string `xml:"addr,attr"`
			Type string `xml:"addrtype,attr"`
		} `xml:"address"`
		Ports []struct {
			Protocol string `xml:"protocol,attr"`
			PortID   int    `xml:"portid,attr"`
			State    struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

func parseNmap(b []byte) ([]string, int, error) {
	var r nmapRun
	if err := xml.Unmarshal(b, &r); err != nil {
		return nil, 0, fmt.Errorf("nmap XML: %w", err)
	}
	var found []string
	for _, h := range r.Hosts {
		addr := ""
		for _, a := range h.Addresses {
			if a.Type == "ipv4" {
				addr = a.Addr
			}
		}
		for _, p := range h.Ports {
			if p.State.State == "open" {
				found = append(found, fmt.Sprintf("%s %s/%d", addr, p.Protocol, p.PortID))
			}
		}
	}
	sort.Strings(found)
	return found, 0, nil
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// memory is routerwatch's peak memory on one range.
type memory struct {
	Target    string  `json:"target"`
	Addresses int     `json:"addresses"`
	Seconds   float64 `json:"seconds"`
	MaxRSSMB  float64 `json:"max_rss_mb"`
	Packets   int     `json:"packets"`
	Live      int     `json:"live"`
}

// goal is one of the goals and whether it was met.
type goal struct {
	Goal string `json:"goal"`
	Met  bool   `json:"met"`
	Note string `json:"note"`
}

// result is the benchmark's outcome.
type result struct {
	Scenario      string   `json:"scenario"`
	Prefix        string   `json:"prefix"`
	Live          int      `json:"live_routers"`
	Ports         []string `json:"ports"`
	Rate          float64  `json:"rate"`
	PerPrefixRate float64  `json:"routerwatch_prefix_rate"`
	Wait          float64  `json:"wait_seconds"`
	Tools         []tool   `json:"tools"`
	Memory        []memory `json:"memory"`
	Goals         []goal   `json:"goals"`
}

func (r *result) goals(tools []*tool) {
	rw, mass, nmap, nmapPn := tools[0], tools[2], tools[3], tools[4]
	var massAll []string
	for _, x := range mass.Runs {
		for _, f := range x.found {
			if !slices.Contains(massAll, f) {
				massAll = append(massAll, f)
			}
		}
	}
	complete := 0
	var misses []string
	for _, t := range tools[:2] {
		for i := range t.Runs {
			x := &t.Runs[i]
			for _, f := range massAll {
				if !slices.Contains(x.found, f) {
					x.NotFound = append(x.NotFound, f)
				}
			}
			if t == rw {
				if len(x.NotFound) == 0 {
					complete++
				}
				misses = append(misses, strconv.Itoa(len(x.NotFound)))
			}
		}
	}
	r.Goals = append(r.Goals, goal{Goal: "the sweep finds every open port masscan finds", Met: complete == len(rw.Runs),
		Note: fmt.Sprintf("masscan %d (all runs), routerwatch %d (last run); masscan's not found per run: %s", len(massAll), len(rw.Found), strings.Join(misses, " "))})
	r.Goals = append(r.Goals, goal{Goal: "end-to-end within 2x masscan's sweep time at the same rate", Met: rw.Median <= 2*mass.SweepMedian,
		Note: fmt.Sprintf("routerwatch %.2f s, masscan's sweep %.2f s (wall %.2f s): %.2fx", rw.Median, mass.SweepMedian, mass.Median, rw.Median/mass.SweepMedian)})
	if len(nmapPn.Runs) > 0 {
		r.Goals = append(r.Goals, goal{Goal: "at least 20x faster than nmap -Pn (every address probed)", Met: nmapPn.Median >= 20*rw.Median,
			Note: fmt.Sprintf("nmap -Pn %.1f s, routerwatch %.2f s: %.1fx", nmapPn.Median, rw.Median, nmapPn.Median/rw.Median)})
	}
	if len(nmap.Runs) > 0 {
		r.Goals = append(r.Goals, goal{Goal: "at least 20x faster than nmap with its host discovery", Met: nmap.Median >= 20*rw.Median,
			Note: fmt.Sprintf("nmap %.1f s, routerwatch %.2f s: %.1fx (its pings find these lab routers; routers that drop them are missed)", nmap.Median, rw.Median, nmap.Median/rw.Median)})
	}
	if len(r.Memory) == 2 {
		a, b := r.Memory[0], r.Memory[1]
		r.Goals = append(r.Goals, goal{Goal: "peak memory flat from a /24 to a /16", Met: b.MaxRSSMB <= a.MaxRSSMB*1.25,
			Note: fmt.Sprintf("%s %.1f MB, %s %.1f MB", a.Target, a.MaxRSSMB, b.Target, b.MaxRSSMB)})
	}
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "Lab: %s; %s routed into a blackhole except %d live routers; rate %.0f packets/s (routerwatch --prefix-rate %.0f per /24), wait %.0f s\n",
		r.Scenario, r.Prefix, r.Live, r.Rate, r.PerPrefixRate, r.Wait)
	fmt.Fprintf(w, "Ports (every tool): %s\n\n", strings.Join(r.Ports, " "))
	fmt.Fprintf(w, "%-42s %-26s %-9s %-12s %s\n", "tool", "runs (seconds)", "median", "packets/s", "open ports / live / identified per run; peak RSS")
	for _, t := range r.Tools {
		var secs, per []string
		for _, x := range t.Runs {
			secs = append(secs, fmt.Sprintf("%.2f", x.Seconds))
			per = append(per, fmt.Sprintf("%d/%d/%d %.0fMB", x.Open, x.Live, x.Identified, x.MaxRSSMB))
		}
		fmt.Fprintf(w, "%-42s %-26s %-9s %-12s %s\n", t.Name, strings.Join(secs, " "), fmt.Sprintf("%.2f s", t.Median), fmt.Sprintf("%.0f", t.PPS), strings.Join(per, " "))
		if t.sentMark != "" {
			var sw []string
			for _, x := range t.Runs {
				sw = append(sw, fmt.Sprintf("%.2f", x.SweepSeconds))
			}
			fmt.Fprintf(w, "%-42s %-26s %-9s (until 100%% sent, plus --wait)\n", "  "+t.Name+" sweep", strings.Join(sw, " "), fmt.Sprintf("%.2f s", t.SweepMedian))
		}
	}
	if len(r.Memory) > 0 {
		fmt.Fprintln(w, "\nrouterwatch peak memory (syn sweep + audits, same rate):")
		for _, m := range r.Memory {
			fmt.Fprintf(w, "  %-15s %6d addresses  %7.2f s  %8d packets  %d live  peak RSS %.1f MB\n", m.Target, m.Addresses, m.Seconds, m.Packets, m.Live, m.MaxRSSMB)
		}
	}
	fmt.Fprintln(w, "\nGoals:")
	for _, g := range r.Goals {
		mark := "met"
		if !g.Met {
			mark = "NOT met"
		}
		fmt.Fprintf(w, "  %-60s %-8s %s\n", g.Goal, mark, g.Note)
	}
	fmt.Fprintln(w)
	for _, t := range r.Tools {
		for i, x := range t.Runs {
			if len(x.NotFound) > 0 {
				list := x.NotFound
				more := ""
				if len(list) > 8 {
					list, more = list[:8], fmt.Sprintf(" and %d more (in the JSON)", len(x.NotFound)-8)
				}
				fmt.Fprintf(w, "%s run %d did not report %d of masscan's open ports: %s%s\n", t.Name, i+1, len(x.NotFound), strings.Join(list, ", "), more)
			}
		}
		if t.NotLive > 0 {
			fmt.Fprintf(w, "\n%s reported %d open ports on addresses that are not live routers.\n", t.Name, t.NotLive)
		}
	}
	byPort := func(found []string) string {
		m := map[string]int{}
		for _, f := range found {
			_, p, _ := strings.Cut(f, " ")
			m[p]++
		}
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		var out []string
		for _, k := range ks {
			out = append(out, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintln(w, "\nOpen ports found (last run), by port:")
	for _, t := range r.Tools {
		fmt.Fprintf(w, "  %-42s %s\n", t.Name, byPort(t.Found))
	}
}
