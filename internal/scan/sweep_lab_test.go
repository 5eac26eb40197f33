// SPDX-License-Identifier: Apache-2.0

package scan_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/scan"
)

// TestSweepPacketsLeavingTheClient sweeps, from the lab's client, the
// router (10.77.0.1, a live TP-Link) and two silent routed halves of /24s
// (10.78.0.0/25 and 10.78.1.0/25: the router drops 10.78.0.0/16 into a
// blackhole route), while a packet socket on the client's only interface
// timestamps (in the kernel) every packet that leaves the namespace. The
// two prefixes are swept side by side, each allowed --prefix-rate 300 but
// together held to --rate 400. Whatever the sweep mode: no TCP or UDP
// packet goes to an address outside --scope, new flows (SYNs and UDP
// datagrams) stay within --rate over every second and within
// --prefix-rate per prefix, and the router is found and audited. Then the
// router loses the first round of probes (sweepLossyRouter).
func TestSweepPacketsLeavingTheClient(t *testing.T) {
	l := labtest.Up(t, "tplink-legacy")
	if out, err := l.Command(t.Context(), lab.Router, "ip", "route", "add", "blackhole", "10.78.0.0/16").CombinedOutput(); err != nil {
		t.Fatalf("blackhole route: %v: %s", err, out)
	}
	router := l.Addr("router.lan")
	silent := []netip.Prefix{netip.MustParsePrefix("10.78.0.0/25"), netip.MustParsePrefix("10.78.1.0/25")}
	const pps, perPrefix = 400, 300
	for _, mode := range []string{"syn", "connect"} {
		t.Run(mode, func(t *testing.T) {
			cap := capture(t, l)
			args := []string{"scan", "--sweep", mode, "--rate", "400", "--prefix-rate", "300", "--sweep-wait", "1s",
				"--scope", netip.PrefixFrom(router, 32).String() + "," + silent[0].String() + "," + silent[1].String(),
				router.String(), silent[0].String(), silent[1].String()}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := l.Command(ctx, lab.Client, labtest.Executable(t), args...)
			home := t.TempDir()
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ee := (*exec.ExitError)(nil); err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
				t.Fatalf("scan: %v\n%s", err, stderr.Bytes())
			}
			pkts := cap.stop()
			recs := records(t, stdout.Bytes())
			if len(recs) != 1 || recs[0].Target != router.String() || recs[0].Identity.Model == "" {
				t.Errorf("records %+v, want the router, identified", recs)
			}
			if !bytes.Contains(stderr.Bytes(), []byte("Swept 257 address(es) ("+mode+"): 1 live")) {
				t.Errorf("summary:\n%s", stderr.Bytes())
			}

			inScope := func(a netip.Addr) bool { return a == router || silent[0].Contains(a) || silent[1].Contains(a) }
			var flows []time.Time
			silentFlows := make([][]time.Time, len(silent))
			// A SYN sent again from the same source port is the kernel's
			// retransmission of one connect (a dial that outlived the 1 s
			// retransmission timer on a loaded machine), not a new probe.
			type synKey struct {
				dst          netip.Addr
				sport, dport uint16
			}
			syns := map[synKey]bool{}
			retransmits := 0
			for _, p := range pkts {
				if !inScope(p.dst) {
					t.Errorf("a %s packet to %s port %d left the client: outside --scope", p.proto, p.dst, p.dport)
					continue
				}
				if p.newFlow && p.proto == "tcp" {
					k := synKey{p.dst, p.sport, p.dport}
					if syns[k] {
						retransmits++
						continue
					}
					syns[k] = true
				}
				if p.newFlow {
					flows = append(flows, p.at)
					for i, s := range silent {
						if s.Contains(p.dst) {
							silentFlows[i] = append(silentFlows[i], p.at)
						}
					}
				}
			}
			// A second holds the rate, plus the audit's connections that the
			// limiter counts as one target's (16) but that may come a few
			// more. The tolerance (15 %) covers a connect sweep's dials, which
			// start in goroutines the scheduler may bunch up on a loaded
			// machine; twice the rate is far outside it.
			if n := maxPerSecond(flows); n > pps*115/100+32 {
				t.Errorf("%d new flows in one second, --rate %d", n, pps)
			}
			for i, s := range silent {
				// Every address got its probes: 11 TCP ports, 4 UDP.
				if len(silentFlows[i]) != 128*15 {
					t.Errorf("%d probes into %s, want %d", len(silentFlows[i]), s, 128*15)
				}
				if n := maxPerSecond(silentFlows[i]); n > perPrefix*115/100 {
					t.Errorf("%d probes into %s in one second, --prefix-rate %d", n, s, perPrefix)
				}
				t.Logf("%s: %d probes into %s, busiest second %d", mode, len(silentFlows[i]), s, maxPerSecond(silentFlows[i]))
			}
			t.Logf("%s: %d packets left the client, %d new flows (%d SYN retransmissions aside), busiest second %d", mode, len(pkts), len(flows), retransmits, maxPerSecond(flows))
		})
	}
	t.Run("lossy_router_retries", func(t *testing.T) { sweepLossyRouter(t, l) })
}

// sweepLossyRouter: the router drops the first packet to each of its
// ports (a dynamic set remembers the ports seen), so the sweep's first
// round of probes is lost whole, as on a path that lost it. Without
// --sweep-retries the router is taken for silent and not audited; with 1
// its unanswered probes go again after the wait, and it is found and
// audited (its audit's packets pass: every port has been seen).
func sweepLossyRouter(t *testing.T, l *lab.Lab) {
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not found (apt-get install nftables)")
	}
	router := l.Addr("router.lan")
	rules := `table inet rwloss {
	set seen {
		type inet_proto . inet_service
		flags dynamic
	}
	chain in {
		type filter hook prerouting priority -300
		ip daddr ` + router.String() + ` meta l4proto { tcp, udp } meta l4proto . th dport @seen accept
		ip daddr ` + router.String() + ` meta l4proto { tcp, udp } add @seen { meta l4proto . th dport } drop
	}
}
`
	nft := func(stdin string, args ...string) {
		t.Helper()
		// Not t.Context(): the cleanup runs after it is done.
		cmd := l.Command(context.WithoutCancel(t.Context()), lab.Router, "nft", args...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	nft(rules, "-f", "-")
	t.Cleanup(func() { nft("", "delete", "table", "inet", "rwloss") })
	for _, tc := range []struct {
		retries string
		live    int
	}{{"0", 0}, {"1", 1}} {
		t.Run("retries_"+tc.retries, func(t *testing.T) {
			nft("", "flush", "set", "inet", "rwloss", "seen")
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := l.Command(ctx, lab.Client, labtest.Executable(t), "scan", "--sweep", "syn", "--sweep-wait", "1s",
				"--sweep-retries", tc.retries, "--scope", netip.PrefixFrom(router, 32).String(), router.String())
			home := t.TempDir()
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ee := (*exec.ExitError)(nil); err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
				t.Fatalf("scan: %v\n%s", err, stderr.Bytes())
			}
			if want := fmt.Sprintf("Swept 1 address(es) (syn): %d live", tc.live); !bytes.Contains(stderr.Bytes(), []byte(want)) {
				t.Errorf("summary, want %q:\n%s", want, stderr.Bytes())
			}
			recs := records(t, stdout.Bytes())
			switch {
			case tc.live == 0 && len(recs) != 0:
				t.Errorf("records %+v, want none: the first round was lost", recs)
			case tc.live == 1 && (len(recs) != 1 || recs[0].Target != router.String() || recs[0].Identity.Model == ""):
				t.Errorf("records %+v, want the router, identified", recs)
			}
		})
	}
}

func maxPerSecond(ts []time.Time) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// outPacket is one IPv4 or IPv6 TCP/UDP packet that left the client.
type outPacket struct {
	at      time.Time
	dst     netip.Addr
	proto   string
	sport   uint16
	dport   uint16
	newFlow bool // a SYN without ACK, or a UDP datagram
}

type capturer struct {
	fd   int
	mu   sync.Mutex
	pkts []outPacket
	done chan struct{}
}

// capture opens a packet socket in the client's namespace that sees
// every frame leaving its interfaces, and records the TCP and UDP ones
// (DHCP and DHCPv6, the lab's own client, aside).
func capture(t *testing.T, l *lab.Lab) *capturer {
	t.Helper()
	c := &capturer{done: make(chan struct{})}
	err := l.Do(lab.Client, func() error {
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, int(htons(syscall.ETH_P_ALL)))
		if err != nil {
			return err
		}
		c.fd = fd
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<20)
		// The kernel's receive time of each packet, not the reader's: a
		// reader that falls behind and catches up would bunch them.
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
			return err
		}
		tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
		return syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		t.Fatalf("packet socket: %v", err)
	}
	go c.read()
	return c
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (c *capturer) read() {
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	for {
		select {
		case <-c.done:
			return
		default:
		}
		n, oobn, _, from, err := syscall.Recvmsg(c.fd, buf, oob, 0)
		if err != nil {
			continue // the read timeout: check done
		}
		at, ok := kernelTime(oob[:oobn])
		if !ok {
			continue
		}
		ll, ok := from.(*syscall.SockaddrLinklayer)
		if !ok || ll.Pkttype != 4 /* PACKET_OUTGOING */ || ll.Ifindex == 1 {
			continue
		}
		if p, ok := parseOut(buf[:n], htons(ll.Protocol)); ok {
			p.at = at
			c.mu.Lock()
			c.pkts = append(c.pkts, p)
			c.mu.Unlock()
		}
	}
}

// kernelTime reads the SO_TIMESTAMPNS control message.
func kernelTime(oob []byte) (time.Time, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec), true
		}
	}
	return time.Time{}, false
}

// stop ends the capture after the last packets are read.
func (c *capturer) stop() []outPacket {
	time.Sleep(200 * time.Millisecond)
	close(c.done)
	time.Sleep(150 * time.Millisecond)
	syscall.Close(c.fd)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pkts
}

// parseOut reads an outgoing IP packet's destination, protocol, port and
// whether it opens a flow.
func parseOut(b []byte, ethType uint16) (outPacket, bool) {
	var p outPacket
	var proto byte
	var l4 []byte
	switch ethType {
	case 0x0800:
		if len(b) < 20 {
			return p, false
		}
		if proto = b[9]; proto == 6 {
			r, dst, err := netx.ParseIPv4TCP(b)
			if err != nil {
				return p, false
			}
			return outPacket{dst: dst, proto: "tcp", sport: r.Src.Port(), dport: r.DstPort, newFlow: r.Flags&0x12 == 0x02}, true
		}
		p.dst = netip.AddrFrom4([4]byte(b[16:20]))
		l4 = b[int(b[0]&0x0f)*4:]
	case 0x86dd:
		if len(b) < 40 {
			return p, false
		}
		proto = b[6]
		p.dst = netip.AddrFrom16([16]byte(b[24:40]))
		l4 = b[40:]
		if proto == 6 && len(l4) >= 14 {
			return outPacket{dst: p.dst, proto: "tcp", sport: binary.BigEndian.Uint16(l4[0:2]), dport: binary.BigEndian.Uint16(l4[2:4]), newFlow: l4[13]&0x12 == 0x02}, true
		}
	default:
		return p, false
	}
	if proto != 17 || len(l4) < 8 {
		return p, false
	}
	p.proto, p.sport, p.dport, p.newFlow = "udp", binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4]), true
	if p.dport == 67 || p.dport == 547 {
		return p, false // the lab's DHCP client
	}
	return p, true
}

func records(t *testing.T, b []byte) []scan.Record {
	t.Helper()
	var out []scan.Record
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 || bytes.Contains(line, []byte(`"type":"prefix"`)) {
			continue
		}
		var r scan.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("not a record: %v: %q", err, line)
		}
		out = append(out, r)
	}
	return out
}
