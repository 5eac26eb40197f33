// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pollInterval is how often bounded waits look again: short, because most
// daemons are ready within tens of milliseconds and Up+Down targets 2 s.
const pollInterval = 5 * time.Millisecond

// procStat is the part of /proc/PID/stat the lab uses.
type procStat struct {
	state     byte   // R, S, D, Z, ...
	startTime uint64 // clock ticks after boot: with the PID, identifies a process
}

// readProcStat parses /proc/PID/stat. A sample:
//
//	1234 (dnsmasq) S 1 1234 1234 0 -1 4194560 ... 22 fields ... 5310 ...
//
// The command name may contain spaces and parentheses, so fields are counted
// from the last ')'.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return procStat{state: f[0][0], startTime: st}, nil
}

// alive reports whether the process recorded as (pid, startTime) still runs.
// A zombie counts as gone: it runs nothing, and its parent (which may be an
// init that never reaps) owns its slot. A different start time means the PID
// was reused by another process, which is never touched.
func alive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	return st.state != 'Z' && st.state != 'X' && st.startTime == startTime
}

// signalIfSame sends sig to pid only if it is still the recorded process.
func signalIfSame(pid int, startTime uint64, sig syscall.Signal) {
	if alive(pid, startTime) {
		_ = syscall.Kill(pid, sig) // it may exit in between: nothing to do
	}
}

// waitGone waits until no process of procs is alive or ctx is done.
// It reports the ones still alive.
func waitGone(ctx context.Context, procs []procID) []procID {
	for {
		var left []procID
		for _, p := range procs {
			if alive(p.PID, p.StartTime) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return left
		case <-time.After(pollInterval):
		}
		procs = left
	}
}

// netnsInode identifies a network namespace: the inode of its file in
// /run/netns, equal to the one /proc/PID/ns/net links to.
func netnsInode(ns string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsRunDir, ns), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// procNetnsInode returns the inode of pid's network namespace.
func procNetnsInode(pid int) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// strayProcesses lists the live processes whose network namespace has one
// of the inodes inos (what `ip netns pids` does, without starting a
// process) or whose environment holds the entry marker.
func strayProcesses(inos []uint64, marker string) []procID {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []procID
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		i, err := procNetnsInode(pid)
		if (err != nil || !slices.Contains(inos, i)) && !hasEnvEntry(pid, marker) {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.state == 'Z' {
			continue
		}
		out = append(out, procID{PID: pid, StartTime: st.startTime})
	}
	return out
}

// hasEnvEntry reports whether pid's initial environment has entry
// ("KEY=value", exactly).
func hasEnvEntry(pid int, entry string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(b, []byte{0}) {
		if string(e) == entry {
			return true
		}
	}
	return false
}

// sock is a socket a daemon must have open before it counts as ready.
type sock struct {
	proto string         // "tcp" (must listen), "udp" or "raw" (IPv6 raw; the port is the IP protocol)
	addr  netip.AddrPort // an unspecified address matches any address
}

func tcp(a string, port uint16) sock {
	return sock{"tcp", netip.AddrPortFrom(netip.MustParseAddr(a), port)}
}

func udp(a string, port uint16) sock {
	return sock{"udp", netip.AddrPortFrom(netip.MustParseAddr(a), port)}
}

// listeningSockets reads the sockets of pid's network namespace from
// /proc/PID/net/{tcp,udp,tcp6,udp6,raw6}. A sample line of /proc/PID/net/tcp:
//
//	sl  local_address rem_address   st tx_queue rx_queue ...
//	 0: 0100000A:0016 00000000:0000 0A 00000000:00000000 ...
//
// Addresses are the in-memory (network order) words printed as host-order
// hex; TCP state 0A is LISTEN. UDP sockets count whatever their state. In
// raw6 the "port" is the IP protocol (003A: ICMPv6, dnsmasq's RA socket).
func listeningSockets(pid int) (map[sock]bool, error) {
	out := map[sock]bool{}
	for _, f := range []struct{ file, proto string }{
		{"tcp", "tcp"}, {"tcp6", "tcp"}, {"udp", "udp"}, {"udp6", "udp"}, {"raw6", "raw"},
	} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f.file))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(f.file, "6") {
				continue // IPv6 disabled
			}
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 4 {
				continue
			}
			if f.proto == "tcp" && fs[3] != "0A" {
				continue
			}
			ap, ok := parseProcAddr(fs[1])
			if ok {
				out[sock{f.proto, ap}] = true
			}
		}
	}
	return out, nil
}

// parseProcAddr parses "0100000A:0016" (IPv4) or 32 hex digits + port (IPv6).
func parseProcAddr(s string) (netip.AddrPort, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	// Each 32-bit word was printed as a host-order integer.
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

// hasSocket reports whether want is among socks; an unspecified address in
// want matches any address with that port.
func hasSocket(socks map[sock]bool, want sock) bool {
	if want.addr.Addr().IsUnspecified() {
		for s := range socks {
			if s.proto == want.proto && s.addr.Port() == want.addr.Port() {
				return true
			}
		}
		return false
	}
	return socks[want]
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, 0)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(f)
	return strings.TrimSpace(buf.String())
}
