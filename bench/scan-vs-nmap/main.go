// SPDX-License-Identifier: Apache-2.0

// Command scan-vs-nmap benchmarks `routerwatch scan` against
// `nmap -sV --version-light` on the same lab, the same targets and the
// same port list, several runs each in one go, and reports the median
// wall times, their ratio, and what each tool identified.
//
// The lab is the tplink-legacy scenario (real dropbear, busybox telnetd,
// lighttpd with the TP-Link realm, miniupnpd, snmpd) brought up with the
// lab API, with -addrs extra addresses (default 64, 10.77.0.64/26) on the
// router's LAN interface; an nftables rule in the router's namespace
// sends everything for those addresses to the router's own address, so
// each is a full router. Everything runs inside the lab's namespaces:
// nmap and routerwatch in the client's, nft and ip in the router's.
// Nothing touches the host namespace, and the lab is removed at the end.
//
// Usage (root; needs nmap and nftables from Debian, and the lab's
// programs from scripts/install-lab-deps):
//
//	go run ./bench/scan-vs-nmap            # 3 runs each
//	go run ./bench/scan-vs-nmap -runs 5 -json result.json
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
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/routerwatch/routerwatch/bench/internal/flowcount"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/scan"
)

// runTimeout bounds one tool run: nmap's UDP scan of 64 hosts takes a few
// minutes; twenty is a hang.
const runTimeout = 20 * time.Minute

// defaultSettle is the pause before each tool run. The benchmark's
// addresses share one set of lab daemons; after a burst the lab's
// miniupnpd (which logs every request) keeps working through its backlog
// for up to about 30 s, and a run that starts then finds it slow. Every
// run, of either tool, starts after the same pause.
const defaultSettle = 30 * time.Second

type options struct {
	runs        int
	addrs       int
	scenario    string
	routerwatch string
	jsonOut     string
	keep        bool
	settle      time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 3, "runs of each tool (the median is reported)")
	flag.IntVar(&o.addrs, "addrs", 64, "router addresses to scan (1-94, from 10.77.0.160 up)")
	flag.StringVar(&o.scenario, "scenario", "tplink-legacy", "lab scenario of the router")
	flag.StringVar(&o.routerwatch, "routerwatch", "", "routerwatch binary (default: built from this module)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "leave the lab up at the end (remove it with routerwatch lab down)")
	flag.DurationVar(&o.settle, "settle", defaultSettle, "pause before each tool run, so the shared lab daemons start idle")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scan-vs-nmap:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.runs < 1 || o.addrs < 1 || o.addrs > 94 {
		return errors.New("-runs must be at least 1 and -addrs 1-94")
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root (the lab's network namespaces)")
	}
	for _, p := range []string{"nmap", "nft", "ip"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s not found: apt-get install nmap nftables iproute2", p)
		}
	}
	tmp, err := os.MkdirTemp("", "scan-vs-nmap-")
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
				fmt.Fprintln(os.Stderr, "scan-vs-nmap: lab down:", err)
			}
		}()
	}
	spec, targets, err := addAddresses(ctx, l, o.addrs)
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
	nmapPorts := "T:" + strings.Join(tcp, ",") + ",U:" + strings.Join(udp, ",")
	xmlPath := filepath.Join(tmp, "nmap.xml")
	tools := []*tool{
		{Name: "routerwatch scan (defaults)", exe: bin, Args: []string{"scan", "--format", "jsonl", spec}, parse: summarizeRouterwatch},
		// The benchmark's 64 addresses share one set of daemons (one
		// miniupnpd, which logs every request): past about 100 new
		// connections a second its UDP answers come late. 64 real routers
		// would each have their own; this row shows what is found when
		// the shared daemons keep up.
		{Name: "routerwatch scan --rate 100", exe: bin, Args: []string{"scan", "--format", "jsonl", "--rate", "100", spec}, parse: summarizeRouterwatch},
		{Name: "nmap -sV --version-light", exe: "nmap", Args: []string{"-n", "-sV", "--version-light", "-sS", "-sU", "-p", nmapPorts, "-oX", xmlPath, spec},
			outFile: xmlPath, parse: summarizeNmap},
	}
	res := result{Scenario: o.scenario, Targets: len(targets), Ports: ports}
	for i := range o.runs {
		fmt.Fprintf(os.Stderr, "run %d/%d:", i+1, o.runs)
		for _, t := range tools {
			select {
			case <-time.After(o.settle):
			case <-ctx.Done():
				return ctx.Err()
			}
			d, out, err := timed(ctx, l, t.exe, t.Args)
			if err == nil && t.outFile != "" {
				out, err = os.ReadFile(t.outFile)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			sum, err := t.parse(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, " %s %s;", t.Name, d.Round(time.Millisecond))
			t.Seconds = append(t.Seconds, d.Seconds())
			t.Runs = append(t.Runs, runSummary{Seconds: d.Seconds(), ModelsNamed: sum.named(), OpenPorts: sum.OpenPorts})
			t.Last = sum
		}
		fmt.Fprintln(os.Stderr)
	}
	for _, t := range tools {
		t.Median = flowcount.Median(t.Seconds)
		t.Command = strings.Replace(filepath.Base(t.exe)+" "+strings.Join(t.Args, " "), xmlPath, "nmap.xml", 1)
		res.Tools = append(res.Tools, *t)
	}
	nmapMedian := tools[len(tools)-1].Median
	for _, t := range tools[:len(tools)-1] {
		res.Ratios = append(res.Ratios, ratio{Tool: t.Name, NmapOverTool: nmapMedian / t.Median})
	}
	res.print(os.Stdout)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tool is one command line the benchmark times.
type tool struct {
	Name    string       `json:"name"`
	Command string       `json:"command"`
	Seconds []float64    `json:"seconds"`
	Median  float64      `json:"median_seconds"`
	Runs    []runSummary `json:"runs"`
	// Last is what the last run identified.
	Last summary `json:"last_run"`

	exe     string
	Args    []string `json:"-"`
	outFile string   // read instead of stdout (nmap's XML)
	parse   func([]byte) (summary, error)
}

// runSummary is one run's time and headline numbers.
type runSummary struct {
	Seconds     float64 `json:"seconds"`
	ModelsNamed int     `json:"hosts_with_model_named"`
	OpenPorts   int     `json:"open_ports"`
}

type ratio struct {
	Tool         string  `json:"tool"`
	NmapOverTool float64 `json:"nmap_median_over_tool_median"`
}

// addAddresses gives the router n more LAN addresses from 10.77.0.160 up
// (inside the lab's 10.77.0.0/24, away from the client at .10 and the
// DHCP pool .100-.150), and an nftables rule in the router's namespace
// that sends what arrives for them to the router's own LAN address, where
// the scenario's daemons listen. Replies go back through conntrack with
// the address the client asked for. It returns the targets as one range
// argument ("10.77.0.160-223", which both tools read) and as addresses.
func addAddresses(ctx context.Context, l *lab.Lab, n int) (string, []netip.Addr, error) {
	router := l.Addr("router.lan")
	first := netip.MustParseAddr("10.77.0.160")
	var targets []netip.Addr
	for a := first; len(targets) < n; a = a.Next() {
		targets = append(targets, a)
	}
	var batch strings.Builder
	for _, t := range targets {
		fmt.Fprintf(&batch, "address add %s/32 dev lan0\n", t)
	}
	cmd := l.Command(ctx, lab.Router, "ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("router addresses: %w: %s", err, out)
	}
	var set []string
	for _, t := range targets {
		set = append(set, t.String())
	}
	rules := fmt.Sprintf(`table ip rwbench {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "lan0" ip daddr { %s } dnat to %s
	}
}
`, strings.Join(set, ", "), router)
	cmd = l.Command(ctx, lab.Router, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("nft: %w: %s", err, out)
	}
	last := targets[len(targets)-1].As4()
	return fmt.Sprintf("%s-%d", first, last[3]), targets, nil
}

// timed runs name in the client's namespace and returns its wall time and
// stdout. Exit status 1 (routerwatch: findings) is not a failure.
func timed(ctx context.Context, l *lab.Lab, name string, args []string) (time.Duration, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := l.Command(ctx, lab.Client, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && name != "nmap" {
		err = nil
	}
	if err != nil {
		return d, nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return d, out.Bytes(), nil
}

// result is the benchmark's outcome.
type result struct {
	Scenario string   `json:"scenario"`
	Targets  int      `json:"targets"`
	Ports    []string `json:"ports"`
	Tools    []tool   `json:"tools"`
	// Ratios are nmap's median wall time over each routerwatch row's.
	Ratios []ratio `json:"ratios"`
}

// summary is what one tool identified over all targets (last run).
type summary struct {
	Hosts int `json:"hosts"`
	// Answered counts hosts with at least one open port.
	Answered int `json:"answered"`
	// Models counts hosts by the device vendor and model named.
	Models map[string]int `json:"models"`
	// Services counts open ports by "proto/port name product".
	Services map[string]int `json:"services"`
	// OpenPorts is the total of open ports over all hosts.
	OpenPorts int `json:"open_ports"`
	// Extra is what else the tool said (advisory verdicts, findings).
	Extra map[string]int `json:"extra,omitempty"`
}

// named counts the hosts whose model the tool named.
func (s summary) named() int {
	n := 0
	for _, c := range s.Models {
		n += c
	}
	return n
}

func summarizeRouterwatch(b []byte) (summary, error) {
	s := summary{Models: map[string]int{}, Services: map[string]int{}, Extra: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var r scan.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return s, fmt.Errorf("routerwatch output: %w", err)
		}
		s.Hosts++
		if len(r.Services) > 0 {
			s.Answered++
		}
		if r.Identity.Model != "" {
			name := r.Identity.Vendor + " " + r.Identity.Model
			if r.Identity.HWRev != "" {
				name += " V" + r.Identity.HWRev
			}
			s.Models[name]++
		}
		for _, sv := range r.Services {
			k := fmt.Sprintf("%s/%d %s", sv.Proto, sv.Port, sv.Kind)
			if len(sv.Facts) > 0 {
				k += " (" + sv.Facts[0] + ")"
			}
			s.Services[k]++
			s.OpenPorts++
		}
		s.Extra["advisory verdict "+r.Vulnerability.Verdict]++
		for _, f := range r.Findings {
			if f.Status.String() == "fail" {
				s.Extra["failing "+f.CheckID]++
			}
		}
	}
	return s, sc.Err()
}

// nmapRun is the part of nmap's XML output the summary reads.
type nmapRun struct {
	Hosts []struct {
		Status struct {
			State string `xml:"state,attr"`
		} `xml:"status"`
		Ports []struct {
			Protocol string `xml:"protocol,attr"`
			PortID   int    `xml:"portid,attr"`
			State    struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
			Service struct {
				Name       string `xml:"name,attr"`
				Product    string `xml:"product,attr"`
				Version    string `xml:"version,attr"`
				ExtraInfo  string `xml:"extrainfo,attr"`
				Hostname   string `xml:"hostname,attr"`
				DeviceType string `xml:"devicetype,attr"`
			} `xml:"service"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

func summarizeNmap(b []byte) (summary, error) {
	s := summary{Models: map[string]int{}, Services: map[string]int{}, Extra: map[string]int{}}
	var r nmapRun
	if err := xml.Unmarshal(b, &r); err != nil {
		return s, fmt.Errorf("nmap XML: %w", err)
	}
	for _, h := range r.Hosts {
		s.Hosts++
		open := false
		model := ""
		for _, p := range h.Ports {
			if p.State.State != "open" {
				if p.State.State == "open|filtered" {
					s.Extra[fmt.Sprintf("%s/%d open|filtered", p.Protocol, p.PortID)]++
				}
				continue
			}
			open = true
			s.OpenPorts++
			sv := p.Service
			k := fmt.Sprintf("%s/%d %s", p.Protocol, p.PortID, sv.Name)
			if prod := strings.TrimSpace(sv.Product + " " + sv.Version); prod != "" {
				k += " (" + prod + ")"
			}
			s.Services[k]++
			// nmap names a device model in product or extrainfo for the
			// services it knows ("TP-LINK WR841N WAP http config").
			for _, v := range []string{sv.Product, sv.ExtraInfo, sv.DeviceType} {
				if strings.Contains(strings.ToUpper(v), "TP-LINK") || strings.Contains(v, "WR841N") || strings.Contains(v, "MikroTik") {
					model = v
				}
			}
			if sv.Hostname != "" {
				s.Extra["service info host name "+sv.Hostname]++
			}
		}
		if open {
			s.Answered++
		}
		if model != "" {
			s.Models[model]++
		}
	}
	return s, nil
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "Lab: %s, %d router addresses; ports (every tool): %s\n\n", r.Scenario, r.Targets, strings.Join(r.Ports, " "))
	fmt.Fprintf(w, "%-30s %-28s %-10s %s\n", "tool", "runs (seconds)", "median", "models named / open ports per run")
	for _, t := range r.Tools {
		var per []string
		for _, x := range t.Runs {
			per = append(per, fmt.Sprintf("%d/%d", x.ModelsNamed, x.OpenPorts))
		}
		fmt.Fprintf(w, "%-30s %-28s %-10s %s\n", t.Name, secs(t.Seconds), fmt.Sprintf("%.2f s", t.Median), strings.Join(per, " "))
	}
	fmt.Fprintln(w)
	for _, x := range r.Ratios {
		fmt.Fprintf(w, "%s is %.1fx faster than nmap (median over median).\n", x.Tool, x.NmapOverTool)
	}
	for _, t := range r.Tools {
		s := t.Last
		fmt.Fprintf(w, "\n%s\n  command: %s\n  last run: %d hosts, %d with an open port, %d open ports\n", t.Name, t.Command, s.Hosts, s.Answered, s.OpenPorts)
		fmt.Fprintf(w, "  device model named: %s\n", counts(s.Models, "none"))
		fmt.Fprintf(w, "  services:\n")
		for _, k := range keys(s.Services) {
			fmt.Fprintf(w, "    %3d  %s\n", s.Services[k], k)
		}
		if len(s.Extra) > 0 {
			fmt.Fprintf(w, "  also:\n")
			for _, k := range keys(s.Extra) {
				fmt.Fprintf(w, "    %3d  %s\n", s.Extra[k], k)
			}
		}
	}
}

func secs(xs []float64) string {
	var out []string
	for _, x := range xs {
		out = append(out, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(out, " ")
}

func counts(m map[string]int, none string) string {
	if len(m) == 0 {
		return none
	}
	var out []string
	for _, k := range keys(m) {
		out = append(out, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(out, ", ")
}

func keys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
