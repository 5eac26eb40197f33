// SPDX-License-Identifier: Apache-2.0

package probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/target"
)

var (
	inScope  = netip.MustParseAddr("127.0.0.1")
	outScope = netip.MustParseAddr("127.0.0.2")
)

func dialer() *netx.Dialer {
	return netx.NewDialer(target.NewScope().WithAddr(inScope).With(netip.MustParsePrefix("127.0.1.0/24")), netx.Options{})
}

// fakeObs is a trivial observation.
type fakeObs struct{ id, value string }

func (o *fakeObs) ProbeID() string { return o.id }
func (o *fakeObs) Evidence() []probe.Evidence {
	return []probe.Evidence{{Probe: o.id, Field: probe.FieldHTTPServer, Value: o.value}}
}

// fakeProbe does what its fields say.
type fakeProbe struct {
	id       string
	err      error
	panicVal any
	block    bool // wait for ctx
	ignore   bool // ignore ctx: sleep longer than any deadline
	nilObs   bool
	running  *atomic.Int32
	maxSeen  *atomic.Int32
	validate error
}

func (p *fakeProbe) ID() string      { return p.id }
func (p *fakeProbe) Validate() error { return p.validate }
func (p *fakeProbe) Probe(ctx context.Context, _ *netx.Dialer, t probe.Target) (probe.Observation, error) {
	if p.running != nil {
		n := p.running.Add(1)
		defer p.running.Add(-1)
		for {
			m := p.maxSeen.Load()
			if n <= m || p.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	switch {
	case p.panicVal != nil:
		panic(p.panicVal)
	case p.block:
		<-ctx.Done()
		return &fakeObs{id: p.id}, ctx.Err()
	case p.ignore:
		time.Sleep(3 * time.Second)
	case p.nilObs:
		return nil, nil
	}
	return &fakeObs{id: p.id, value: t.Addr.String()}, p.err
}

func TestRunTarget(t *testing.T) {
	tests := []struct {
		name       string
		probes     []probe.Probe
		target     netip.Addr
		timeout    time.Duration
		wantStatus map[string]netx.Status
		wantErr    map[string]string // substring
		maxElapsed time.Duration
	}{
		{
			name:       "ok_and_error",
			probes:     []probe.Probe{&fakeProbe{id: "a"}, &fakeProbe{id: "b", err: fmt.Errorf("read: %w", probe.ErrProtocol)}},
			target:     inScope,
			wantStatus: map[string]netx.Status{"a": netx.StatusOK, "b": netx.StatusProtocol},
			wantErr:    map[string]string{"b": "peer answered outside the protocol"},
		},
		{
			name:       "panic_becomes_error",
			probes:     []probe.Probe{&fakeProbe{id: "boom", panicVal: "kaboom"}, &fakeProbe{id: "fine"}},
			target:     inScope,
			wantStatus: map[string]netx.Status{"boom": netx.StatusError, "fine": netx.StatusOK},
			wantErr:    map[string]string{"boom": "probe panicked: kaboom"},
		},
		{
			name:       "deadline_honoured",
			probes:     []probe.Probe{&fakeProbe{id: "slow", block: true}},
			target:     inScope,
			timeout:    50 * time.Millisecond,
			wantStatus: map[string]netx.Status{"slow": netx.StatusTimeout},
			maxElapsed: time.Second,
		},
		{
			name:       "probe_ignoring_deadline_is_abandoned",
			probes:     []probe.Probe{&fakeProbe{id: "stuck", ignore: true}},
			target:     inScope,
			timeout:    20 * time.Millisecond,
			wantStatus: map[string]netx.Status{"stuck": netx.StatusTimeout},
			wantErr:    map[string]string{"stuck": "did not return"},
			maxElapsed: 2900 * time.Millisecond,
		},
		{
			name:       "out_of_scope_never_probed",
			probes:     []probe.Probe{&fakeProbe{id: "a", panicVal: "must not run"}},
			target:     outScope,
			wantStatus: map[string]netx.Status{"a": netx.StatusOutOfScope},
		},
		{
			name:       "nil_observation_replaced",
			probes:     []probe.Probe{&fakeProbe{id: "nil", nilObs: true}},
			target:     inScope,
			wantStatus: map[string]netx.Status{"nil": netx.StatusOK},
		},
		{
			name:       "duplicate_ids_refused",
			probes:     []probe.Probe{&fakeProbe{id: "a"}, &fakeProbe{id: "a"}},
			target:     inScope,
			wantStatus: map[string]netx.Status{"a": netx.StatusError},
			wantErr:    map[string]string{"a": "duplicate ID"},
		},
		{
			name:       "invalid_config_refused",
			probes:     []probe.Probe{&fakeProbe{id: "a", validate: errors.New("port 0")}},
			target:     inScope,
			wantStatus: map[string]netx.Status{"a": netx.StatusError},
			wantErr:    map[string]string{"a": "probe a: port 0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &probe.Runner{Dialer: dialer(), Probes: tc.probes, TargetTimeout: tc.timeout}
			start := time.Now()
			rep := r.RunTarget(t.Context(), probe.Target{Addr: tc.target})
			elapsed := time.Since(start)
			if tc.maxElapsed > 0 && elapsed > tc.maxElapsed {
				t.Errorf("RunTarget took %v, want at most %v", elapsed, tc.maxElapsed)
			}
			if len(rep.Results) != len(tc.probes) {
				t.Fatalf("got %d results, want %d", len(rep.Results), len(tc.probes))
			}
			got := map[string]netx.Status{}
			for i, res := range rep.Results {
				if res.ProbeID != tc.probes[i].ID() {
					t.Errorf("result %d is %q, want registry order %q", i, res.ProbeID, tc.probes[i].ID())
				}
				if res.Observation == nil {
					t.Errorf("result %s has a nil observation", res.ProbeID)
				}
				got[res.ProbeID] = res.Status
				if want, ok := tc.wantErr[res.ProbeID]; ok && (res.Err == nil || !strings.Contains(res.Err.Error(), want)) {
					t.Errorf("%s error %v, want it to contain %q", res.ProbeID, res.Err, want)
				}
			}
			if diff := cmp.Diff(tc.wantStatus, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunBoundsWorkersAndStreams(t *testing.T) {
	var running, maxSeen atomic.Int32
	r := &probe.Runner{
		Dialer:  dialer(),
		Probes:  []probe.Probe{&fakeProbe{id: "a", running: &running, maxSeen: &maxSeen}},
		Workers: 3,
	}
	var (
		mu       sync.Mutex
		streamed int
	)
	r.OnResult = func(probe.Result) { mu.Lock(); streamed++; mu.Unlock() }
	var targets []probe.Target
	for i := 1; i <= 20; i++ {
		targets = append(targets, probe.Target{Addr: netip.AddrFrom4([4]byte{127, 0, 1, byte(i)})})
	}
	var got []string
	inSink := atomic.Int32{}
	err := r.Run(t.Context(), slices.Values(targets), func(rep probe.TargetReport) {
		if inSink.Add(1) != 1 {
			t.Error("sink called concurrently")
		}
		defer inSink.Add(-1)
		got = append(got, rep.Target.Addr.String())
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(targets) || streamed != len(targets) {
		t.Errorf("got %d reports and %d streamed results, want %d", len(got), streamed, len(targets))
	}
	if m := maxSeen.Load(); m > 3 {
		t.Errorf("%d targets ran at once, want at most 3", m)
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &probe.Runner{Dialer: dialer(), Probes: []probe.Probe{&fakeProbe{id: "a"}}}
	n := 0
	err := r.Run(ctx, slices.Values([]probe.Target{{Addr: inScope}}), func(probe.TargetReport) { n++ })
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("Run on a canceled context: err %v, %d reports; want context.Canceled and none", err, n)
	}
}

func TestResultJSON(t *testing.T) {
	res := probe.Result{
		Target:      probe.Target{Addr: netip.MustParseAddr("192.0.2.1")},
		ProbeID:     "a",
		Observation: &fakeObs{id: "a", value: "v"},
		Status:      netx.StatusTimeout,
		Err:         probe.Wrap("a", context.DeadlineExceeded),
		Elapsed:     1500 * time.Millisecond,
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"probe":"a"`, `"status":"timeout"`, `"error":"a probe: timeout: context deadline exceeded"`, `"elapsed_seconds":1.5`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

func TestOutcome(t *testing.T) {
	refused := &probe.Error{Probe: "x", Status: netx.StatusRefused, Err: errors.New("refused")}
	timeout := &probe.Error{Probe: "x", Status: netx.StatusTimeout, Err: errors.New("slow")}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		udp  context.Context // non-nil: NewUDPOutcome with it
		errs []error
		want netx.Status
	}{
		{name: "one_answer_wins", errs: []error{timeout, nil}, want: netx.StatusOK},
		{name: "all_closed_is_a_measurement", errs: []error{refused, refused}, want: netx.StatusOK},
		{name: "closed_and_timeout_is_timeout", errs: []error{refused, timeout}, want: netx.StatusTimeout},
		{name: "garbage_is_protocol", errs: []error{fmt.Errorf("x: %w", probe.ErrProtocol)}, want: netx.StatusProtocol},
		{name: "udp_silence_is_a_measurement", udp: context.Background(), errs: []error{refused, timeout}, want: netx.StatusOK},
		{name: "udp_garbage_still_fails", udp: context.Background(), errs: []error{timeout, fmt.Errorf("x: %w", probe.ErrProtocol)}, want: netx.StatusProtocol},
		{name: "udp_timeout_after_deadline_fails", udp: ended, errs: []error{timeout, timeout}, want: netx.StatusTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := probe.NewOutcome("x")
			if tc.udp != nil {
				o = probe.NewUDPOutcome(tc.udp, "x")
			}
			for _, e := range tc.errs {
				o.Add(e)
			}
			if got := probe.Classify(o.Err(t.Context())); got != tc.want {
				t.Errorf("Outcome status %s, want %s", got, tc.want)
			}
		})
	}
}

// TestOutcomeGather checks that Gather runs every ask at once (each waits
// for all to have started) and folds their errors.
func TestOutcomeGather(t *testing.T) {
	const n = 4
	var started sync.WaitGroup
	started.Add(n)
	calls := make([]int, n)
	refused := &probe.Error{Probe: "x", Status: netx.StatusRefused, Err: errors.New("refused")}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := probe.NewOutcome("x").Gather(ctx, n, func(i int) error {
		calls[i]++
		started.Done()
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if i == 2 {
			return fmt.Errorf("x: %w", probe.ErrProtocol)
		}
		return refused
	})
	if got := probe.Classify(err); got != netx.StatusProtocol {
		t.Errorf("Gather status %s (%v), want protocol", got, err)
	}
	if !slices.Equal(calls, []int{1, 1, 1, 1}) {
		t.Errorf("calls %v, want each index once", calls)
	}
}

func TestCheckSetIDs(t *testing.T) {
	for _, id := range []string{"", "HTTP", "http-x", "1http", "http."} {
		if err := probe.CheckSet([]probe.Probe{&fakeProbe{id: id}}); err == nil {
			t.Errorf("CheckSet accepted ID %q", id)
		}
	}
	if err := probe.CheckSet([]probe.Probe{&fakeProbe{id: "mikrotik.api"}}); err != nil {
		t.Errorf("CheckSet refused a dotted ID: %v", err)
	}
}

func TestAfterConnect(t *testing.T) {
	reset := &probe.Error{Probe: "x", Status: netx.StatusRefused, Err: errors.New("connection reset by peer")}
	if got := probe.Classify(probe.AfterConnect(reset)); got != netx.StatusProtocol {
		t.Errorf("classified *Error reset after connecting as %s, want protocol_error", got)
	}
	raw := fmt.Errorf("read: %w", syscall.ECONNRESET)
	if got := probe.Classify(raw); got != netx.StatusRefused {
		t.Fatalf("raw reset classified %s", got)
	}
	if got := probe.Classify(probe.AfterConnect(raw)); got != netx.StatusProtocol {
		t.Errorf("reset after connecting classified %s, want protocol_error", got)
	}
	if probe.AfterConnect(nil) != nil {
		t.Error("AfterConnect(nil) is not nil")
	}
}

// deviceFake is a DeviceProbe that panics: the Runner must still report
// the services it declares, as unknown with the panic.
type deviceFake struct{ fakeProbe }

func (p *deviceFake) Declare() probe.Declaration {
	return probe.Declaration{Services: []probe.ServiceSpec{{Kind: "web", Proto: "tcp"}, {Kind: "snmp", Proto: "udp"}},
		Ports: []probe.PortSpec{{Name: "http", Proto: "tcp", Ports: []uint16{80}}}}
}
func (p *deviceFake) SetPorts(string, []uint16) error { return nil }

func TestNoneListsDeclaredServices(t *testing.T) {
	// Loopback only: the probe panics before dialing, and the second
	// target is refused by the scope before any probe runs.
	r := &probe.Runner{Dialer: netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.70/32")), netx.Options{}),
		Probes: []probe.Probe{&deviceFake{fakeProbe{id: "dev", panicVal: "kaboom"}}}, TargetTimeout: time.Second}
	for _, tc := range []struct {
		name   string
		addr   string
		status netx.Status
		reason string
	}{
		{"panic", "127.0.0.70", netx.StatusError, "probe panicked: kaboom"},
		{"out_of_scope", "127.0.0.71", netx.StatusOutOfScope, "out of scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := r.RunTarget(t.Context(), probe.Target{Addr: netip.MustParseAddr(tc.addr)})
			so, ok := rep.Results[0].Observation.(probe.ServiceObservation)
			if !ok {
				t.Fatalf("observation %T lists no services", rep.Results[0].Observation)
			}
			ss := so.Services()
			if len(ss) != 2 || ss[0].Kind != "web" || ss[1].Kind != "snmp" || ss[1].Proto != "udp" {
				t.Fatalf("services %+v, want web/tcp and snmp/udp", ss)
			}
			for _, s := range ss {
				if s.State != probe.StateUnknown || s.Status != tc.status || !strings.Contains(s.Reason, tc.reason) {
					t.Errorf("service %+v, want unknown, %s, reason with %q", s, tc.status, tc.reason)
				}
			}
		})
	}
}
