// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// fakeTransport records what the sweep sends and answers, at once, for
// the addresses in live (open on every probe), in closed (a reset on
// every probe) and in mixed (probe 0 open, a reset on the others). The
// first lost[a] packets to a are lost: they are recorded as sent, and not
// answered.
type fakeTransport struct {
	mu     sync.Mutex
	sends  []fakeSend
	live   map[netip.Addr]bool
	closed map[netip.Addr]bool
	mixed  map[netip.Addr]bool
	lost   map[netip.Addr]int
	report func(answer)
	err    func(netip.Addr) error
	// count only: a budget test must not keep every send.
	countOnly bool
	n         int
}

type fakeSend struct {
	a  netip.Addr
	i  int
	at time.Time
}

func (f *fakeTransport) send(_ context.Context, a netip.Addr, i int) error {
	if f.err != nil {
		if err := f.err(a); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.n++
	if !f.countOnly {
		f.sends = append(f.sends, fakeSend{a, i, time.Now()})
	}
	lost := f.lost[a] > 0
	if lost {
		f.lost[a]--
	}
	f.mu.Unlock()
	switch {
	case lost:
	case f.live[a], f.mixed[a] && i == 0:
		f.report(answer{addr: a, probe: i, open: true})
	case f.mixed[a]:
		f.report(answer{addr: a, probe: i})
	case f.closed[a]:
		f.report(answer{addr: a, probe: i})
	}
	return nil
}

func (f *fakeTransport) close() {}

// fakeSweep is a sweeper over targets with a fake transport; settled
// addresses are collected.
type fakeSweep struct {
	*sweeper
	tr      *fakeTransport
	mu      sync.Mutex
	settled []settled
	at      []time.Time // when each settled
	chunks  int
	all     int // addresses settled, live or not
}

func newFakeSweep(rs []target.Range, probes int, rateAll, ratePrefix float64, wait time.Duration, live ...netip.Addr) *fakeSweep {
	ps := make([]sweepProbe, probes)
	for i := range ps {
		ps[i] = sweepProbe{name: "t", proto: "tcp", port: uint16(1000 + i)}
	}
	f := &fakeSweep{tr: &fakeTransport{live: map[netip.Addr]bool{}, closed: map[netip.Addr]bool{}, mixed: map[netip.Addr]bool{}, lost: map[netip.Addr]int{}}}
	for _, a := range live {
		f.tr.live[a] = true
	}
	sw := &sweeper{probes: ps, tr: f.tr, global: rate.NewLimiter(rate.Limit(rateAll), sweepBurst(rateAll)),
		interval: time.Duration(float64(time.Second) / ratePrefix), wait: wait,
		lanes: min(max(int(rateAll/ratePrefix+0.999), 1), maxLanes), active: map[netip.Addr]*hostState{},
		chunks: prefixChunks(rs), skip: func(netip.Addr) bool { return false },
		startChunk: func(*chunk) bool { f.mu.Lock(); f.chunks++; f.mu.Unlock(); return true },
		started:    func(*chunk) {}, skipped: func(*chunk, netip.Addr) {}, chunkSent: func(*chunk) {},
		backlog: func() int { return 0 }, sendErr: func(_ netip.Addr, err error) error { return err },
	}
	sw.settle = func(x settled) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.all++
		if len(x.open) > 0 {
			f.settled = append(f.settled, x)
			f.at = append(f.at, time.Now())
		}
	}
	f.tr.report = sw.answer
	f.sweeper = sw
	return f
}

func rangeOf(first, last string) target.Range {
	return target.Range{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}
}

// TestSweepRate: the global rate holds over every window of the sweep, and
// the sweep takes the time the packets need at that rate.
func TestSweepRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pps = 1000
		f := newFakeSweep([]target.Range{rangeOf("192.0.2.0", "192.0.2.255"), rangeOf("198.51.100.0", "198.51.100.255")}, 4, pps, pps, time.Second)
		start := time.Now()
		if err := f.run(t.Context()); err != nil {
			t.Fatal(err)
		}
		sends := f.tr.sends
		if len(sends) != 2048 {
			t.Fatalf("%d packets, want 2048", len(sends))
		}
		// 2048 packets at 1000/s take 2.047 s, then the last wait (1 s).
		if d := sends[len(sends)-1].at.Sub(start); d < 2040*time.Millisecond || d > 2100*time.Millisecond {
			t.Errorf("last packet after %s, want about 2.05 s", d)
		}
		if d := time.Since(start); d < 3*time.Second || d > 3100*time.Millisecond {
			t.Errorf("sweep took %s, want 3 s (sending and the last wait)", d)
		}
		if w := maxInWindow(sends, 100*time.Millisecond, nil); w > 102 {
			t.Errorf("%d packets in 100 ms, want at most 102 at %d/s", w, pps)
		}
		if len(f.settled) != 0 {
			t.Errorf("%d addresses settled as live", len(f.settled))
		}
	})
}

// maxInWindow returns the most sends (those keep accepts) in any window.
func maxInWindow(sends []fakeSend, window time.Duration, keep func(fakeSend) bool) int {
	var in []time.Time
	best := 0
	for _, s := range sends {
		if keep != nil && !keep(s) {
			continue
		}
		in = append(in, s.at)
		for len(in) > 0 && s.at.Sub(in[0]) >= window {
			in = in[1:]
		}
		best = max(best, len(in))
	}
	return best
}

// TestSweepPrefixFairness: with a global rate ten times the per-prefix
// rate, eight /24s are swept side by side, none above its own rate, and
// the global rate is used (eight prefixes × the per-prefix rate).
func TestSweepPrefixFairness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const global, perPrefix = 1000, 100
		f := newFakeSweep([]target.Range{rangeOf("10.0.0.0", "10.0.7.255")}, 1, global, perPrefix, time.Second)
		start := time.Now()
		if err := f.run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(f.tr.sends) != 2048 || f.chunks != 8 {
			t.Fatalf("%d packets in %d prefixes, want 2048 in 8", len(f.tr.sends), f.chunks)
		}
		firstAt := map[netip.Prefix]time.Duration{}
		for _, s := range f.tr.sends {
			if _, ok := firstAt[prefixOf(s.a)]; !ok {
				firstAt[prefixOf(s.a)] = s.at.Sub(start)
			}
		}
		for p, d := range firstAt {
			if d > 50*time.Millisecond {
				t.Errorf("%s started after %s: prefixes must be swept side by side", p, d)
			}
			if w := maxInWindow(f.tr.sends, time.Second, func(s fakeSend) bool { return p.Contains(s.a) }); w > perPrefix+1 {
				t.Errorf("%s: %d packets in a second, want at most %d", p, w, perPrefix+1)
			}
		}
		// 256 packets per prefix at 100/s: 2.56 s for all of them at once.
		last := f.tr.sends[len(f.tr.sends)-1].at.Sub(start)
		if last < 2500*time.Millisecond || last > 2700*time.Millisecond {
			t.Errorf("last packet after %s, want about 2.56 s", last)
		}
	})
}

// TestSweepLiveSettles: a live address settles once, after the wait that
// follows its last probe, with the probes that answered; late answers of
// settled addresses are dropped.
func TestSweepLiveSettles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		live := netip.MustParseAddr("192.0.2.77")
		f := newFakeSweep([]target.Range{rangeOf("192.0.2.0", "192.0.2.255")}, 3, 10000, 10000, 500*time.Millisecond, live)
		if err := f.run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(f.settled) != 1 || f.settled[0].a != live || len(f.settled[0].open) != 3 {
			t.Fatalf("%d settled live", len(f.settled))
		}
		var lastSend time.Time
		for _, s := range f.tr.sends {
			if s.a == live {
				lastSend = s.at
			}
		}
		if d := f.at[0].Sub(lastSend); d < 500*time.Millisecond || d > 500*time.Millisecond+2*sweepTick {
			t.Errorf("settled %s after its last probe, want the 500 ms wait", d)
		}
		f.answer(answer{addr: live, probe: 0, open: true})
		if len(f.active) != 0 || len(f.pending)-f.head != 0 {
			t.Errorf("state left: %d active, %d pending", len(f.active), len(f.pending)-f.head)
		}
	})
}

// TestSweepRetries: with N retries, an address without an open port is
// probed again after each wait, up to N more rounds, on the probes that
// had no answer, so a live address whose first rounds were lost is found,
// also when its closed ports' resets came; a live address is never probed
// again, nor a port that reset, and nothing is left over.
func TestSweepRetries(t *testing.T) {
	const probes, wait = 3, 500 * time.Millisecond
	var (
		lostOnce  = netip.MustParseAddr("192.0.2.10") // live, its first round lost
		lostTwice = netip.MustParseAddr("192.0.2.20") // live, two rounds lost
		steady    = netip.MustParseAddr("192.0.2.30") // live, nothing lost
		reset     = netip.MustParseAddr("192.0.2.40") // resets every probe
		openLost  = netip.MustParseAddr("192.0.2.50") // probe 0 open, lost once; resets on 1 and 2
	)
	for _, tc := range []struct {
		name    string
		retries int
		found   []netip.Addr
	}{
		{"none", 0, []netip.Addr{steady}},
		{"one", 1, []netip.Addr{lostOnce, steady, openLost}},
		{"two", 2, []netip.Addr{lostOnce, lostTwice, steady, openLost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeSweep([]target.Range{rangeOf("192.0.2.0", "192.0.2.255")}, probes, 10000, 10000, wait, lostOnce, lostTwice, steady)
				f.retries = tc.retries
				f.tr.closed[reset], f.tr.mixed[openLost] = true, true
				f.tr.lost[lostOnce], f.tr.lost[lostTwice], f.tr.lost[openLost] = probes, 2*probes, 1
				if err := f.run(t.Context()); err != nil {
					t.Fatal(err)
				}
				var found []netip.Addr
				for _, x := range f.settled {
					found = append(found, x.a)
					if want := map[bool]int{false: probes, true: 1}[x.a == openLost]; len(x.open) != want {
						t.Errorf("%s settled with %d open probes, want %d", x.a, len(x.open), want)
					}
				}
				slices.SortFunc(found, netip.Addr.Compare)
				if !slices.Equal(found, tc.found) {
					t.Errorf("live %v, want %v", found, tc.found)
				}
				if f.all != 256 {
					t.Errorf("%d addresses settled, want each of 256 once", f.all)
				}
				// Packets per address: a round per try, of the probes
				// without an answer; a live address gets no more rounds.
				byAddr := map[netip.Addr][]fakeSend{}
				for _, s := range f.tr.sends {
					byAddr[s.a] = append(byAddr[s.a], s)
				}
				packets := func(a netip.Addr) int {
					switch a {
					case steady, reset:
						return probes
					case lostOnce:
						return probes * min(tc.retries+1, 2)
					case lostTwice:
						return probes * min(tc.retries+1, 3)
					case openLost:
						return probes + min(tc.retries, 1) // probe 0 again
					}
					return probes * (tc.retries + 1)
				}
				for a := range target.NewSet(rangeOf("192.0.2.0", "192.0.2.255")).All() {
					if got, want := len(byAddr[a]), packets(a); got != want {
						t.Errorf("%s: %d packets, want %d", a, got, want)
					}
				}
				if ss := byAddr[openLost]; len(ss) > probes && ss[probes].i != 0 {
					t.Errorf("%s: probe %d sent again, want only probe 0 (the others reset)", openLost, ss[probes].i)
				}
				// Each retry goes after the wait of the round before it.
				ss := byAddr[lostTwice]
				for r := 1; r*probes < len(ss); r++ {
					gap := ss[r*probes].at.Sub(ss[r*probes-1].at)
					if gap < wait || gap > wait+3*sweepTick {
						t.Errorf("round %d went %s after the last probe of round %d, want the %s wait", r+1, gap, r, wait)
					}
				}
				if len(f.active) != 0 || len(f.pending)-f.head != 0 {
					t.Errorf("state left: %d active, %d pending", len(f.active), len(f.pending)-f.head)
				}
			})
		})
	}
}

// TestSweepRetriesRate: retries draw on the global and the per-prefix
// rates like first probes, also when a lane probes again the addresses of
// a prefix it has left for the next (four /24s on three lanes).
func TestSweepRetriesRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const global, perPrefix = 400, 150
		f := newFakeSweep([]target.Range{rangeOf("10.0.0.0", "10.0.3.255")}, 1, global, perPrefix, 500*time.Millisecond)
		f.retries = 1
		start := time.Now()
		if err := f.run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(f.tr.sends) != 2048 || f.all != 1024 {
			t.Fatalf("%d packets, %d settled: want two rounds of 1024 addresses", len(f.tr.sends), f.all)
		}
		if w := maxInWindow(f.tr.sends, time.Second, nil); w > global+1 {
			t.Errorf("%d packets in a second, want at most %d", w, global+1)
		}
		for i := range 4 {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24)
			if w := maxInWindow(f.tr.sends, time.Second, func(s fakeSend) bool { return p.Contains(s.a) }); w > perPrefix+1 {
				t.Errorf("%s: %d packets in a second, want at most %d", p, w, perPrefix+1)
			}
		}
		// Retries go out by the lane that swept their prefix: the lane
		// that took the fourth /24 also sends the first one's retries,
		// 1024 packets at no more than 150 a second (6.8 s), and the
		// three lanes shared 400 a second at first.
		last := f.tr.sends[len(f.tr.sends)-1].at.Sub(start)
		if last < 6800*time.Millisecond || last > 7600*time.Millisecond {
			t.Errorf("last packet after %s, want about 7.3 s", last)
		}
	})
}

// TestSweepRetriesCancel: when ctx ends while lanes wait for their
// addresses' retries, or send them, the sweep stops at once.
func TestSweepRetriesCancel(t *testing.T) {
	for _, tc := range []struct {
		name             string
		deadline         time.Duration
		minSent, maxSent int
	}{
		// 256 packets at 1000/s end at 256 ms; the first address's
		// retry is due at 750 ms, the last one's at about 1 s.
		{"waiting_for_retries", 600 * time.Millisecond, 256, 256},
		{"sending_retries", 900 * time.Millisecond, 300, 420},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeSweep([]target.Range{rangeOf("10.0.0.0", "10.0.0.255")}, 1, 1000, 1000, 750*time.Millisecond)
				f.retries = 3
				ctx, cancel := context.WithTimeout(t.Context(), tc.deadline)
				defer cancel()
				start := time.Now()
				if err := f.run(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err %v, want the deadline", err)
				}
				if d := time.Since(start); d > tc.deadline+10*time.Millisecond {
					t.Errorf("returned after %s, deadline %s", d, tc.deadline)
				}
				if n := len(f.tr.sends); n < tc.minSent || n > tc.maxSent {
					t.Errorf("%d packets before the deadline, want %d-%d", n, tc.minSent, tc.maxSent)
				}
				last := f.tr.sends[len(f.tr.sends)-1].at
				if last.Sub(start) > tc.deadline {
					t.Errorf("a packet went after the deadline (%s)", last.Sub(start))
				}
			})
		})
	}
}

// TestSweepCancel: when ctx ends the sweep stops sending and returns.
func TestSweepCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSweep([]target.Range{rangeOf("10.0.0.0", "10.0.255.255")}, 2, 1000, 1000, time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := f.run(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want the deadline", err)
		}
		if d := time.Since(start); d > 510*time.Millisecond {
			t.Errorf("returned after %s", d)
		}
		if n := len(f.tr.sends); n < 490 || n > 502 {
			t.Errorf("%d packets in 500 ms at 1000/s", n)
		}
		last := f.tr.sends[len(f.tr.sends)-1].at
		if last.Sub(start) > 500*time.Millisecond {
			t.Errorf("a packet went after the deadline (%s)", last.Sub(start))
		}
	})
}

// TestSweepScopeRefusal: a send refused for scope ends the sweep with
// that error, and nothing more is sent.
func TestSweepScopeRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := netip.MustParseAddr("192.0.2.10")
		f := newFakeSweep([]target.Range{rangeOf("192.0.2.0", "192.0.2.255")}, 2, 1000, 1000, time.Second)
		f.tr.err = func(a netip.Addr) error {
			if a == out {
				return &netx.ScopeError{Addr: a}
			}
			return nil
		}
		err := f.run(t.Context())
		if !errors.Is(err, netx.ErrOutOfScope) {
			t.Fatalf("err %v, want out of scope", err)
		}
		for _, s := range f.tr.sends {
			if !s.a.Less(out) {
				t.Fatalf("sent to %s after the refusal", s.a)
			}
		}
	})
}

// TestTransportScope: the real transports refuse destinations outside the
// dialer's scope before anything is sent (loopback only).
func TestTransportScope(t *testing.T) {
	in, out := netip.MustParseAddr("127.0.77.1"), netip.MustParseAddr("127.0.77.2")
	d := netx.NewDialer(target.NewScope().WithAddr(in), netx.Options{Rate: -1})
	probes := []sweepProbe{{name: "http", proto: "tcp", port: 80}, {name: "snmp", proto: "udp", port: 161, payload: udpPayloads["snmp"]}}
	for _, mode := range []SweepMode{SweepConnect, SweepSYN} {
		t.Run(string(mode), func(t *testing.T) {
			tr, got, err := openTransport(t.Context(), mode, d, probes, true, false, func(answer) {})
			if errors.Is(err, netx.ErrRawUnavailable) {
				t.Skip(err)
			}
			if err != nil || got != mode {
				t.Fatalf("open: %v, mode %s", err, got)
			}
			defer tr.close()
			for i := range probes {
				if err := tr.send(t.Context(), out, i); !errors.Is(err, netx.ErrOutOfScope) {
					// The connect transport checks in its goroutine; its
					// refusal is a probe that got no answer.
					if mode == SweepConnect && probes[i].proto == "tcp" && err == nil {
						continue
					}
					t.Errorf("%s to %s: err %v, want out of scope", probes[i].label(), out, err)
				}
			}
		})
	}
}

// TestBudgetSweepMemory sweeps a silent /18 and a silent /15 at the same
// rate: the live heap's peak must not grow with the range (targets are
// streamed, and an address is forgotten once its wait is over). At
// 100,000 packets a second, 2 probes per address and a 10 ms wait (plus
// up to a 20 ms tick), about 1,500 addresses are in flight: far fewer
// than a /18 holds, so both sweeps reach the steady state. With a retry
// every address is swept twice and in flight about twice as long: still
// flat.
func TestBudgetSweepMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory budgets are measured without the race detector")
	}
	if testing.Short() {
		t.Skip("sweeps 150,000 addresses")
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	peak := func(t *testing.T, rs []target.Range, retries int) (uint64, int) {
		f := newFakeSweep(rs, 2, 100_000, 100_000, 10*time.Millisecond)
		f.retries = retries
		f.tr.countOnly = true
		runtime.GC()
		done := make(chan error, 1)
		go func() { done <- f.run(context.Background()) }()
		var top uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				return top, f.tr.n
			case <-tick.C:
				// The live heap as of the last collection: what the sweep
				// keeps, without the garbage a collection has yet to free.
				metrics.Read(sample)
				top = max(top, sample[0].Value.Uint64())
			}
		}
	}
	for _, retries := range []int{0, 1} {
		t.Run(fmt.Sprintf("retries_%d", retries), func(t *testing.T) {
			small, n1 := peak(t, []target.Range{rangeOf("10.0.0.0", "10.0.63.255")}, retries)
			large, n2 := peak(t, []target.Range{rangeOf("10.2.0.0", "10.3.255.255")}, retries)
			t.Logf("/18: %d packets, live heap peak %.2f MB; /15: %d packets, live heap peak %.2f MB", n1, float64(small)/1e6, n2, float64(large)/1e6)
			if rounds := retries + 1; n1 != rounds*2<<14 || n2 != rounds*2<<17 {
				t.Fatalf("packets %d and %d", n1, n2)
			}
			// Eight times the addresses: at most a megabyte more (noise:
			// map buckets, the collector's timing, other tests'
			// leftovers); keeping every address swept costs 16 MB more
			// here.
			if large > 8<<20 || large > small+1<<20 {
				t.Errorf("live heap peak %.2f MB for a /15 against %.2f MB for a /18: not flat", float64(large)/1e6, float64(small)/1e6)
			}
		})
	}
}
