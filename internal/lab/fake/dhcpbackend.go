// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DHCPBackend names the router's real DHCP server (the lab's dnsmasq) that
// a live fake writes the DHCP DNS servers into. The lab starts that dnsmasq
// with --dhcp-optsfile=OptsFile; dnsmasq re-reads the file when it gets
// SIGHUP (dnsmasq(8), --dhcp-optsfile and SIGHUP) and logs "read FILE"
// once it has. So a change is: write the file (atomically), find the
// dnsmasq by its PID in the lab's state file, SIGHUP it, and wait for that
// log line. From then on every DHCP exchange hands out the new servers; a
// client sees them at its next lease or renewal.
type DHCPBackend struct {
	// OptsFile is dnsmasq's --dhcp-optsfile.
	OptsFile string `json:"opts_file"`
	// StateFile is the lab's state file (state.json), which records each
	// daemon's PID and start time.
	StateFile string `json:"state_file"`
	// Service is the dnsmasq's service name in the state file ("dhcp").
	Service string `json:"service"`
	// LogFile is where that dnsmasq logs (its stderr).
	LogFile string `json:"log_file"`
	// Self is what "no DNS server configured" hands out: the router's own
	// resolver (router.dns), as SOHO firmware does.
	Self netip.Addr `json:"self"`
}

// Validate checks b.
func (b *DHCPBackend) Validate() error {
	for _, f := range []struct{ name, v string }{{"opts_file", b.OptsFile}, {"state_file", b.StateFile}, {"log_file", b.LogFile}} {
		if !filepath.IsAbs(f.v) {
			return fmt.Errorf("dhcp.%s: %q is not an absolute path", f.name, f.v)
		}
	}
	if b.Service == "" {
		return errors.New("dhcp.service: empty")
	}
	if !b.Self.Is4() {
		return errors.New("dhcp.self: an IPv4 address is required")
	}
	return nil
}

// Timeouts of a DHCP DNS change.
const (
	// reloadTimeout bounds the wait for dnsmasq's "read FILE" line after
	// SIGHUP: it comes within about a millisecond in the lab; seconds
	// leave room for a loaded machine.
	reloadTimeout = 5 * time.Second
	// reloadPoll is how often the wait reads the log again: dnsmasq
	// takes well under a millisecond to re-read the file.
	reloadPoll = time.Millisecond
	// maxStateFile bounds the lab's state file (a few kilobytes).
	maxStateFile = 1 << 20
)

// dhcpServer applies DHCP DNS changes to a dnsmasq (DHCPBackend). Its
// methods are safe for concurrent use; changes are applied one at a time.
type dhcpServer struct {
	cfg DHCPBackend
	mu  sync.Mutex
	// findPID returns the PID to signal; tests replace it (the real one
	// refuses any process but the lab's dnsmasq in this namespace).
	findPID func() (int, error)
	// signal sends SIGHUP; tests replace it.
	signal func(pid int) error
}

func newDHCPServer(cfg DHCPBackend) *dhcpServer {
	s := &dhcpServer{cfg: cfg, signal: func(pid int) error { return syscall.Kill(pid, syscall.SIGHUP) }}
	s.findPID = s.labDnsmasq
	return s
}

// OptsContent is the dhcp-optsfile that hands out servers (option 6, in
// order), or self when servers is empty.
func OptsContent(servers []netip.Addr, self netip.Addr) string {
	if len(servers) == 0 {
		servers = []netip.Addr{self}
	}
	list := make([]string, len(servers))
	for i, a := range servers {
		list[i] = a.String()
	}
	return "# routerwatch lab: the DHCP DNS servers, written by the router's live UI (re-read on SIGHUP)\noption:dns-server," + strings.Join(list, ",") + "\n"
}

// SetDNS makes dnsmasq hand out servers (self if empty) and returns once
// it has re-read its options.
func (s *dhcpServer) SetDNS(ctx context.Context, servers []netip.Addr) error {
	for _, a := range servers {
		if !a.Is4() {
			return fmt.Errorf("dhcp dns: %v is not an IPv4 address", a)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pid, err := s.findPID()
	if err != nil {
		return err
	}
	if err := writeAtomic(s.cfg.OptsFile, []byte(OptsContent(servers, s.cfg.Self))); err != nil {
		return err
	}
	off, err := fileSize(s.cfg.LogFile)
	if err != nil {
		return err
	}
	if err := s.signal(pid); err != nil {
		return fmt.Errorf("dhcp dns: SIGHUP dnsmasq %d: %w", pid, err)
	}
	return waitForLine(ctx, s.cfg.LogFile, off, "read "+s.cfg.OptsFile)
}

// writeAtomic replaces path with data: a reader (dnsmasq) sees the old
// file or the new one, never half of it.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("dhcp dns: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dhcp dns: %w", err)
	}
	return nil
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("dhcp dns: %w", err)
	}
	return fi.Size(), nil
}

// waitForLine waits until a line of path after offset off ends with want
// ("read FILE"). Another line naming FILE is dnsmasq saying it could not
// read it: that ends the wait with the line.
func waitForLine(ctx context.Context, path string, off int64, want string) error {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	file := strings.TrimPrefix(want, "read ")
	for {
		line, ok, err := lineAfter(path, off, file)
		if err != nil {
			return err
		}
		if ok && strings.HasSuffix(line, want) {
			return nil
		}
		if ok {
			return fmt.Errorf("dhcp dns: dnsmasq: %s", line)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dhcp dns: dnsmasq did not log %q within %v: %w", want, reloadTimeout, ctx.Err())
		case <-time.After(reloadPoll):
		}
	}
}

// lineAfter returns the first line after offset off that contains file.
func lineAfter(path string, off int64, file string) (string, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, fmt.Errorf("dhcp dns: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", false, fmt.Errorf("dhcp dns: %w", err)
	}
	// dnsmasq logs a few lines per DHCP exchange; 1 MiB after the offset
	// is far more than a reload can be behind.
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return "", false, fmt.Errorf("dhcp dns: %w", err)
	}
	for line := range bytes.Lines(b) {
		if l := string(bytes.TrimRight(line, "\n")); strings.Contains(l, file) {
			return l, true, nil
		}
	}
	return "", false, nil
}

// labState is the part of the lab's state file this package reads.
type labState struct {
	Namespaces map[string]string `json:"namespaces"` // host → namespace name
	Processes  []struct {
		Service string `json:"service"`
		PID     int    `json:"pid"`
		Start   uint64 `json:"start_time"`
	} `json:"processes"`
}

func readLabState(path string) (*labState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile))
	if err != nil {
		return nil, err
	}
	var st labState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &st, nil
}

// ErrNotLabDnsmasq: the process the state file names is not the lab's
// dnsmasq in this network namespace, so the fake does not signal it.
var ErrNotLabDnsmasq = errors.New("not the lab's dnsmasq in this network namespace")

// labDnsmasq returns the PID of the lab's dnsmasq from the state file,
// after checking that the process is the one recorded (same start time: a
// reused PID is never signalled), that it is dnsmasq, and that it runs in
// this process's network namespace (the router's).
func (s *dhcpServer) labDnsmasq() (int, error) {
	st, err := readLabState(s.cfg.StateFile)
	if err != nil {
		return 0, fmt.Errorf("dhcp dns: %w", err)
	}
	for _, p := range st.Processes {
		if p.Service != s.cfg.Service || p.PID <= 0 {
			continue
		}
		start, err := procStartTime(p.PID)
		if err != nil || start != p.Start {
			return 0, fmt.Errorf("dhcp dns: %w: %s (pid %d) is gone", ErrNotLabDnsmasq, p.Service, p.PID)
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.PID))
		if err != nil || strings.TrimSpace(string(comm)) != "dnsmasq" {
			return 0, fmt.Errorf("dhcp dns: %w: pid %d is %q", ErrNotLabDnsmasq, p.PID, strings.TrimSpace(string(comm)))
		}
		same, err := sameNetns("self", strconv.Itoa(p.PID))
		if err != nil || !same {
			return 0, fmt.Errorf("dhcp dns: %w: pid %d (%v)", ErrNotLabDnsmasq, p.PID, err)
		}
		return p.PID, nil
	}
	return 0, fmt.Errorf("dhcp dns: %w: no %s in %s", ErrNotLabDnsmasq, s.cfg.Service, s.cfg.StateFile)
}

// procStartTime reads field 22 of /proc/PID/stat (clock ticks after boot),
// which with the PID identifies a process. The command name may hold
// spaces and parentheses, so fields are counted from the last ')'. (Package
// lab reads the same field to record its daemons; this package cannot
// import lab, which imports it.)
func procStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// sameNetns reports whether two /proc entries ("self", a PID) are in the
// same network namespace.
func sameNetns(a, b string) (bool, error) {
	ia, err := nsInode("/proc/" + a + "/ns/net")
	if err != nil {
		return false, err
	}
	ib, err := nsInode("/proc/" + b + "/ns/net")
	if err != nil {
		return false, err
	}
	return ia == ib, nil
}

// nsInode identifies a namespace file (/proc/PID/ns/net, /run/netns/NAME).
func nsInode(path string) ([2]uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Dev, st.Ino}, nil
}

// ErrNotInLab: a live fake runs only in its lab's router namespace: it
// writes files and signals processes that belong to that lab.
var ErrNotInLab = errors.New("a live fake runs only inside its lab's router network namespace (started by the lab)")

// netnsRunDir is where iproute2 keeps named network namespaces.
const netnsRunDir = "/run/netns"

// requireLabNetns fails unless this process is in the router namespace
// that the lab's state file (stateFile) names. Comparing with init's
// namespace instead is not possible everywhere: sandboxes hide
// /proc/1/ns.
func requireLabNetns(stateFile string) error {
	st, err := readLabState(stateFile)
	if err != nil {
		return fmt.Errorf("fake: %w: %w", ErrNotInLab, err)
	}
	ns := st.Namespaces["router"]
	if ns == "" || strings.ContainsAny(ns, "/\x00") || ns == "." || ns == ".." {
		return fmt.Errorf("fake: %w: the state names no router namespace", ErrNotInLab)
	}
	want, err := nsInode(filepath.Join(netnsRunDir, ns))
	if err != nil {
		return fmt.Errorf("fake: %w: %w", ErrNotInLab, err)
	}
	self, err := nsInode("/proc/self/ns/net")
	if err != nil || self != want {
		return fmt.Errorf("fake: %w (this process is not in %s)", ErrNotInLab, ns)
	}
	return nil
}
