// SPDX-License-Identifier: Apache-2.0

package watch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/watch"
)

const (
	user     = "admin"
	password = "watch-pass-5e1d"
	attacker = "64.120.31.96" // a published FrostArmada address of the built-in list
)

// events is a channel that keeps what it was sent.
type events struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (e *events) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.buf.Write(p)
}

func (e *events) take(t *testing.T) []alert.Event {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []alert.Event
	sc := bufio.NewScanner(&e.buf)
	for sc.Scan() {
		var ev alert.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("event line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	e.buf.Reset()
	return out
}

type world struct {
	r      *tplinktest.Router
	w      *watch.Watcher
	out    *events
	down   bool
	mu     sync.Mutex
	dbPath string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	wd := &world{out: &events{}}
	wd.r = tplinktest.New(t, tplinktest.SyntheticSamples(), tplinktest.Options{Scheme: tplinktest.Cookie, User: user, Password: password, NoLog: true})
	// The router's settings as they should be: no UPnP, no WPS, so that
	// only the hijack raises anything.
	wd.r.SetState(func(s *tplinktest.State) { s.UPnP, s.WPS = false, false })
	wd.dbPath = filepath.Join(t.TempDir(), "store.db")
	wd.w = wd.open(t)
	return wd
}

// open opens the store and a watcher over it (again after a restart).
func (wd *world) open(t testing.TB) *watch.Watcher {
	t.Helper()
	st, err := sqlite.Open(t.Context(), wd.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ap := wd.r.Addr()
	w, err := watch.New(watch.Options{
		Store:  st,
		Alerts: &alert.Fanout{Channels: []alert.Channel{{Name: "stdout", Notifier: &alert.Writer{W: wd.out, Format: "json"}}}},
		Routers: []watch.Router{{ID: "home", Label: "home router", Addr: ap.Addr(), Port: ap.Port(), Adapter: "tplink-legacy",
			Credentials: device.Credentials{User: user, Password: config.NewSecret(password)}}},
		Pull: func(ctx context.Context, o configaudit.PullOptions) (*device.Snapshot, error) {
			wd.mu.Lock()
			down := wd.down
			wd.mu.Unlock()
			if down {
				return nil, errors.New("dial tcp: connection refused")
			}
			return configaudit.Pull(ctx, o)
		},
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (wd *world) cycle(t *testing.T) []alert.Event {
	t.Helper()
	if _, err := wd.w.Cycle(t.Context()); err != nil {
		t.Fatal(err)
	}
	return wd.out.take(t)
}

func kinds(evs []alert.Event) string {
	var ss []string
	for _, e := range evs {
		ss = append(ss, string(e.Kind)+" "+e.CheckID)
	}
	return strings.Join(ss, ", ")
}

// TestWatchAlertsOnChangesOfState: a clean router raises nothing; the
// DNS changer's edit raises exactly one alert naming the change; the
// same state again raises nothing (also after a restart); the router
// going offline raises "unreachable" but does not resolve the hijack;
// switching the DNS back resolves it once.
func TestWatchAlertsOnChangesOfState(t *testing.T) {
	wd := newWorld(t)
	// The router's admin is named admin: a low finding, below the default
	// alert threshold (medium); nothing else fails.
	if evs := wd.cycle(t); len(evs) != 0 {
		t.Fatalf("clean router raised %s", kinds(evs))
	}
	wd.r.SetState(func(s *tplinktest.State) { s.DHCP.DNS1 = attacker })
	evs := wd.cycle(t)
	if len(evs) != 1 || evs[0].Kind != "raised" || evs[0].CheckID != watch.CheckDNSHijack {
		t.Fatalf("after the DNS changer: %s, want exactly one raised %s", kinds(evs), watch.CheckDNSHijack)
	}
	if !strings.Contains(evs[0].Detail, "DHCP DNS primary changed from 192.168.1.1 to "+attacker) || evs[0].Severity.String() != "critical" {
		t.Errorf("the alert does not name the change: %s %q", evs[0].Severity, evs[0].Detail)
	}
	if evs := wd.cycle(t); len(evs) != 0 {
		t.Errorf("the same state again raised %s", kinds(evs))
	}
	// A restart: the alert state is in the store.
	wd.w = wd.open(t)
	if evs := wd.cycle(t); len(evs) != 0 {
		t.Errorf("after a restart, the same state raised %s", kinds(evs))
	}
	// Offline: one "unreachable", the hijack neither resolved nor raised.
	wd.mu.Lock()
	wd.down = true
	wd.mu.Unlock()
	evs = wd.cycle(t)
	if len(evs) != 1 || evs[0].Kind != "raised" || evs[0].CheckID != watch.CheckUnreachable {
		t.Errorf("router offline: %s, want one raised %s", kinds(evs), watch.CheckUnreachable)
	}
	wd.mu.Lock()
	wd.down = false
	wd.mu.Unlock()
	if evs := wd.cycle(t); len(evs) != 1 || evs[0].Kind != "resolved" || evs[0].CheckID != watch.CheckUnreachable {
		t.Errorf("router back: %s, want one resolved %s", kinds(evs), watch.CheckUnreachable)
	}
	wd.r.SetState(func(s *tplinktest.State) { s.DHCP.DNS1 = "0.0.0.0" })
	evs = wd.cycle(t)
	if len(evs) != 1 || evs[0].Kind != "resolved" || evs[0].CheckID != watch.CheckDNSHijack {
		t.Errorf("DNS switched back: %s, want exactly one resolved %s", kinds(evs), watch.CheckDNSHijack)
	}
}

func TestNewRefuses(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := []watch.Router{{ID: "r", Addr: netip.MustParseAddr("127.0.0.1")}}
	for _, tc := range []struct {
		name string
		o    watch.Options
	}{
		{"no_store", watch.Options{Routers: r}},
		{"nothing_to_watch", watch.Options{Store: st}},
		{"interval_too_short", watch.Options{Store: st, Routers: r, Interval: time.Millisecond}},
		{"jitter_too_large", watch.Options{Store: st, Routers: r, Jitter: 0.9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := watch.New(tc.o); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// flipDNS is a state change: the DHCP DNS to the attacker's, or back.
func flipDNS(hijack bool) func(*tplinktest.State) {
	return func(s *tplinktest.State) {
		s.DHCP.DNS1 = "0.0.0.0"
		if hijack {
			s.DHCP.DNS1 = attacker
		}
	}
}
