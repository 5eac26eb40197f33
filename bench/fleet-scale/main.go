// SPDX-License-Identifier: Apache-2.0

// Command fleet-scale benchmarks the fleet's range audits at scale: a
// simulated fleet of thousands of router addresses in the lab, audited as
// River jobs on PostgreSQL by 1, 2 and 4 `routerwatch worker` processes.
// For each configuration it reports audits per second (live addresses
// audited / wall time from the run's enqueue to its end), the scaling
// ratio against one process, the PostgreSQL rows written per audit
// (pg_stat_user_tables' n_tup_ins + n_tup_upd + n_tup_del over the store's
// and River's tables), the CPU time of the workers, the router's namespace
// and PostgreSQL, and each worker's peak memory. It checks first that the
// run is right: every live address has exactly one record, no silent
// address has one, every chunk job ran once.
//
// The lab is the tplink-legacy scenario (real dropbear, busybox telnetd,
// lighttpd, miniupnpd, snmpd, dnsmasq) brought up with the lab API. In the
// router's namespace a blackhole route makes 10.80.0.0/15 silent, and an
// nftables DNAT rule turns -live addresses of -prefix (default 5,120 of
// the routed /19 10.80.0.0/19, spread evenly: 160 in each of its 32 /24s)
// into the router itself, so that each is a full router (the DNAT trick
// of bench/scan-vs-nmap and bench/sweep-vs-masscan); nftables counters at
// the router's LAN ingress count the flows (SYNs, UDP datagrams) the
// workers open.
//
// One router plays every live address, so its daemons do the work of
// thousands of routers, on the same 2 cores as the workers; the output
// splits the router's CPU by command. One daemon differs from a real
// router's: the lab runs miniupnpd with -d, and on a machine without a
// syslog socket (/dev/log) glibc's syslog also writes each of its debug
// lines to /dev/console, about 1 ms each. Audited at its own address
// (routerwatch scan 10.77.0.1) it costs 40-60 ms of CPU per audit, most
// of it for the description and IGD requests; at a DNATed address its
// SSDP answer names 10.77.0.1, which the UPnP probe does not fetch from
// (it fetches only from the audited address), so in this benchmark it
// answers only SSDP, NAT-PMP and PCP: a few milliseconds per audit, in
// one single-threaded process. -upnp=false leaves the UPnP ports
// (udp/1900, udp/5351, tcp/5000) silent at the live addresses, as for
// routers with UPnP off, to measure without it.
//
// PostgreSQL is Debian's (initdb and postgres from /usr/lib/postgresql/<v>/bin)
// run as the postgres user with a temporary data directory, as
// internal/store/pgtest runs it for tests; that package is test support
// (its API takes a testing.TB, and the layering test keeps test support
// out of programs), so the few lines it takes are here. The server
// listens on a Unix socket only, in its data directory: the workers run
// in the lab client's network namespace, which does not share the host's
// loopback, and a socket in the file system is reachable from every
// namespace, so nothing listens on any network. It runs with fsync,
// synchronous commit and full-page writes off, as pgtest's servers do
// (the benchmark measures rows and CPU, not a disk shared with other
// work); -fsync keeps PostgreSQL's durable defaults.
//
// Each configuration gets a fresh database: the scope is added with
// `routerwatch range scope add`, the workers are started in the client's
// namespace and awaited, the run is enqueued with `routerwatch range run`,
// and the benchmark polls the store until the run has ended or -limit has
// passed. The workers are then stopped (SIGTERM), and PostgreSQL's
// counters are read once their connections have closed (a backend flushes
// its statistics when it exits).
//
// Usage (root; needs nftables and postgresql from Debian —
// apt-get install nftables postgresql — and the lab's programs from
// scripts/install-lab-deps; run from the module root):
//
//	go run ./bench/fleet-scale                          # 1, 2 and 4 workers, 5,120 routers
//	go run ./bench/fleet-scale -json result.json
//	go run ./bench/fleet-scale -live 512 -processes 1   # a quick check
//	go run ./bench/fleet-scale -upnp=false              # routers with UPnP off
//
// On 2 cores the default (1, 2, 4 processes, two runs each) takes about
// 12 minutes, lab and PostgreSQL included.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/routerwatch/routerwatch/bench/internal/flowcount"

	"github.com/jackc/pgx/v5"

	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/postgres"
)

// routedRange holds -prefix; blackhole is routed into a blackhole by the
// router, so that the addresses not DNATed are silent.
var (
	routedRange = netip.MustParsePrefix("10.80.0.0/16")
	blackhole   = netip.MustParsePrefix("10.80.0.0/15")
)

type options struct {
	scenario    string
	prefix      string
	live        int
	processes   string
	runs        int
	workers     int
	rate        float64
	limit       time.Duration
	settle      time.Duration
	fsync       bool
	routerwatch string
	jsonOut     string
	keep        bool
	upnp        bool
}

func main() {
	var o options
	flag.StringVar(&o.scenario, "scenario", "tplink-legacy", "lab scenario of the router")
	flag.StringVar(&o.prefix, "prefix", "10.80.0.0/19", "the audited range (the scope), inside 10.80.0.0/16")
	flag.IntVar(&o.live, "live", 5120, "live router addresses in the prefix, spread evenly")
	flag.StringVar(&o.processes, "processes", "1,2,4", "worker processes of each configuration, comma-separated")
	flag.IntVar(&o.runs, "runs", 2, "runs of each configuration, taken in turns (1, 2, 4, 1, 2, 4): the table's rates are their medians")
	flag.IntVar(&o.workers, "workers", jobs.DefaultWorkers, "routerwatch worker --workers: chunks one process audits at once")
	flag.Float64Var(&o.rate, "rate", 1000, "the scope's rate: addresses audited per second in one /24 (range scope add --rate; 1000 is the most, so that the rate limit does not decide the result)")
	flag.DurationVar(&o.limit, "limit", 6*time.Minute, "time limit of one configuration's run")
	flag.DurationVar(&o.settle, "settle", 15*time.Second, "pause before each configuration, so the shared lab daemons start idle")
	flag.BoolVar(&o.fsync, "fsync", false, "PostgreSQL with fsync and synchronous commit (default: off, the test settings of internal/store/pgtest; see the package doc)")
	flag.StringVar(&o.routerwatch, "routerwatch", "", "routerwatch binary (default: built from this module)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&o.upnp, "upnp", true, "DNAT the router's UPnP ports (SSDP udp/1900, NAT-PMP udp/5351, its HTTP tcp/5000) too; with false they are silent at the live addresses (see the package doc: the lab's miniupnpd is the fleet's single-threaded bottleneck)")
	flag.BoolVar(&o.keep, "keep", false, "leave the lab up at the end (remove it with routerwatch lab down)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet-scale:", err)
		os.Exit(1)
	}
}

// bench is what every configuration shares.
type bench struct {
	o      options
	lab    *lab.Lab
	bin    string
	pg     *pgServer
	tmp    string
	prefix netip.Prefix
	live   []netip.Addr
	// routerNS is the inode of the router's network namespace.
	routerNS uint64
}

func run(ctx context.Context, o options) error {
	pfx, err := netip.ParsePrefix(o.prefix)
	procs, perr := parseProcesses(o.processes)
	switch {
	case err != nil || !pfx.Addr().Is4() || pfx != pfx.Masked() || pfx.Bits() < routedRange.Bits() || !routedRange.Contains(pfx.Addr()):
		return fmt.Errorf("-prefix must be an IPv4 prefix inside %s, without host bits", routedRange)
	case perr != nil:
		return perr
	case o.live < 1 || o.live > 1<<(32-pfx.Bits()):
		return fmt.Errorf("-live must be 1 to the prefix's %d addresses", 1<<(32-pfx.Bits()))
	case o.runs < 1 || o.runs > 10:
		return errors.New("-runs must be 1-10")
	case o.workers < 1 || o.workers > jobs.MaxWorkers:
		return fmt.Errorf("-workers must be 1-%d", jobs.MaxWorkers)
	case !(o.rate > 0 && o.rate <= 1000):
		return errors.New("-rate must be above 0 and at most 1000")
	case o.limit <= 0 || o.settle < 0:
		return errors.New("-limit must be above 0 and -settle not negative")
	case os.Geteuid() != 0:
		return errors.New("needs root (the lab's network namespaces, PostgreSQL as the postgres user)")
	}
	for _, p := range []string{"nft", "ip"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s not found: apt-get install nftables iproute2", p)
		}
	}
	tmp, err := os.MkdirTemp("", "fleet-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{o: o, tmp: tmp, prefix: pfx, bin: o.routerwatch}
	if b.bin == "" {
		b.bin = filepath.Join(tmp, "routerwatch")
		fmt.Fprintln(os.Stderr, "building routerwatch…")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/routerwatch").CombinedOutput(); err != nil {
			return fmt.Errorf("go build (run from the module root): %w: %s", err, out)
		}
	}
	fmt.Fprintln(os.Stderr, "starting PostgreSQL…")
	if b.pg, err = startPG(ctx, o.fsync); err != nil {
		return err
	}
	defer b.pg.stop()
	fmt.Fprintf(os.Stderr, "bringing up lab %s…\n", o.scenario)
	b.lab, err = lab.Up(ctx, lab.Options{Scenario: o.scenario, Executable: b.bin, Keep: o.keep,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("lab up: %w", err)
	}
	if !o.keep {
		defer func() {
			if err := b.lab.Down(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, "fleet-scale: lab down:", err)
			}
		}()
	}
	if b.routerNS, err = nsInode(filepath.Join("/run/netns", b.lab.Namespace(lab.Router))); err != nil {
		return err
	}
	b.live = spread(pfx, o.live)
	if err := b.setUpRouter(ctx); err != nil {
		return err
	}
	res := result{Scenario: o.scenario, Prefix: pfx.String(), Addresses: 1 << (32 - pfx.Bits()), Live: len(b.live),
		Chunks: len(mustChunks(pfx)), WorkersPerProcess: o.workers, Rate: o.rate, Fsync: o.fsync, UPnP: o.upnp, CPUs: cpuCount(), Runs: o.runs}
	for run := range o.runs {
		for _, n := range procs {
			fmt.Fprintf(os.Stderr, "run %d, %d worker process(es): settling %s…\n", run+1, n, o.settle)
			select {
			case <-time.After(o.settle):
			case <-ctx.Done():
				return ctx.Err()
			}
			c, err := b.configuration(ctx, n)
			if err != nil {
				return fmt.Errorf("%d worker process(es): %w", n, err)
			}
			c.Run = run + 1
			res.Configs = append(res.Configs, c)
		}
	}
	res.summarise(procs)
	res.print(os.Stdout)
	if o.jsonOut != "" {
		out, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(out, '\n'), 0o644); err != nil {
			return err
		}
	}
	if !res.correct() {
		return errors.New("some configuration did not audit every live address exactly once (see above)")
	}
	return nil
}

func parseProcesses(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 16 {
			return nil, fmt.Errorf("-processes: %q is not a number of processes (1-16)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func mustChunks(p netip.Prefix) []netip.Prefix {
	cs, err := jobs.Chunks([]netip.Prefix{p})
	if err != nil {
		panic(err)
	}
	return cs
}

// spread returns n addresses of p, evenly spaced (each /24 of p gets its
// share).
func spread(p netip.Prefix, n int) []netip.Addr {
	size := 1 << (32 - p.Bits())
	var out []netip.Addr
	a := p.Addr()
	for i := range size {
		if (i+1)*n/size > i*n/size {
			out = append(out, a)
		}
		a = a.Next()
	}
	return out
}

// setUpRouter makes blackhole silent in the router, sends the live
// addresses to the router's own LAN address with a DNAT rule, and counts
// at the router's LAN ingress the packets that open a flow (SYNs and UDP
// datagrams, DHCP aside).
func (b *bench) setUpRouter(ctx context.Context) error {
	l := b.lab
	if out, err := l.Command(ctx, lab.Router, "ip", "route", "add", "blackhole", blackhole.String()).CombinedOutput(); err != nil {
		return fmt.Errorf("blackhole route: %w: %s", err, out)
	}
	var set []string
	for _, a := range b.live {
		set = append(set, a.String())
	}
	// Without -upnp, the UPnP ports are not DNATed: their packets go on
	// to the blackhole route, and the live addresses are routers whose
	// UPnP is off.
	noUPnP := "# -upnp: the UPnP ports are DNATed too"
	if !b.o.upnp {
		noUPnP = `iifname "lan0" ip daddr @live udp dport { 1900, 5351 } return
		iifname "lan0" ip daddr @live tcp dport 5000 return`
	}
	rules := fmt.Sprintf(`table ip rwbench {
	set live {
		type ipv4_addr
		elements = { %s }
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		%s
		iifname "lan0" ip daddr @live dnat to %s
	}
}
`+flowcount.Table, strings.Join(set, ", "), noUPnP, l.Addr("router.lan"))
	cmd := l.Command(ctx, lab.Router, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %w: %s", err, out)
	}
	return nil
}

// dropCounters are the kernel's counters, in the router's and the
// client's namespaces, of what overload loses: SYNs dropped at a full
// listen queue, UDP datagrams dropped at a full receive buffer, packets
// dropped at a full backlog. Missing counters (an older kernel) are left
// out.
func (b *bench) dropCounters(ctx context.Context) map[string]map[string]int64 {
	want := map[string]bool{"TcpExt:ListenOverflows": true, "TcpExt:ListenDrops": true, "TcpExt:TCPBacklogDrop": true,
		"Udp:RcvbufErrors": true, "Udp:InErrors": true, "Ip:InDiscards": true}
	out := map[string]map[string]int64{}
	for name, h := range map[string]lab.Host{"router": lab.Router, "client": lab.Client} {
		m := map[string]int64{}
		for _, f := range []string{"/proc/net/netstat", "/proc/net/snmp"} {
			text, err := b.lab.Command(ctx, h, "cat", f).Output()
			if err != nil {
				continue
			}
			// Pairs of lines: "Proto: names…" then "Proto: values…".
			lines := strings.Split(string(text), "\n")
			for i := 0; i+1 < len(lines); i += 2 {
				ks, vs := strings.Fields(lines[i]), strings.Fields(lines[i+1])
				if len(ks) != len(vs) || len(ks) == 0 {
					continue
				}
				for j := 1; j < len(ks); j++ {
					if k := ks[0] + ks[j]; want[k] {
						m[k], _ = strconv.ParseInt(vs[j], 10, 64)
					}
				}
			}
		}
		out[name] = m
	}
	return out
}

// config is one configuration's outcome.
type config struct {
	Processes int `json:"processes"`
	Run       int `json:"run"`
	// Done says the run ended within the limit; State is its final state.
	Done  bool   `json:"done"`
	State string `json:"state"`
	// Seconds is the run's wall time, from its enqueue (the store's start
	// of the run) to its end (the finish job's mark, which looks every 5 s).
	Seconds float64 `json:"seconds"`
	// LastSeconds is from the enqueue to the start of the last audit (a
	// record's time is its audit's start): the throughput without the
	// finish job's poll, and without the last audit's own duration.
	LastSeconds float64 `json:"seconds_to_last_record"`
	// Audited counts the run's records; Expected the live addresses.
	Audited  int `json:"audited"`
	Expected int `json:"expected_live"`
	// Missing are live addresses without a record, Extra silent ones with
	// one (both should be empty; at most 20 listed).
	Missing    []string `json:"missing,omitempty"`
	MissingN   int      `json:"missing_count"`
	Extra      []string `json:"extra,omitempty"`
	ExtraN     int      `json:"extra_count"`
	Answered   int      `json:"records_live"`
	Identified int      `json:"records_with_model"`
	Failing    int      `json:"records_failing"`
	AuditsPerS float64  `json:"audits_per_second"`
	// AuditsPerSLast is Audited over LastSeconds.
	AuditsPerSLast float64 `json:"audits_per_second_to_last_record"`
	ChunkJobs      int     `json:"chunk_jobs"`
	ChunkStates    string  `json:"chunk_states"`
	// Retried counts chunk jobs that took more than one attempt.
	Retried int `json:"chunks_retried"`
	// Rows are the PostgreSQL rows written during the run, by table.
	Rows         map[string]rowCount `json:"rows_by_table"`
	RowsTotal    rowCount            `json:"rows"`
	RowsPerAudit float64             `json:"rows_per_audit"`
	// CPU seconds during the run (enqueue to end): the workers together,
	// the router's namespace (its daemons and their reaped children), the
	// PostgreSQL server (postmaster, backends, reaped backends), and the
	// whole machine (every CPU, /proc/stat).
	WorkerCPU float64 `json:"worker_cpu_seconds"`
	RouterCPU float64 `json:"router_cpu_seconds"`
	// RouterByName splits RouterCPU by command name (a process's own
	// time and its reaped children's).
	RouterByName map[string]float64 `json:"router_cpu_seconds_by_command"`
	PostgresCPU  float64            `json:"postgres_cpu_seconds"`
	MachineCPU   float64            `json:"machine_cpu_seconds"`
	// MachineBusy is MachineCPU over the run's wall time times the CPUs.
	MachineBusy float64 `json:"machine_busy_fraction"`
	// PeakRSSMB is each worker's peak resident memory.
	PeakRSSMB []float64 `json:"worker_peak_rss_mb"`
	// Flows counts the SYNs and UDP datagrams the router's LAN saw.
	Flows int `json:"router_flows"`
	// Drops are the kernel's counters of packets and connections lost
	// during the run that could hide a live address from the sweep, by
	// namespace ("router", "client") and counter (nonzero ones only).
	Drops map[string]map[string]int64 `json:"kernel_drops,omitempty"`
	// RecordBytes is the mean size of a record's JSON as stored
	// (pg_column_size: after TOAST compression), TableBytes the range
	// records' table with its indexes and TOAST over its rows.
	RecordBytes float64 `json:"record_bytes_stored"`
	TableBytes  float64 `json:"range_records_bytes_per_row"`
}

// rowCount is PostgreSQL's count of rows written to a table.
type rowCount struct {
	Ins int64 `json:"ins"`
	Upd int64 `json:"upd"`
	Del int64 `json:"del"`
}

func (r rowCount) total() int64 { return r.Ins + r.Upd + r.Del }

// worker is one routerwatch worker process.
type worker struct {
	cmd *exec.Cmd
	log string
}

// configuration runs the scope once with n worker processes on a fresh
// database.
func (b *bench) configuration(ctx context.Context, n int) (config, error) {
	c := config{Processes: n, Expected: len(b.live)}
	dbName := fmt.Sprintf("fleet_%d_%d", n, time.Now().Unix())
	if err := b.pg.createDB(ctx, dbName); err != nil {
		return c, err
	}
	dsn := b.pg.dsn(dbName)
	if out, err := b.cli(ctx, "range", "scope", "add", "--db", dsn, "--prefix", b.prefix.String(),
		"--owner", "fleet-scale benchmark", "--reason", "measuring the fleet's range audits in the lab",
		"--rate", strconv.FormatFloat(b.o.rate, 'f', -1, 64)); err != nil {
		return c, fmt.Errorf("range scope add: %w: %s", err, out)
	}
	st, err := postgres.Open(ctx, b.pg.ownDSN(dbName))
	if err != nil {
		return c, err
	}
	defer st.Close()
	t := st.ForOrg(store.DefaultOrg)
	scopes, err := t.RangeScopes(ctx, store.Page{Limit: 1})
	if err != nil || len(scopes) != 1 {
		return c, fmt.Errorf("the scope is not in the store: %v", err)
	}

	// Workers, each in the client's namespace, awaited until River runs.
	var ws []*worker
	wctx, cancelWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWorkers()
	defer func() {
		for _, w := range ws {
			if w.cmd.ProcessState == nil {
				w.cmd.Process.Kill()
				w.cmd.Wait()
			}
		}
	}()
	for i := range n {
		w, err := b.startWorker(wctx, dsn, i)
		if err != nil {
			return c, err
		}
		ws = append(ws, w)
	}
	for _, w := range ws {
		if err := awaitLine(ctx, w, "worker: started", time.Minute); err != nil {
			return c, err
		}
	}
	// The start-up's writes (River's migrations, the leader's first jobs)
	// are not the run's: wait until the server has their statistics (an
	// idle backend reports its own within about 10 s) before the counters
	// are read.
	before, err := b.pg.startupStats(ctx, dbName)
	if err != nil {
		return c, err
	}
	if _, err := flowcount.Reset(ctx, b.lab); err != nil {
		return c, err
	}
	cpu0 := b.cpuNow(ws)
	drops0 := b.dropCounters(ctx)

	fmt.Fprintf(os.Stderr, "  run of %d addresses (%d live) queued…\n", 1<<(32-b.prefix.Bits()), len(b.live))
	out, err := b.cli(ctx, "range", "run", strconv.FormatInt(scopes[0].ID, 10), "--db", dsn)
	if err != nil {
		return c, fmt.Errorf("range run: %w: %s", err, out)
	}
	runID, err := runNumber(out)
	if err != nil {
		return c, err
	}
	deadline := time.Now().Add(b.o.limit)
	lastNote := time.Now()
	var r store.RangeRun
	for {
		if r, err = t.RangeRun(ctx, runID); err != nil {
			return c, err
		}
		if r.State != store.RangeRunning {
			c.Done = true
			break
		}
		if time.Now().After(deadline) {
			break
		}
		for _, w := range ws {
			if w.cmd.ProcessState != nil {
				return c, fmt.Errorf("worker %s exited: %s", w.log, tail(w.log))
			}
		}
		if time.Since(lastNote) >= 15*time.Second {
			lastNote = time.Now()
			if done, err := t.RangeDone(ctx, runID, netip.Prefix{}); err == nil {
				fmt.Fprintf(os.Stderr, "  %d recorded after %.0f s\n", len(done), time.Since(r.StartedAt).Seconds())
			}
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return c, ctx.Err()
		}
	}
	end := time.Now()
	c.State = string(r.State)
	if !c.Done {
		fmt.Fprintf(os.Stderr, "  the run did not end within %s; its jobs:\n%s", b.o.limit, b.pg.jobSummary(ctx, dbName))
	}
	if c.Done {
		end = r.FinishedAt
	}
	c.Seconds = end.Sub(r.StartedAt).Seconds()
	cpu1 := b.cpuNow(ws)
	if c.Flows, err = flowcount.Reset(ctx, b.lab); err != nil {
		return c, err
	}
	drops1 := b.dropCounters(ctx)
	for ns, m := range drops1 {
		for k, v := range m {
			if d := v - drops0[ns][k]; d != 0 {
				if c.Drops == nil {
					c.Drops = map[string]map[string]int64{}
				}
				if c.Drops[ns] == nil {
					c.Drops[ns] = map[string]int64{}
				}
				c.Drops[ns][k] = d
			}
		}
	}

	// Stop the workers; their backends flush their statistics as they exit.
	for _, w := range ws {
		w.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range ws {
		done := make(chan struct{})
		go func() { w.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(45 * time.Second):
			w.cmd.Process.Kill()
			<-done
		}
		if ru, ok := w.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			c.PeakRSSMB = append(c.PeakRSSMB, math.Round(float64(ru.Maxrss)/1024*10)/10) // kilobytes on Linux
		}
	}
	if err := b.pg.awaitIdle(ctx, dbName); err != nil {
		return c, err
	}
	after, err := b.pg.tableStats(ctx, dbName)
	if err != nil {
		return c, err
	}
	c.Rows = map[string]rowCount{}
	for k, a := range after {
		d := rowCount{Ins: a.Ins - before[k].Ins, Upd: a.Upd - before[k].Upd, Del: a.Del - before[k].Del}
		if d.total() != 0 {
			c.Rows[k] = d
			c.RowsTotal.Ins += d.Ins
			c.RowsTotal.Upd += d.Upd
			c.RowsTotal.Del += d.Del
		}
	}
	c.WorkerCPU = (cpu1.workers - cpu0.workers).Seconds()
	c.RouterCPU = (cpu1.router - cpu0.router).Seconds()
	c.RouterByName = map[string]float64{}
	for k, v := range cpu1.routerByName {
		if d := (v - cpu0.routerByName[k]).Seconds(); d != 0 {
			c.RouterByName[k] = math.Round(d*100) / 100
		}
	}
	c.PostgresCPU = (cpu1.postgres - cpu0.postgres).Seconds()
	c.MachineCPU = (cpu1.machine - cpu0.machine).Seconds()
	wall := cpu1.at.Sub(cpu0.at).Seconds()
	c.MachineBusy = c.MachineCPU / (wall * float64(cpuCount()))

	last, err := b.verify(ctx, t, runID, &c)
	if err != nil {
		return c, err
	}
	if !last.IsZero() {
		c.LastSeconds = last.Sub(r.StartedAt).Seconds()
	}
	if err := b.pg.chunkJobs(ctx, dbName, &c); err != nil {
		return c, err
	}
	if err := b.pg.recordSizes(ctx, dbName, &c); err != nil {
		return c, err
	}
	if c.Seconds > 0 {
		c.AuditsPerS = float64(c.Audited) / c.Seconds
	}
	if c.LastSeconds > 0 {
		c.AuditsPerSLast = float64(c.Audited) / c.LastSeconds
	}
	if c.Audited > 0 {
		c.RowsPerAudit = float64(c.RowsTotal.total()) / float64(c.Audited)
	}
	fmt.Fprintf(os.Stderr, "  %s in %.1f s (last audit started at %.1f s): %d audited (%d expected), %.1f audits/s, %.2f rows/audit\n",
		c.State, c.Seconds, c.LastSeconds, c.Audited, c.Expected, c.AuditsPerS, c.RowsPerAudit)
	return c, nil
}

// verify compares the run's records with the live addresses, and returns
// the latest record's time (its audit's start).
func (b *bench) verify(ctx context.Context, t store.Tenant, runID int64, c *config) (time.Time, error) {
	var last time.Time
	live := map[netip.Addr]bool{}
	for _, a := range b.live {
		live[a] = true
	}
	seen := map[netip.Addr]bool{}
	for r, err := range t.ExportRangeRecords(ctx, runID) {
		if err != nil {
			return last, err
		}
		a := r.Address.Unmap()
		if seen[a] {
			// The store keys records by (run, address); a second one
			// would be a store bug.
			return last, fmt.Errorf("two records of %s", a)
		}
		if r.At.After(last) {
			last = r.At
		}
		seen[a] = true
		c.Audited++
		if r.Live {
			c.Answered++
		}
		if r.Model != "" {
			c.Identified++
		}
		if r.Failing > 0 {
			c.Failing++
		}
		if !live[a] {
			c.ExtraN++
			if len(c.Extra) < 20 {
				c.Extra = append(c.Extra, a.String())
			}
		}
	}
	for _, a := range b.live {
		if !seen[a] {
			c.MissingN++
			if len(c.Missing) < 20 {
				c.Missing = append(c.Missing, a.String())
			}
		}
	}
	return last, nil
}

var runRE = regexp.MustCompile(`run (\d+) of scope`)

func runNumber(out []byte) (int64, error) {
	m := runRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("range run said %q", out)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// env is the routerwatch processes' environment: a private home, data and
// config directory (no user advisory store), nothing else of the bench's.
func (b *bench) env() []string {
	home := filepath.Join(b.tmp, "home")
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "NO_COLOR=1"}
}

// cli runs routerwatch in the host's namespace: only PostgreSQL's socket
// is reached.
func (b *bench) cli(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Env = b.env()
	return cmd.CombinedOutput()
}

func (b *bench) startWorker(ctx context.Context, dsn string, i int) (*worker, error) {
	w := &worker{log: filepath.Join(b.tmp, fmt.Sprintf("worker-%d-%d.log", time.Now().UnixNano(), i))}
	f, err := os.Create(w.log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// ip netns exec execs routerwatch in the same process: its PID, CPU
	// time and peak memory are the worker's.
	w.cmd = b.lab.Command(ctx, lab.Client, b.bin, "worker", "--db", dsn, "--workers", strconv.Itoa(b.o.workers), "--log-level", "info")
	w.cmd.Env = b.env()
	w.cmd.Stdout, w.cmd.Stderr = f, f
	w.cmd.Cancel = func() error { return w.cmd.Process.Signal(syscall.SIGTERM) }
	w.cmd.WaitDelay = 45 * time.Second
	if err := w.cmd.Start(); err != nil {
		return nil, err
	}
	return w, nil
}

// awaitLine waits until the worker's log has s.
func awaitLine(ctx context.Context, w *worker, s string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		b, _ := os.ReadFile(w.log)
		if bytes.Contains(b, []byte(s)) {
			return nil
		}
		if w.cmd.ProcessState != nil || time.Now().After(deadline) {
			return fmt.Errorf("worker did not start: %s", b)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// cpuSnap is CPU time used so far.
type cpuSnap struct {
	at                                 time.Time
	workers, router, postgres, machine time.Duration
	// routerByName splits router by command name.
	routerByName map[string]time.Duration
}

func (b *bench) cpuNow(ws []*worker) cpuSnap {
	procs := readProcs()
	s := cpuSnap{at: time.Now(), machine: machineBusy(), routerByName: map[string]time.Duration{}}
	for _, w := range ws {
		if p, ok := procs[w.cmd.Process.Pid]; ok {
			s.workers += p.self + p.children
		}
	}
	for pid, p := range procs {
		if ino, err := nsInode(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && ino == b.routerNS {
			s.router += p.self + p.children
			s.routerByName[p.name] += p.self + p.children
		}
	}
	s.postgres = treeCPU(procs, b.pg.cmd.Process.Pid)
	return s
}

// proc is one process's CPU time (its own, and its reaped children's).
type proc struct {
	name           string
	ppid           int
	self, children time.Duration
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// readProcs reads every process's CPU time from /proc.
func readProcs() map[int]proc {
	out := map[int]proc{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses: fields
		// start after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		j := bytes.IndexByte(b, '(')
		if i < 0 || j < 0 || j > i {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 {
			continue
		}
		n := func(k int) time.Duration { v, _ := strconv.ParseInt(f[k], 10, 64); return time.Duration(v) * clockTick }
		ppid, _ := strconv.Atoi(f[1])
		// f[0] is field 3 (state): utime is field 14, stime 15, cutime
		// 16, cstime 17.
		out[pid] = proc{name: string(b[j+1 : i]), ppid: ppid, self: n(11) + n(12), children: n(13) + n(14)}
	}
	return out
}

// treeCPU sums the CPU time of root and every process below it.
func treeCPU(procs map[int]proc, root int) time.Duration {
	var sum time.Duration
	for pid, p := range procs {
		for q := pid; q > 1; q = procs[q].ppid {
			if q == root {
				sum += p.self + p.children
				break
			}
			if _, ok := procs[q]; !ok {
				break
			}
		}
	}
	return sum
}

// machineBusy is the CPU time every CPU spent not idle (/proc/stat).
func machineBusy() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 9 || fs[0] != "cpu" {
			continue
		}
		var busy int64
		// user nice system idle iowait irq softirq steal: all but idle
		// and iowait.
		for i, v := range fs[1:9] {
			if i == 3 || i == 4 {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			busy += n
		}
		return time.Duration(busy) * clockTick
	}
	return 0
}

func cpuCount() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}

// nsInode returns the inode of a network namespace file.
func nsInode(path string) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("%s: no inode", path)
	}
	return st.Ino, nil
}

// pgServer is the benchmark's PostgreSQL.
type pgServer struct {
	dir      string
	port     int
	bin      string
	cmd      *exec.Cmd
	uid, gid uint32
}

// startPG starts PostgreSQL as the postgres user with a new data directory
// in a temporary directory, listening on a Unix socket there only.
func startPG(ctx context.Context, fsync bool) (*pgServer, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	s := &pgServer{}
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			s.bin = dirs[i]
			break
		}
	}
	if s.bin == "" {
		return nil, errors.New("PostgreSQL is not installed (apt-get install postgresql)")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.uid, s.gid = uint32(uid), uint32(gid)
	if s.dir, err = os.MkdirTemp("", "fleet-scale-pg-"); err != nil {
		return nil, err
	}
	if err := os.Chown(s.dir, uid, gid); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.command("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// The port only names the socket (.s.PGSQL.PORT), in a directory of
	// its own.
	s.port = 5432
	args := []string{"-D", data, "-p", strconv.Itoa(s.port), "-k", s.dir, "-c", "listen_addresses=",
		"-c", "max_connections=200", "-c", "shared_buffers=256MB"}
	if !fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	s.cmd = s.command("postgres", args...)
	logf, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	defer logf.Close()
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group: Ctrl-C reaches the benchmark, which stops it.
	s.cmd.SysProcAttr.Setpgid = true
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("postgres did not start: %v", err)
		}
	}
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: s.uid, Gid: s.gid}}
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	return cmd
}

// stop shuts PostgreSQL down (fast shutdown) and removes its directory.
func (s *pgServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(s.dir)
}

// dsn names database db through the socket.
func (s *pgServer) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, s.dir, s.port)
}

// benchApp names the benchmark's own connections, which awaitIdle does
// not wait for.
const benchApp = "fleet-scale"

// ownDSN is dsn(db) for the benchmark's own connections.
func (s *pgServer) ownDSN(db string) string { return s.dsn(db) + "&application_name=" + benchApp }

func (s *pgServer) createDB(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// tableStats returns the rows written to each table of db so far
// (schema.table: the store's in public, River's in river).
func (s *pgServer) tableStats(ctx context.Context, db string) (map[string]rowCount, error) {
	conn, err := pgx.Connect(ctx, s.ownDSN(db))
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables")
	if err != nil {
		return nil, err
	}
	out := map[string]rowCount{}
	for rows.Next() {
		var k string
		var r rowCount
		if err := rows.Scan(&k, &r.Ins, &r.Upd, &r.Del); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, rows.Err()
}

// startupStats waits until River's migration rows show in db's
// statistics (its backends report them lazily), then returns them.
func (s *pgServer) startupStats(ctx context.Context, db string) (map[string]rowCount, error) {
	for deadline := time.Now().Add(30 * time.Second); ; {
		st, err := s.tableStats(ctx, db)
		if err != nil {
			return nil, err
		}
		if st["river.river_migration"].Ins > 0 || time.Now().After(deadline) {
			// A little longer, for the leader's first jobs.
			time.Sleep(time.Second)
			return s.tableStats(ctx, db)
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// awaitIdle waits until no other connection to db is open, so that every
// backend that wrote has flushed its statistics.
func (s *pgServer) awaitIdle(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, s.ownDSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2", db, benchApp).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connections to %s are still open 30 s after the workers stopped", n, db)
		}
	}
}

// jobSummary lists River's jobs by kind, state and attempt, with their
// last error, for a run that did not end.
func (s *pgServer) jobSummary(ctx context.Context, db string) string {
	conn, err := pgx.Connect(ctx, s.ownDSN(db))
	if err != nil {
		return err.Error()
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT kind, state::text, attempt, count(*), coalesce(max(errors[array_length(errors, 1)]->>'error'), '')
		FROM river.river_job GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
	if err != nil {
		return err.Error()
	}
	var sb strings.Builder
	for rows.Next() {
		var kind, state, lastErr string
		var attempt, n int
		if err := rows.Scan(&kind, &state, &attempt, &n, &lastErr); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&sb, "    %-16s %-10s attempt %d: %d %s\n", kind, state, attempt, n, lastErr)
	}
	rows, err = conn.Query(ctx, `SELECT application_name, coalesce(state, ''), coalesce(wait_event_type || ':' || wait_event, ''), left(query, 120)
		FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2`, db, benchApp)
	if err != nil {
		return sb.String() + err.Error()
	}
	sb.WriteString("  connections:\n")
	for rows.Next() {
		var app, state, wait, q string
		if err := rows.Scan(&app, &state, &wait, &q); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&sb, "    %s %s %s %q\n", app, state, wait, q)
	}
	return sb.String()
}

// chunkJobs reads the run's chunk jobs from River's table: how many, in
// which states, and how many took more than one attempt.
func (s *pgServer) chunkJobs(ctx context.Context, db string, c *config) error {
	conn, err := pgx.Connect(ctx, s.ownDSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT state::text, attempt, count(*) FROM river.river_job WHERE kind = $1 GROUP BY 1, 2 ORDER BY 1, 2", jobs.KindRangeChunk)
	if err != nil {
		return err
	}
	states := map[string]int{}
	for rows.Next() {
		var state string
		var attempt, n int
		if err := rows.Scan(&state, &attempt, &n); err != nil {
			return err
		}
		states[state] += n
		c.ChunkJobs += n
		if attempt > 1 {
			c.Retried += n
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var parts []string
	for k, v := range states {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	c.ChunkStates = strings.Join(parts, ", ")
	return nil
}

// recordSizes measures how much room the run's records take.
func (s *pgServer) recordSizes(ctx context.Context, db string, c *config) error {
	conn, err := pgx.Connect(ctx, s.ownDSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, `SELECT coalesce(avg(pg_column_size(record)), 0)::float8,
		(pg_total_relation_size('public.range_records')::float8 / greatest(count(*), 1))::float8 FROM public.range_records`).Scan(&c.RecordBytes, &c.TableBytes)
}

// result is the benchmark's outcome.
type result struct {
	Scenario          string    `json:"scenario"`
	Prefix            string    `json:"prefix"`
	Addresses         int       `json:"addresses"`
	Live              int       `json:"live_routers"`
	Chunks            int       `json:"chunks"`
	WorkersPerProcess int       `json:"workers_per_process"`
	Rate              float64   `json:"scope_rate_per_prefix"`
	Fsync             bool      `json:"postgres_fsync"`
	UPnP              bool      `json:"upnp_dnated"`
	CPUs              int       `json:"cpus"`
	Runs              int       `json:"runs"`
	Configs           []config  `json:"runs_measured"`
	Summary           []summary `json:"summary"`
}

// summary is one number of processes over its runs: medians.
type summary struct {
	Processes  int     `json:"processes"`
	AuditsPerS float64 `json:"median_audits_per_second"`
	// Scaling is AuditsPerS over the first configuration's (one process).
	Scaling float64 `json:"scaling"`
	// AuditsPerSLast and ScalingLast are the same up to the last audit's
	// start.
	AuditsPerSLast float64 `json:"median_audits_per_second_to_last_record"`
	ScalingLast    float64 `json:"scaling_to_last_record"`
	RowsPerAudit   float64 `json:"median_rows_per_audit"`
	// CPU milliseconds per audit.
	WorkerMS   float64 `json:"median_worker_cpu_ms_per_audit"`
	RouterMS   float64 `json:"median_router_cpu_ms_per_audit"`
	PostgresMS float64 `json:"median_postgres_cpu_ms_per_audit"`
	Busy       float64 `json:"median_machine_busy_fraction"`
	PeakRSSMB  float64 `json:"max_worker_peak_rss_mb"`
}

func (r *result) summarise(procs []int) {
	for _, n := range procs {
		s := summary{Processes: n}
		var aps, apsl, rows, wm, rm, pm, busy []float64
		for _, c := range r.Configs {
			if c.Processes != n || c.Audited == 0 {
				continue
			}
			per := func(x float64) float64 { return x * 1000 / float64(c.Audited) }
			aps, apsl, rows = append(aps, c.AuditsPerS), append(apsl, c.AuditsPerSLast), append(rows, c.RowsPerAudit)
			wm, rm, pm = append(wm, per(c.WorkerCPU)), append(rm, per(c.RouterCPU)), append(pm, per(c.PostgresCPU))
			busy = append(busy, c.MachineBusy)
			for _, m := range c.PeakRSSMB {
				s.PeakRSSMB = max(s.PeakRSSMB, m)
			}
		}
		if len(aps) == 0 {
			continue
		}
		s.AuditsPerS, s.AuditsPerSLast, s.RowsPerAudit = flowcount.Median(aps), flowcount.Median(apsl), flowcount.Median(rows)
		s.WorkerMS, s.RouterMS, s.PostgresMS, s.Busy = flowcount.Median(wm), flowcount.Median(rm), flowcount.Median(pm), flowcount.Median(busy)
		r.Summary = append(r.Summary, s)
	}
	if len(r.Summary) > 0 && r.Summary[0].AuditsPerS > 0 {
		for i := range r.Summary {
			r.Summary[i].Scaling = r.Summary[i].AuditsPerS / r.Summary[0].AuditsPerS
			if r.Summary[0].AuditsPerSLast > 0 {
				r.Summary[i].ScalingLast = r.Summary[i].AuditsPerSLast / r.Summary[0].AuditsPerSLast
			}
		}
	}
}

// correct reports whether every configuration ended done with every live
// address recorded once and nothing else.
func (r *result) correct() bool {
	for _, c := range r.Configs {
		if !c.Done || c.State != string(store.RangeDone) || c.MissingN > 0 || c.ExtraN > 0 || c.Audited != c.Expected {
			return false
		}
	}
	return true
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "Lab: %s; %s (%d addresses, %d chunks) routed into a blackhole except %d live routers (DNAT to one router)\n",
		r.Scenario, r.Prefix, r.Addresses, r.Chunks, r.Live)
	fmt.Fprintf(w, "routerwatch worker --workers %d per process; scope rate %.0f addresses/s per /24; PostgreSQL fsync %v; the router's UPnP DNATed %v; %d CPUs\n\n",
		r.WorkersPerProcess, r.Rate, r.Fsync, r.UPnP, r.CPUs)
	fmt.Fprintf(w, "%-9s %-3s %-6s %-11s %6s %8s %6s %9s %10s %-18s %-26s %6s %7s %-15s %s\n", "processes", "run", "state", "audited", "model", "seconds", "last", "audits/s",
		"rows/audit", "rows ins/upd/del", "CPU s: work/rtr/pg/machine", "busy", "flows/a", "peak RSS MB", "chunk jobs")
	for _, c := range r.Configs {
		var rss []string
		for _, m := range c.PeakRSSMB {
			rss = append(rss, fmt.Sprintf("%.0f", m))
		}
		flows := 0.0
		if c.Audited > 0 {
			flows = float64(c.Flows) / float64(c.Audited)
		}
		fmt.Fprintf(w, "%-9d %-3d %-6s %-11s %6d %8.1f %6.1f %9.1f %10.2f %-18s %-26s %5.0f%% %7.1f %-15s %s, %d retried\n", c.Processes, c.Run, c.State,
			fmt.Sprintf("%d/%d", c.Audited, c.Expected), c.Identified, c.Seconds, c.LastSeconds, c.AuditsPerS, c.RowsPerAudit,
			fmt.Sprintf("%d/%d/%d", c.RowsTotal.Ins, c.RowsTotal.Upd, c.RowsTotal.Del),
			fmt.Sprintf("%.1f/%.1f/%.1f/%.1f", c.WorkerCPU, c.RouterCPU, c.PostgresCPU, c.MachineCPU), c.MachineBusy*100, flows,
			strings.Join(rss, " "), c.ChunkStates, c.Retried)
	}
	fmt.Fprintf(w, "\nMedians over %d run(s) (CPU in milliseconds per audit; busy: the whole machine, other tenants included):\n", r.Runs)
	fmt.Fprintf(w, "(audits/s to the run's end, which the finish job sees within 5 s; \"last\": to the start of the last audit)\n")
	fmt.Fprintf(w, "%-9s %9s %8s %9s %8s %10s %10s %10s %10s %6s %12s\n", "processes", "audits/s", "scaling", "last a/s", "scaling", "rows/audit",
		"worker ms", "router ms", "pg ms", "busy", "max RSS MB")
	for _, s := range r.Summary {
		fmt.Fprintf(w, "%-9d %9.1f %8.2f %9.1f %8.2f %10.2f %10.2f %10.2f %10.2f %5.0f%% %12.0f\n", s.Processes, s.AuditsPerS, s.Scaling,
			s.AuditsPerSLast, s.ScalingLast, s.RowsPerAudit, s.WorkerMS, s.RouterMS, s.PostgresMS, s.Busy*100, s.PeakRSSMB)
	}
	fmt.Fprintln(w, "\nRows written (ins/upd/del), by table and run:")
	var tables []string
	for _, c := range r.Configs {
		for k := range c.Rows {
			if !slices.Contains(tables, k) {
				tables = append(tables, k)
			}
		}
	}
	sort.Strings(tables)
	for _, k := range tables {
		fmt.Fprintf(w, "  %-24s", k)
		for _, c := range r.Configs {
			x := c.Rows[k]
			fmt.Fprintf(w, " %dp#%d: %d/%d/%d", c.Processes, c.Run, x.Ins, x.Upd, x.Del)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nKernel drop counters during the run (nonzero only):")
	for _, c := range r.Configs {
		var parts []string
		for _, ns := range []string{"router", "client"} {
			var ks []string
			for k := range c.Drops[ns] {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				parts = append(parts, fmt.Sprintf("%s %s %d", ns, k, c.Drops[ns][k]))
			}
		}
		fmt.Fprintf(w, "  %dp#%d: %s\n", c.Processes, c.Run, strings.Join(parts, ", "))
	}
	fmt.Fprintln(w, "\nStored size of the range records (bytes): the record's JSON / the table, indexes and TOAST per row:")
	for _, c := range r.Configs {
		fmt.Fprintf(w, "  %dp#%d: %.0f / %.0f\n", c.Processes, c.Run, c.RecordBytes, c.TableBytes)
	}
	fmt.Fprintln(w, "\nRouter namespace CPU seconds by command, by run:")
	for _, c := range r.Configs {
		var names []string
		for k := range c.RouterByName {
			names = append(names, k)
		}
		sort.Slice(names, func(i, j int) bool { return c.RouterByName[names[i]] > c.RouterByName[names[j]] })
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, c.RouterByName[k]))
		}
		fmt.Fprintf(w, "  %dp#%d: %s\n", c.Processes, c.Run, strings.Join(parts, ", "))
	}
	for _, c := range r.Configs {
		if c.MissingN > 0 || c.ExtraN > 0 || !c.Done || c.State != string(store.RangeDone) {
			fmt.Fprintf(w, "\n%d process(es), run %d: NOT CORRECT: state %s, %d live addresses without a record (%s), %d silent ones with one (%s)\n",
				c.Processes, c.Run, c.State, c.MissingN, strings.Join(c.Missing, " "), c.ExtraN, strings.Join(c.Extra, " "))
		}
	}
}
