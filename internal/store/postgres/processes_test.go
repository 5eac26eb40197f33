// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// workers opens n stores on one database: n pools, as n worker processes
// have (PostgreSQL sees sessions, not processes).
func workers(t *testing.T, n int) []*Store {
	t.Helper()
	dsn := pgtest.Start(t).NewDatabase(t)
	out := make([]*Store, n)
	for i := range out {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out
}

// race runs fn(i) for i in [0, n) at once, released together, and
// returns their errors.
func race(n int, fn func(i int) error) []error {
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ready.Done()
			<-start
			errs[i] = fn(i)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	return errs
}

// TestManyProcesses: writers in several processes racing on the same
// records settle as one writer would: one alert per problem, one user
// per login name, one finish per run, one record per address.
func TestManyProcesses(t *testing.T) {
	const procs, perProc, rounds = 4, 3, 8
	stores := workers(t, procs)
	ctx := t.Context()
	if _, err := stores[0].PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	n := procs * perProc
	of := func(i int) *Store { return stores[i%procs] }

	t.Run("ReconcileAlerts", func(t *testing.T) {
		for round := range rounds {
			key := fmt.Sprint("problem-", round)
			opened := make([]int, n)
			errs := race(n, func(i int) error {
				r, err := of(i).ReconcileAlerts(ctx, "r", "dns", at.Add(time.Duration(round*n+i)*time.Second), []store.Problem{{Key: key}})
				opened[i] = len(r.Opened)
				return err
			})
			sum := 0
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d, writer %d: %v", round, i, err)
				}
				sum += opened[i]
			}
			if sum != 1 {
				t.Errorf("round %d: %d racing reconciliations opened %d alerts, want 1", round, n, sum)
			}
		}
		open, err := stores[0].Alerts(ctx, store.AlertFilter{State: store.AlertOpen}, store.Page{})
		if err != nil || len(open) != 1 {
			t.Errorf("%d open alerts (%v), want 1: each round resolves the one before", len(open), err)
		}
	})

	t.Run("CreateUser", func(t *testing.T) {
		for round := range rounds {
			errs := race(n, func(i int) error {
				_, err := of(i).CreateUser(ctx, store.User{Name: fmt.Sprint("admin-", round), Role: store.RoleAdmin, PasswordHash: storetest.PHC("x")})
				return err
			})
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("round %d: a losing CreateUser failed with %v, want ErrConflict", round, err)
				}
			}
			if won != 1 {
				t.Errorf("round %d: %d CreateUser calls won, want 1", round, won)
			}
		}
	})

	t.Run("FinishRangeRun", func(t *testing.T) {
		sc, err := stores[0].CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
			Owner: "o", Reason: "r", PerPrefixRate: 1})
		if err != nil {
			t.Fatal(err)
		}
		for round := range rounds {
			run, err := stores[0].StartRangeRun(ctx, sc.ID, at)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]store.RangeRun, n)
			errs := race(n, func(i int) error {
				var err error
				got[i], err = of(i).FinishRangeRun(ctx, run.ID, store.RangeDone, at.Add(time.Duration(i+1)*time.Minute))
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d, writer %d: %v", round, i, err)
				}
				if got[i] != got[0] || got[i].State != store.RangeDone {
					t.Errorf("round %d: writer %d saw %+v, writer 0 %+v: the run was finished more than once", round, i, got[i], got[0])
				}
			}
		}
	})

	t.Run("PutRangeRecords", func(t *testing.T) {
		sc, err := stores[0].CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
			Owner: "o", Reason: "r", PerPrefixRate: 1})
		if err != nil {
			t.Fatal(err)
		}
		run, err := stores[0].StartRangeRun(ctx, sc.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		// Every writer writes the whole /24, each in its own order: the
		// store orders the batch, so no two deadlock.
		errs := race(n, func(i int) error {
			recs := make([]store.RangeRecord, 256)
			for j := range recs {
				a := byte((j*(i+1)*7 + i) % 256)
				recs[j] = store.RangeRecord{Address: netip.AddrFrom4([4]byte{198, 51, 100, a}), Prefix: netip.MustParsePrefix("198.51.100.0/24"), Failing: i}
			}
			seen := map[netip.Addr]bool{}
			var uniq []store.RangeRecord
			for _, r := range recs {
				if !seen[r.Address] {
					seen[r.Address] = true
					uniq = append(uniq, r)
				}
			}
			return of(i).PutRangeRecords(ctx, run.ID, uniq)
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		sum, err := stores[0].RangeSummary(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		done, _ := stores[0].RangeDone(ctx, run.ID, netip.Prefix{})
		if len(sum) != 1 || sum[0].Addresses != len(done) {
			t.Errorf("summary %+v, %d addresses done", sum, len(done))
		}
	})
}
