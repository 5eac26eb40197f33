// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
	"github.com/routerwatch/routerwatch/internal/target"
)

// queued waits until n goroutines have announced themselves through
// count, then a little longer for them to block in the limiter.
func queued(t *testing.T, count *atomic.Int64, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); count.Load() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d goroutines queued", count.Load(), n)
		}
	}
	time.Sleep(20 * time.Millisecond)
}

// TestLimiterStopsWhenCancelled: work queued behind a full limiter never
// starts once the context is done, and each caller gets the context's
// error; a context done before do is called wins over a free slot.
func TestLimiterStopsWhenCancelled(t *testing.T) {
	const n = 50
	lim := make(limiter, 1)
	lim <- struct{}{} // the slot is taken: everything below queues
	ctx, cancel := context.WithCancel(t.Context())
	var started, waiting atomic.Int64
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			waiting.Add(1)
			errs <- lim.do(ctx, func() { started.Add(1) })
		})
	}
	queued(t, &waiting, n)
	cancel()
	<-lim // free the slot: a queued f must still not run
	wg.Wait()
	close(errs)
	if s := started.Load(); s != 0 {
		t.Errorf("%d queued functions started after cancellation", s)
	}
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("do = %v, want context.Canceled", err)
		}
	}
	// Done before the call, with free slots: nothing runs either.
	free := make(limiter, n)
	for range n {
		if err := free.do(ctx, func() { started.Add(1) }); !errors.Is(err, context.Canceled) {
			t.Fatalf("do on a done context = %v", err)
		}
	}
	if s := started.Load(); s != 0 {
		t.Errorf("%d functions started on a done context with free slots", s)
	}
	// A live context runs f and returns nil.
	ran := false
	if err := free.do(t.Context(), func() { ran = true }); err != nil || !ran {
		t.Errorf("do on a live context = %v, ran %v", err, ran)
	}
}

// TestStartServerCancelledQueue: a server round whose exchanges all wait
// behind a full limiter sends nothing to the server after cancellation,
// and records every question as not asked because the run ended (never
// as an answer, never as the zero Answer that means "not asked at all").
func TestStartServerCancelledQueue(t *testing.T) {
	zone := &dnsprobetest.Zone{A: map[string][]netip.Addr{"login.example.org.": {netip.MustParseAddr("192.0.2.80")}}}
	srv := dnsprobetest.NewServer(t, zone)
	client := dnsprobe.NewClient(netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.0/8")), DialerOptions()))
	var keys []dnshijack.Key
	for range 30 {
		keys = append(keys, dnshijack.Key{Name: "login.example.org.", Type: dns.TypeA})
	}
	lim := make(limiter, 1)
	lim <- struct{}{}
	ctx, cancel := context.WithCancel(t.Context())
	r := startServer(ctx, client, dnsprobe.Server{Transport: dnsprobe.UDP, Addr: srv.Addr}, keys, nil, true, lim)
	time.Sleep(50 * time.Millisecond) // let every exchange queue
	cancel()
	<-lim
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the round did not end after cancellation")
	}
	if q := zone.Queries.Load(); q != 0 {
		t.Errorf("the server saw %d queries after cancellation", q)
	}
	for j, a := range r.answers {
		if a.Resp != nil || a.Err == "" {
			t.Errorf("answer %d = %+v, want not asked, with the context's error", j, a)
		}
	}
	if r.fingerErr == "" {
		t.Error("the fingerprint was neither asked nor marked as not asked")
	}
}
