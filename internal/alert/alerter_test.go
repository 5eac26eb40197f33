// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// recorder is a channel that records what it took and fails while down.
type recorder struct {
	mu   sync.Mutex
	got  []string // kind + " " + key of each event taken
	down bool
}

func (r *recorder) Notify(_ context.Context, ev Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return errors.New("connection refused")
	}
	r.got = append(r.got, string(ev.Kind)+" "+ev.Key)
	return nil
}

func (r *recorder) setDown(d bool) {
	r.mu.Lock()
	r.down = d
	r.mu.Unlock()
}

func (r *recorder) taken() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

type panicky struct{}

func (panicky) Notify(context.Context, Event) error { panic("boom") }

func TestFanoutContinuesAndNamesFailures(t *testing.T) {
	ok, down := &recorder{}, &recorder{down: true}
	f := &Fanout{Channels: []Channel{
		{Name: "webhook", Notifier: down},
		{Name: "stdout", Notifier: ok},
		{Name: "smtp", Notifier: panicky{}},
	}}
	ev := sampleEvents(t)[0]
	err := f.Notify(context.Background(), ev)
	var de *DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("Notify = %v, want a *DeliveryError", err)
	}
	if diff := cmp.Diff([]string{"webhook", "smtp"}, de.Channels()); diff != "" {
		t.Errorf("failed channels (-want +got):\n%s", diff)
	}
	if len(ok.taken()) != 1 {
		t.Errorf("the working channel took %d events, want 1", len(ok.taken()))
	}
	if msg := err.Error(); !strings.Contains(msg, "webhook: connection refused") || !strings.Contains(msg, "smtp: notifier failed: boom") {
		t.Errorf("error %q does not say which channel failed how", msg)
	}
	if err := f.NotifyOnly(context.Background(), ev, []string{"stdout"}); err != nil {
		t.Errorf("NotifyOnly(stdout) = %v", err)
	}
	if len(ok.taken()) != 2 {
		t.Errorf("stdout took %d events, want 2", len(ok.taken()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.NotifyOnly(ctx, ev, []string{"stdout"}); !errors.Is(err, context.Canceled) {
		t.Errorf("NotifyOnly with a done context = %v, want context.Canceled", err)
	}
}

// TestAlerterRetriesPendingInOrder: a channel that is down gets its
// events later, in order, exactly once; the other channel is not
// disturbed and gets nothing twice.
func TestAlerterRetriesPendingInOrder(t *testing.T) {
	web, out := &recorder{}, &recorder{}
	store := &MemoryStore{}
	a := &Alerter{Store: store, Out: &Fanout{Channels: []Channel{{"webhook", web}, {"stdout", out}}}}
	ctx := context.Background()
	high := rogueDNS(finding.SeverityHigh)
	now := t0
	run := func(c Cycle) Outcome {
		t.Helper()
		o, err := a.Run(ctx, c, now)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		return o
	}

	web.setDown(true)
	o := run(Cycle{Problems: []Problem{high}}) // raised: webhook fails
	if len(o.Failures) != 1 || o.Failures[0].Channel != "webhook" || o.Pending != 1 || o.Delivered != 1 {
		t.Fatalf("cycle 1 outcome %+v: want one webhook failure, 1 pending, 1 delivered", o)
	}
	o = run(Cycle{}) // resolved: webhook still down, queued behind the raised
	if o.Pending != 2 {
		t.Fatalf("cycle 2: %d pending, want 2", o.Pending)
	}
	if len(o.Failures) != 1 {
		t.Errorf("cycle 2: %d failures, want 1 (the resolved event is queued, not tried, behind the failed raised)", len(o.Failures))
	}
	web.setDown(false)
	o = run(Cycle{})
	if o.Pending != 0 || o.Delivered != 2 || len(o.Events) != 0 {
		t.Errorf("cycle 3 outcome %+v: want the 2 pending delivered and no new event", o)
	}
	run(Cycle{})
	key := high.Key()
	want := []string{"raised " + key, "resolved " + key}
	if diff := cmp.Diff(want, web.taken()); diff != "" {
		t.Errorf("webhook (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, out.taken()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	st, _ := store.Load(ctx)
	if len(st.Open) != 0 || len(st.Pending) != 0 {
		t.Errorf("state after all: %+v, want empty", st)
	}
}

func TestAlerterBoundsPending(t *testing.T) {
	web := &recorder{down: true}
	a := &Alerter{Store: &MemoryStore{}, Out: &Fanout{Channels: []Channel{{"webhook", web}}}, MaxPending: 3}
	var last Outcome
	var seen []Problem
	for i := range 5 {
		seen = append(seen, telnet(Device{Address: "192.0.2." + string(rune('1'+i))}))
		o, err := a.Run(context.Background(), Cycle{Problems: seen}, t0.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		last = o
	}
	if last.Pending != 3 || last.Dropped != 1 {
		t.Errorf("last outcome %+v: want 3 pending, 1 dropped", last)
	}
	web.setDown(false)
	if _, err := a.Run(context.Background(), Cycle{}, t1.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got := web.taken()
	// The three newest raised events (192.0.2.3–5) survive, in order,
	// then the cycle's five resolved events.
	if len(got) != 8 || !strings.HasPrefix(got[0], "raised 192.0.2.3 ") || !strings.HasPrefix(got[2], "raised 192.0.2.5 ") {
		t.Errorf("webhook took %q", got)
	}
}

func TestAlerterForgetsRemovedChannel(t *testing.T) {
	store := &MemoryStore{}
	if err := store.Save(context.Background(), State{Pending: []Pending{{Event: sampleEvents(t)[0], Channels: []string{"smtp"}}}}); err != nil {
		t.Fatal(err)
	}
	a := &Alerter{Store: store, Out: &Fanout{Channels: []Channel{{"stdout", &recorder{}}}}}
	o, err := a.Run(context.Background(), Cycle{}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if o.Pending != 0 {
		t.Errorf("an event owed to a channel no longer configured is kept: %+v", o)
	}
}

type brokenStore struct{ loadErr, saveErr error }

func (b brokenStore) Load(context.Context) (State, error) { return State{}, b.loadErr }
func (b brokenStore) Save(context.Context, State) error   { return b.saveErr }

func TestAlerterStoreErrors(t *testing.T) {
	out := &Fanout{Channels: []Channel{{"stdout", &recorder{}}}}
	cycle := Cycle{Problems: []Problem{telnet(router)}}
	a := &Alerter{Store: brokenStore{loadErr: errors.New("disk gone")}, Out: out}
	if _, err := a.Run(context.Background(), cycle, t0); err == nil || !strings.Contains(err.Error(), "loading the state: disk gone") {
		t.Errorf("load failure: %v", err)
	}
	a.Store = brokenStore{saveErr: errors.New("disk full")}
	if _, err := a.Run(context.Background(), cycle, t0); err == nil || !strings.Contains(err.Error(), "saving the state: disk full") {
		t.Errorf("save failure: %v", err)
	}
}

// saveCtxStore records whether Save got a live context.
type saveCtxStore struct {
	MemoryStore
	saveCtxErr error
}

func (s *saveCtxStore) Save(ctx context.Context, st State) error {
	s.saveCtxErr = ctx.Err()
	return s.MemoryStore.Save(ctx, st)
}

// TestAlerterSavesAfterCancel: a shutdown in the middle of a cycle still
// records what was sent and what is owed.
func TestAlerterSavesAfterCancel(t *testing.T) {
	store := &saveCtxStore{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := &Alerter{Store: store, Out: &Fanout{Channels: []Channel{{"stdout", &recorder{}}}}}
	o, err := a.Run(ctx, Cycle{Problems: []Problem{telnet(router)}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if store.saveCtxErr != nil {
		t.Errorf("Save got a done context: %v", store.saveCtxErr)
	}
	st, _ := store.Load(context.Background())
	if len(st.Open) != 1 || len(st.Pending) != 1 || o.Pending != 1 {
		t.Errorf("state %+v, outcome %+v: want the problem open and its event pending", st, o)
	}
}
