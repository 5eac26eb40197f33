// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// fakeTransport records what the sweep sends and answers, at once, for
// the addresses in live (open on every probe).
type fakeTransport struct {
	mu     sync.Mutex
	sends  []fakeSend
	live   map[netip.Addr]bool
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
	f.mu.Unlock()
	if f.live[a] {
		f.report(answer{addr: a, probe: i, open: true})
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
}

func newFakeSweep(rs []target.Range, probes int, rateAll, ratePrefix float64, wait time.Duration, live ...netip.Addr) *fakeSweep {
	ps := make([]sweepProbe, probes)
	for i := range ps {
		ps[i] = sweepProbe{name: "t", proto: "tcp", port: uint16(1000 + i)}
	}
	f := &fakeSweep{tr: &fakeTransport{live: map[netip.Addr]bool{}}}
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
// than a /18 holds, so both sweeps reach the steady state.
func TestBudgetSweepMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory budgets are measured without the race detector")
	}
	if testing.Short() {
		t.Skip("sweeps 150,000 addresses")
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	peak := func(rs []target.Range) (uint64, int) {
		f := newFakeSweep(rs, 2, 100_000, 100_000, 10*time.Millisecond)
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
	small, n1 := peak([]target.Range{rangeOf("10.0.0.0", "10.0.63.255")})
	large, n2 := peak([]target.Range{rangeOf("10.2.0.0", "10.3.255.255")})
	t.Logf("/18: %d packets, live heap peak %.2f MB; /15: %d packets, live heap peak %.2f MB", n1, float64(small)/1e6, n2, float64(large)/1e6)
	if n1 != 2<<14 || n2 != 2<<17 {
		t.Fatalf("packets %d and %d", n1, n2)
	}
	// Eight times the addresses: at most a megabyte more (noise: map
	// buckets, the collector's timing, other tests' leftovers); keeping
	// every address swept costs 16 MB more here.
	if large > 8<<20 || large > small+1<<20 {
		t.Errorf("live heap peak %.2f MB for a /15 against %.2f MB for a /18: not flat", float64(large)/1e6, float64(small)/1e6)
	}
}
