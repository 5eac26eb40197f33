// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLimitPolicyBackoff(t *testing.T) {
	p := LimitPolicy{Free: 3, Base: time.Second, Max: time.Minute, Forget: time.Hour}
	tests := []struct {
		fails int
		want  time.Duration
	}{
		{0, 0}, {2, 0}, {3, time.Second}, {4, 2 * time.Second}, {5, 4 * time.Second},
		{8, 32 * time.Second}, {9, time.Minute}, {1000, time.Minute},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("fails_%d", tc.fails), func(t *testing.T) {
			if got := p.backoff(tc.fails); got != tc.want {
				t.Errorf("backoff(%d) = %v, want %v", tc.fails, got, tc.want)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	pol := LimitPolicy{Free: 2, Base: time.Second, Max: time.Minute, Forget: time.Hour}
	a1 := netip.MustParseAddr("192.0.2.1")
	a2 := netip.MustParseAddr("192.0.2.2")
	type step struct {
		at      time.Duration // since t0
		name    string
		addr    netip.Addr
		o       outcome // how the admitted attempt ends
		allowed bool
		wait    time.Duration // when refused
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "free_failures_then_backoff", steps: []step{
			{0, "alice", a1, failed, true, 0},
			{0, "alice", a2, failed, true, 0}, // second failure: locked 1 s
			{0, "alice", a2, failed, false, time.Second},
			{500 * time.Millisecond, "alice", a2, failed, false, 500 * time.Millisecond},
			{time.Second, "alice", a2, failed, true, 0}, // third: 2 s
			{2 * time.Second, "alice", a2, failed, false, time.Second},
			{3 * time.Second, "alice", a2, failed, true, 0}, // fourth: 4 s
			{6 * time.Second, "alice", a2, failed, false, time.Second},
		}},
		{name: "success_forgives_the_name", steps: []step{
			{0, "alice", a1, failed, true, 0},
			{0, "alice", a1, succeeded, true, 0},
			{0, "alice", a2, failed, true, 0},
			{0, "alice", a2, failed, true, 0},
			{0, "alice", a2, failed, false, time.Second},
		}},
		{name: "names_are_case_folded", steps: []step{
			{0, "alice", a1, failed, true, 0},
			{0, "Alice", a2, failed, true, 0},
			{0, "aLiCe", a2, failed, false, time.Second},
		}},
		{name: "address_limited_across_names", steps: []step{
			{0, "n1", a1, failed, true, 0},
			{0, "n2", a1, failed, true, 0},
			{0, "n3", a1, failed, false, time.Second},
			{0, "n3", a2, failed, true, 0},
		}},
		{name: "success_does_not_forgive_the_address", steps: []step{
			{0, "n1", a1, failed, true, 0},
			{0, "mine", a1, succeeded, true, 0},
			{0, "n2", a1, failed, true, 0},
			{0, "n3", a1, failed, false, time.Second},
		}},
		{name: "store_failure_does_not_count", steps: []step{
			{0, "alice", a1, noVerdict, true, 0},
			{0, "alice", a1, noVerdict, true, 0},
			{0, "alice", a1, noVerdict, true, 0},
			{0, "alice", a1, failed, true, 0},
			{0, "alice", a1, failed, true, 0},
			{0, "alice", a1, failed, false, time.Second},
		}},
		{name: "forgotten_after_quiet_hour", steps: []step{
			{0, "alice", a1, failed, true, 0},
			{0, "alice", a1, failed, true, 0},
			{time.Hour, "alice", a2, failed, true, 0},
			{time.Hour, "alice", a2, failed, true, 0},
			{time.Hour, "alice", a2, failed, false, time.Second},
		}},
		{name: "ipv6_limited_per_64", steps: []step{
			{0, "n1", netip.MustParseAddr("2001:db8:1:1::1"), failed, true, 0},
			{0, "n2", netip.MustParseAddr("2001:db8:1:1:ffff::2"), failed, true, 0},
			{0, "n3", netip.MustParseAddr("2001:db8:1:1::3"), failed, false, time.Second},
			{0, "n3", netip.MustParseAddr("2001:db8:1:2::3"), failed, true, 0},
		}},
		{name: "ipv4_mapped_is_ipv4", steps: []step{
			{0, "n1", a1, failed, true, 0},
			{0, "n2", netip.MustParseAddr("::ffff:192.0.2.1"), failed, true, 0},
			{0, "n3", a1, failed, false, time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLimiter(100, pol, pol)
			for i, s := range tc.steps {
				at, wait, ok := l.begin(s.name, s.addr, t0.Add(s.at))
				if ok != s.allowed || (!ok && wait != s.wait) {
					t.Fatalf("step %d (%s from %v): allowed %v wait %v, want %v %v", i, s.name, s.addr, ok, wait, s.allowed, s.wait)
				}
				if ok {
					at.finish(s.o)
				}
			}
		})
	}
}

// TestLimiterBoundedMemory sprays a million names from a million /64s:
// the tables stay at their size.
func TestLimiterBoundedMemory(t *testing.T) {
	const size = 1000
	l := NewLimiter(size, DefaultNamePolicy, DefaultAddrPolicy)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000 // still 100 times the tables' size
	}
	for i := range n {
		b := netip.MustParseAddr("2001:db8::").As16()
		b[4], b[5], b[6], b[7] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		at, _, ok := l.begin("user"+strconv.Itoa(i), netip.AddrFrom16(b), now)
		if !ok {
			t.Fatalf("attempt %d refused", i)
		}
		at.finish(failed)
	}
	if names, addrs := l.Len(); names > size || addrs > size {
		t.Errorf("after %d names the tables hold %d names and %d addresses, want at most %d", n, names, addrs, size)
	}
}

// loginRequest is a login form POST from addr.
func loginRequest(name, password, addr string) *http.Request {
	form := url.Values{"name": {name}, "password": {password}}
	r := httptest.NewRequest(http.MethodPost, testOrigin+"/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", testOrigin)
	r.RemoteAddr = addr
	return r
}

// loginHandler is the smallest login route: what the server will do.
func loginHandler(a *Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.Login(w, r, r.PostFormValue("name"), r.PostFormValue("password")); err != nil {
			WriteLoginError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// TestTenThousandWrongPasswords is the security test: 10,000
// wrong passwords against one user are refused with 429 and Retry-After,
// and the password hash runs only a few times. The hash function is
// injected and counts its runs.
func TestTenThousandWrongPasswords(t *testing.T) {
	tests := []struct {
		name string
		// addr returns the client address of attempt i.
		addr func(i int) string
		// step is the time between attempts.
		step time.Duration
		// maxHashes is how often argon2 may run in all.
		maxHashes int64
	}{
		// All at once from one address: the 5 free tries of the name.
		{name: "one_address_at_once", addr: func(int) string { return "192.0.2.7:40000" }, step: 0, maxHashes: 5},
		// Spread over an hour from 10,000 addresses (a botnet), so only
		// the per-name back-off holds: 5 free tries, then locks of 1 s,
		// 2 s, … 512 s (10 tries in 1023 s), then one per 15 minutes (2
		// more before the hour ends).
		{name: "botnet_over_an_hour", addr: func(i int) string {
			return fmt.Sprintf("[2001:db8:%x:%x::1]:40000", i>>16, i&0xffff)
		}, step: 360 * time.Millisecond, maxHashes: 5 + 10 + 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			h := loginHandler(env.a)
			limited := 0
			for i := range 10000 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, loginRequest("alice", fmt.Sprintf("guess %d is wrong", i), tc.addr(i)))
				switch w.Code {
				case http.StatusUnauthorized:
				case http.StatusTooManyRequests:
					limited++
					if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 900 {
						t.Fatalf("attempt %d: 429 with Retry-After %q", i, w.Header().Get("Retry-After"))
					}
				default:
					t.Fatalf("attempt %d: status %d", i, w.Code)
				}
				env.clock.Add(tc.step)
			}
			t.Logf("argon2 ran %d times", env.hashes.Load())
			if n := env.hashes.Load(); n > tc.maxHashes || n < 5 {
				t.Errorf("argon2 ran %d times for 10,000 guesses, want 5..%d", n, tc.maxHashes)
			}
			if limited < 10000-int(tc.maxHashes) {
				t.Errorf("only %d of 10,000 guesses were answered 429", limited)
			}
			// While locked, even the right password is not checked.
			before := env.hashes.Load()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, loginRequest("alice", testPassword, tc.addr(0)))
			if w.Code != http.StatusTooManyRequests || env.hashes.Load() != before {
				t.Errorf("right password while locked: status %d, %d hashes; want 429 and none", w.Code, env.hashes.Load()-before)
			}
		})
	}
}

// TestConcurrentGuessesSeeEachOther sends 500 guesses at the same moment:
// each admitted attempt counts before its hash runs, so no more than the
// free tries get hashed.
func TestConcurrentGuessesSeeEachOther(t *testing.T) {
	env := newTestEnv(t)
	h := loginHandler(env.a)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, loginRequest("alice", fmt.Sprintf("guess %d", i), fmt.Sprintf("[2001:db8:%x::1]:1", i)))
		})
	}
	wg.Wait()
	if n := env.hashes.Load(); n > int64(DefaultNamePolicy.Free) {
		t.Errorf("argon2 ran %d times for 500 concurrent guesses, want at most %d", n, DefaultNamePolicy.Free)
	}
}

// TestLoginSuccessForgivesName: a user who mistypes a few times and then
// logs in starts again from zero, so the next typos are not locked out.
func TestLoginSuccessForgivesName(t *testing.T) {
	env := newTestEnv(t)
	h := loginHandler(env.a)
	for round := range 3 {
		for i := range DefaultNamePolicy.Free - 1 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, loginRequest("alice", "typo", fmt.Sprintf("[2001:db8:%x:%x::1]:1", round, i)))
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("round %d typo %d: %d, want 401", round, i, w.Code)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, loginRequest("alice", testPassword, fmt.Sprintf("[2001:db8:%x:ff::1]:1", round)))
		if w.Code != http.StatusNoContent {
			t.Fatalf("round %d login: %d, want 204", round, w.Code)
		}
	}
}
