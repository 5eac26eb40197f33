// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultStateDir holds one directory per lab: state file, configurations,
// keys, certificates and daemon logs. /run is a tmpfs, so a reboot (which
// also removes every namespace) removes the state too.
const DefaultStateDir = "/run/routerwatch/lab"

// Timeouts, each bounding one wait.
const (
	// readyTimeout bounds how long a daemon may take to open its sockets.
	// They need 10–300 ms here; 10 s leaves room for a loaded CI machine.
	readyTimeout = 10 * time.Second
	// stopGrace is how long daemons get to exit on SIGTERM before SIGKILL.
	stopGrace = time.Second
	// killWait bounds the wait for SIGKILLed processes to disappear.
	killWait = 2 * time.Second
)

// Errors Up returns (wrapped) before it changes anything.
var (
	// ErrNotRoot: namespaces, veths and daemons on privileged ports need root.
	ErrNotRoot = errors.New("the lab needs root (network namespaces, veth links, daemons on privileged ports): run as root, e.g. with sudo")
	// ErrExists: a lab of that name already exists.
	ErrExists = errors.New("lab already exists")
	// ErrBadName: the lab name is not usable in namespace names.
	ErrBadName = errors.New("bad lab name")
)

// Options configure Up.
type Options struct {
	// Scenario names an embedded scenario (see ScenarioNames). Required.
	Scenario string
	// Name identifies the lab: 1–20 of [a-z0-9-]. Empty derives a unique
	// name (6 hex digits), so labs can run in parallel.
	Name string
	// StateDir holds the lab directories; empty means DefaultStateDir.
	StateDir string
	// Keep marks a lab meant to outlive the process that ran Up (the CLI's
	// `lab up`). Cleanup removes a lab whose owner process is gone unless
	// Keep is set and Up had completed.
	Keep bool
	// Logger receives progress at debug level; nil discards it.
	Logger *slog.Logger
	// Executable is the routerwatch binary whose hidden `lab fake`
	// subcommand runs the fakes of scenarios that have them
	// (Scenario.NeedsExecutable). Empty means $ROUTERWATCH_BIN, else the
	// running binary (os.Executable), which is right for the CLI; a test
	// binary is refused (labtest builds routerwatch and sets this).
	Executable string
}

// Lab is a running lab network. Its methods are safe for concurrent use,
// except SetLogger, which belongs right after Load or List.
type Lab struct {
	dir      string
	logger   *slog.Logger
	scenario *Scenario // nil if the state names a scenario this build lacks
	exe      string    // the routerwatch binary for fakes ("" if none run)

	mu sync.Mutex // guards the fields below
	st state
	// children are the processes this Lab value started; each channel is
	// closed when the process has been reaped.
	children map[int]chan struct{}
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,19}$`)

// Up builds the lab of opts.Scenario: namespaces, links, certificates, the
// signed zone, then every daemon in parallel; it returns once each daemon's
// sockets are open. On failure it removes whatever it made. It refuses to
// start without root (ErrNotRoot) or with programs missing (*MissingError).
func Up(ctx context.Context, opts Options) (*Lab, error) {
	sc, err := LoadScenario(opts.Scenario)
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		var b [3]byte
		_, _ = rand.Read(b[:]) // crypto/rand never fails
		name = hex.EncodeToString(b[:])
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("lab: %w %q: want 1-20 characters of a-z, 0-9 and -", ErrBadName, name)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("lab: %w", ErrNotRoot)
	}
	if err := CheckDeps(sc); err != nil {
		return nil, err
	}
	var exe string
	if sc.NeedsExecutable() {
		if exe, err = osDepEnv.routerwatch(opts.Executable); err != nil {
			return nil, err
		}
	}
	stateDir := opts.StateDir
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	if stateDir, err = filepath.Abs(stateDir); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	dir := filepath.Join(stateDir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("lab: %w: %s (see 'routerwatch lab status')", ErrExists, name)
		}
		return nil, fmt.Errorf("lab: %w", err)
	}
	self, err := readProcStat(os.Getpid())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("lab: %w", err), os.RemoveAll(dir))
	}
	l := &Lab{
		dir:      dir,
		logger:   loggerOr(opts.Logger).With("lab", name),
		scenario: sc,
		exe:      exe,
		children: map[int]chan struct{}{},
		st: state{
			Version: stateVersion, Name: name, Scenario: sc.Name, Phase: phaseStarting, Keep: opts.Keep,
			Owner:      procID{PID: os.Getpid(), StartTime: self.startTime},
			Created:    time.Now().UTC(),
			Namespaces: map[Host]string{},
		},
	}
	if err := l.st.save(dir); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	start := time.Now()
	if err := l.up(ctx); err != nil {
		down := l.Down(context.WithoutCancel(ctx))
		return nil, errors.Join(fmt.Errorf("lab %s: up: %w", name, err), down)
	}
	l.logger.Debug("lab up", "scenario", sc.Name, "seconds", time.Since(start).Seconds())
	return l, nil
}

func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

func (l *Lab) up(ctx context.Context) error {
	// The network, the shared material (CA, certificates, signed zone) and
	// the daemons' configurations (with SSH host keys) do not depend on each
	// other: make them at the same time, then start every daemon at once.
	netErr := make(chan error, 1)
	go func() {
		start := time.Now()
		err := l.createNetwork(ctx)
		l.logger.Debug("network ready", "seconds", time.Since(start).Seconds())
		netErr <- err
	}()
	now := time.Now()
	if err := errors.Join(writePKI(l.dir, l.st.Name, now), writeSignedZone(l.dir, now)); err != nil {
		return errors.Join(err, <-netErr)
	}
	l.logger.Debug("certificates and zone ready", "seconds", time.Since(now).Seconds())

	b := &builder{dir: l.dir, sc: l.scenario, lab: l.st.Name, busybox: osDepEnv.busyboxStatic(), exe: l.exe}
	var wanted []service
	for _, sv := range services {
		if l.scenario.HasService(sv.name) {
			wanted = append(wanted, sv)
		}
	}
	launches := make([]launch, len(wanted))
	errs := make(chan error, len(wanted))
	for i, sv := range wanted {
		go func() {
			var err error
			launches[i], err = sv.setup(ctx, b)
			if err != nil {
				err = fmt.Errorf("%s: %w", sv.name, err)
			}
			errs <- err
		}()
	}
	all := []error{<-netErr}
	for range wanted {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}

	for i, sv := range wanted {
		go func() { errs <- l.startService(ctx, sv, launches[i]) }()
	}
	all = all[:0]
	for range wanted {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	if l.scenario.HasService("ra") {
		if err := l.waitAdvertising(ctx); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.Phase = phaseUp
	return l.st.save(l.dir)
}

// waitAdvertising solicits router advertisements from the client until
// one comes. The router's dnsmasq has its sockets open before it answers
// the link: a solicitation (or DHCPv6 request) sent in the first few
// hundred milliseconds after that can go unanswered, and a checker that
// listens only as long as a router needs to answer (RFC 4861: 0.5 s)
// would take the lab's router for none.
func (l *Lab) waitAdvertising(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		_, err := l.RouterAdvertisement(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ra: no router advertisement after %v: %w", readyTimeout, err)
		}
	}
}

// markerEnv names the environment variable that marks every process a lab
// starts with the lab's directory. Down also kills processes by this mark,
// which finds one that a crash left unrecorded between its fork and its
// entering the namespace.
const markerEnv = "ROUTERWATCH_LAB_DIR"

// daemonEnv is the whole environment of a daemon: nothing of the caller's
// leaks in.
func (l *Lab) daemonEnv(extra []string) []string {
	return append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + l.dir, "LANG=C", "TZ=UTC", markerEnv + "=" + l.dir,
	}, extra...)
}

// startService starts sv in its host's namespace and waits until its
// sockets are open.
func (l *Lab) startService(ctx context.Context, sv service, ln launch) error {
	pid, startTime, err := l.start(sv.name, sv.host, ln)
	if err != nil {
		return fmt.Errorf("%s: %w", sv.name, err)
	}
	if err := l.waitReady(ctx, sv, pid, startTime); err != nil {
		return fmt.Errorf("%s: %w", sv.name, err)
	}
	l.logger.Debug("service ready", "service", sv.name, "host", sv.host, "pid", pid)
	return nil
}

// start launches one daemon with `ip netns exec` (which execs in place, so
// the PID is the daemon's) in a session of its own, detached from the
// caller: it survives the CLI's exit and gets no terminal signals. The
// record is written before the process exists and completed right after.
func (l *Lab) start(service string, host Host, ln launch) (int, uint64, error) {
	logPath := filepath.Join(l.dir, service+".log")
	argv := append([]string{"ip", "netns", "exec", l.Namespace(host)}, ln.argv...)
	l.mu.Lock()
	idx := len(l.st.Processes)
	l.st.Processes = append(l.st.Processes, procRecord{Service: service, Host: host, Argv: argv, Log: logPath})
	err := l.st.save(l.dir)
	l.mu.Unlock()
	if err != nil {
		return 0, 0, err
	}

	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, 0, fmt.Errorf("lab: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = l.dir
	cmd.Env = l.daemonEnv(ln.env)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("lab: start: %w", err)
	}
	pid := cmd.Process.Pid
	// Read the start time before anything reaps the child: until Wait, even
	// an exited child keeps its /proc entry (as a zombie), so the PID cannot
	// have been reused yet.
	st, err := readProcStat(pid)
	if err != nil {
		st = procStat{} // cannot happen for an unreaped child; alive() is then false
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }() // reap; the exit status is in the log
	l.mu.Lock()
	l.children[pid] = done
	l.st.Processes[idx].PID = pid
	l.st.Processes[idx].Start = st.startTime
	err = l.st.save(l.dir)
	l.mu.Unlock()
	return pid, st.startTime, err
}

// waitReady polls the daemon's namespace until sv.ready sockets are open,
// failing early (with the end of its log) if the daemon exits.
func (l *Lab) waitReady(ctx context.Context, sv service, pid int, startTime uint64) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	ino, err := netnsInode(l.Namespace(sv.host))
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	logPath := filepath.Join(l.dir, sv.name+".log")
	ready := sv.ready(l.scenario)
	for {
		if !alive(pid, startTime) {
			return fmt.Errorf("exited during start: %s", tail(logPath, 600))
		}
		// Until `ip netns exec` has switched namespaces, /proc/PID/net shows
		// the root namespace's sockets: never take those for the daemon's.
		if in, err := procNetnsInode(pid); err == nil && in == ino {
			socks, err := listeningSockets(pid)
			if err == nil && allOpen(socks, ready) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready (sockets %v) after %v: %w; log: %s", ready, readyTimeout, ctx.Err(), tail(logPath, 600))
		case <-time.After(pollInterval):
		}
	}
}

func allOpen(socks map[sock]bool, want []sock) bool {
	for _, w := range want {
		if !hasSocket(socks, w) {
			return false
		}
	}
	return true
}

// Load attaches to the lab name in stateDir ("" = DefaultStateDir) from its
// state file, for example one `routerwatch lab up` left running.
func Load(stateDir, name string) (*Lab, error) {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("lab: %w %q", ErrBadName, name)
	}
	dir, err := filepath.Abs(filepath.Join(stateDir, name))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	sc, _ := LoadScenario(st.Scenario) // nil: still removable by Down
	return &Lab{dir: dir, logger: loggerOr(nil).With("lab", name), scenario: sc, st: *st, children: map[int]chan struct{}{}}, nil
}

// List loads every lab in stateDir ("" = DefaultStateDir), sorted by name.
// Directories without a readable state file are skipped.
func List(stateDir string) ([]*Lab, error) {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	ents, err := os.ReadDir(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var out []*Lab
	for _, e := range ents {
		if !e.IsDir() || !nameRE.MatchString(e.Name()) {
			continue
		}
		if l, err := Load(stateDir, e.Name()); err == nil {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].st.Name < out[j].st.Name })
	return out, nil
}

// SetLogger sets the logger of a lab obtained with Load or List.
func (l *Lab) SetLogger(lg *slog.Logger) { l.logger = loggerOr(lg).With("lab", l.Name()) }

// Name returns the lab's name.
func (l *Lab) Name() string { return l.st.Name }

// Dir returns the lab's directory: state file, configurations, logs.
func (l *Lab) Dir() string { return l.dir }

// Scenario returns the lab's scenario; nil if this build does not know it.
func (l *Lab) Scenario() *Scenario { return l.scenario }

// ScenarioName returns the name of the lab's scenario.
func (l *Lab) ScenarioName() string { return l.st.Scenario }

// Namespace returns the network namespace of host ("" if unknown).
func (l *Lab) Namespace(host Host) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ns, ok := l.st.Namespaces[host]; ok {
		return ns
	}
	if slices.Contains(Hosts(), host) {
		return l.nsName(host)
	}
	return ""
}

// nsName derives host's namespace name: rw-<lab>-<cli|rtr|isp>.
func (l *Lab) nsName(h Host) string { return "rw-" + l.st.Name + "-" + h.short() }

// Addr returns the address of a role (see Roles), or the zero Addr for an
// unknown role or one this lab does not have (client.lan with
// client.dhcp_only, the v6 roles without ipv6).
func (l *Lab) Addr(role string) netip.Addr {
	r, ok := roleByName(role)
	if !ok {
		return netip.Addr{}
	}
	if role == "client.lan" && l.scenario != nil && l.scenario.Client.DHCPOnly {
		return netip.Addr{}
	}
	if r.addr.Is6() && (l.scenario == nil || !l.scenario.IPv6) {
		return netip.Addr{}
	}
	return r.addr
}

// CAFile returns the lab CA certificate (PEM). The trusted resolver and the
// legit HTTPS servers have certificates from it; the AitM server does not.
func (l *Lab) CAFile() string { return filepath.Join(l.dir, caFile) }

// AitMCertFile returns the AitM server's self-signed certificate (PEM).
func (l *Lab) AitMCertFile() string { return filepath.Join(l.dir, aitmCertOnly) }

// AttackerDoTCertFile returns the attacker dnsdist's self-signed DoT
// certificate (PEM, for AttackerDoTName).
func (l *Lab) AttackerDoTCertFile() string { return filepath.Join(l.dir, attackerDoTPEM) }

// DHCPLeaseFile returns the router's DHCP lease table (dnsmasq's lease
// file), for tests that check a probe left it as it was.
func (l *Lab) DHCPLeaseFile() string { return filepath.Join(l.dir, "dhcp.leases") }

// TrustAnchorFile returns the DNSKEY (KSK) of corp.test, in zone-file form.
func (l *Lab) TrustAnchorFile() string { return filepath.Join(l.dir, trustAnchorFile) }

// Command returns a command that runs name inside host's network namespace
// (via `ip netns exec`, which also gives it the host's private
// /etc/resolv.conf).
func (l *Lab) Command(ctx context.Context, host Host, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.Namespace(host), name}, args...)...)
}

// Status is a snapshot of a lab.
type Status struct {
	Name       string
	Scenario   string
	Phase      string // starting, up, stopping
	Keep       bool
	Dir        string
	Created    time.Time
	OwnerAlive bool // the process that ran Up still runs
	Namespaces []NamespaceStatus
	Processes  []ProcessStatus
}

// NamespaceStatus says whether one host's namespace exists.
type NamespaceStatus struct {
	Host   Host
	Name   string
	Exists bool
}

// ProcessStatus says whether one daemon runs.
type ProcessStatus struct {
	Service string
	Host    Host
	PID     int
	Alive   bool
	Log     string
}

// Healthy reports whether the lab is up with every namespace and process.
func (s Status) Healthy() bool {
	if s.Phase != phaseUp {
		return false
	}
	for _, n := range s.Namespaces {
		if !n.Exists {
			return false
		}
	}
	for _, p := range s.Processes {
		if !p.Alive {
			return false
		}
	}
	return true
}

// Status reports the lab's namespaces and processes.
func (l *Lab) Status() Status {
	l.mu.Lock()
	st := l.st
	st.Namespaces = maps.Clone(l.st.Namespaces)
	procs := slices.Clone(l.st.Processes)
	l.mu.Unlock()
	s := Status{Name: st.Name, Scenario: st.Scenario, Phase: st.Phase, Keep: st.Keep, Dir: l.dir,
		Created: st.Created, OwnerAlive: alive(st.Owner.PID, st.Owner.StartTime)}
	for _, h := range Hosts() {
		ns, ok := st.Namespaces[h]
		if !ok {
			continue
		}
		_, err := os.Stat(filepath.Join(netnsRunDir, ns))
		s.Namespaces = append(s.Namespaces, NamespaceStatus{Host: h, Name: ns, Exists: err == nil})
	}
	for _, p := range procs {
		s.Processes = append(s.Processes, ProcessStatus{Service: p.Service, Host: p.Host, PID: p.PID,
			Alive: alive(p.PID, p.Start), Log: p.Log})
	}
	// Host order, then the services table's order (processes start in
	// parallel, so the record order varies).
	rank := func(p ProcessStatus) int {
		for i, sv := range services {
			if sv.name == p.Service {
				return slices.Index(Hosts(), p.Host)*1000 + i
			}
		}
		return 1 << 30
	}
	slices.SortStableFunc(s.Processes, func(a, b ProcessStatus) int { return rank(a) - rank(b) })
	return s
}

// PIDs returns every process the lab recorded (alive or not).
func (l *Lab) PIDs() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, p := range l.st.Processes {
		if p.PID > 0 {
			out = append(out, p.PID)
		}
	}
	return out
}

// Down stops the lab and removes everything it made: it stops every
// recorded process by PID (only if /proc still shows the recorded start
// time: a reused PID is never touched), then kills whatever else still runs
// in the lab's namespaces, deletes the namespaces, their /etc/netns
// directories and the lab directory. It is idempotent and works from any
// process, also after the one that ran Up crashed.
func (l *Lab) Down(ctx context.Context) error {
	l.mu.Lock()
	if _, err := os.Stat(l.dir); errors.Is(err, os.ErrNotExist) {
		l.mu.Unlock()
		return nil
	}
	l.st.Phase = phaseStopping
	saveErr := l.st.save(l.dir)
	var procs []procID
	for _, p := range l.st.Processes {
		if alive(p.PID, p.Start) {
			procs = append(procs, procID{p.PID, p.Start})
		}
	}
	children := make([]chan struct{}, 0, len(l.children))
	for _, c := range l.children {
		children = append(children, c)
	}
	namespaces := make([]string, 0, len(l.st.Namespaces))
	for _, h := range Hosts() {
		if ns, ok := l.st.Namespaces[h]; ok {
			namespaces = append(namespaces, ns)
		}
	}
	etcDirs := slices.Clone(l.st.NetnsDirs)
	l.mu.Unlock()

	start := time.Now()
	l.stop(ctx, procs)

	// Anything else in the lab's namespaces: children the daemons forked,
	// processes started with Command, a daemon whose PID was never recorded.
	var errs []error
	if saveErr != nil {
		errs = append(errs, saveErr)
	}
	var inos []uint64
	for _, ns := range namespaces {
		if ino, err := netnsInode(ns); err == nil { // else already deleted
			inos = append(inos, ino)
		}
	}
	strays := strayProcesses(inos, markerEnv+"="+l.dir)
	for _, p := range strays {
		signalIfSame(p.PID, p.StartTime, syscall.SIGKILL)
	}
	wctx, cancel := context.WithTimeout(ctx, killWait)
	if left := waitGone(wctx, strays); len(left) > 0 {
		errs = append(errs, fmt.Errorf("lab: %d process(es) did not exit: %v", len(left), left))
	}
	cancel()
	// Reap our own children so their PIDs are gone when Down returns.
	for _, c := range children {
		select {
		case <-c:
		case <-time.After(killWait):
		}
	}

	delErr := make(chan error, len(namespaces))
	for _, ns := range namespaces {
		go func() {
			if _, err := os.Stat(filepath.Join(netnsRunDir, ns)); err != nil {
				delErr <- nil
				return
			}
			delErr <- runIP(context.WithoutCancel(ctx), "netns", "del", ns)
		}()
	}
	for range namespaces {
		if err := <-delErr; err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range etcDirs {
		// Only directories this lab recorded, and only under /etc/netns.
		if filepath.Dir(d) != netnsEtcDir || !strings.HasPrefix(filepath.Base(d), "rw-") {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("lab: %w", err))
		}
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(l.dir); err != nil {
			errs = append(errs, fmt.Errorf("lab: %w", err))
		}
	}
	l.logger.Debug("lab down", "seconds", time.Since(start).Seconds(), "errors", len(errs))
	return errors.Join(errs...)
}

// stop sends SIGTERM to procs, waits up to stopGrace, then SIGKILLs the rest.
func (l *Lab) stop(ctx context.Context, procs []procID) {
	for _, p := range procs {
		signalIfSame(p.PID, p.StartTime, syscall.SIGTERM)
	}
	wctx, cancel := context.WithTimeout(ctx, stopGrace)
	left := waitGone(wctx, procs)
	cancel()
	for _, p := range left {
		l.logger.Debug("process ignored SIGTERM", "pid", p.PID)
		signalIfSame(p.PID, p.StartTime, syscall.SIGKILL)
	}
	wctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), killWait)
	waitGone(wctx, left)
	cancel()
}

// Cleanup removes the leftovers of crashed labs in stateDir ("" =
// DefaultStateDir): every lab whose owner process is gone, unless it was
// made to be kept (Options.Keep) and its Up had completed. It returns the
// names of the labs it removed. Labs of live processes are never touched,
// so Cleanup is safe while other tests run labs.
func Cleanup(ctx context.Context, stateDir string) ([]string, error) {
	labs, err := List(stateDir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, l := range labs {
		l.mu.Lock()
		st := l.st
		l.mu.Unlock()
		if alive(st.Owner.PID, st.Owner.StartTime) {
			continue
		}
		if st.Keep && st.Phase == phaseUp {
			continue
		}
		if err := l.Down(ctx); err != nil {
			errs = append(errs, fmt.Errorf("lab %s: %w", st.Name, err))
			continue
		}
		removed = append(removed, st.Name)
	}
	return removed, errors.Join(errs...)
}
