// SPDX-License-Identifier: Apache-2.0

package httpprobe_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var addr = netip.MustParseAddr("127.0.0.1")

// statusPage is the real TL-WR841N v6/v7 Status page from shared data.
func statusPage(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "router-samples", "tplink-legacy", "wr841n-v6v7_3.12.5_talnir_StatusRpm.htm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// legacyTPLink answers like the legacy httpd: 401 with the realm.
func legacyTPLink() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Router Webserver")
		w.Header().Set("WWW-Authenticate", `Basic realm="TP-LINK Wireless N Router WR841N"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD></HTML>")
	})
}

func measure(t *testing.T, p *httpprobe.Prober) (*httpprobe.Observation, error) {
	t.Helper()
	return p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
}

func TestLegacyRealm(t *testing.T) {
	port := probetest.ServeHTTP(t, addr, legacyTPLink())
	obs, err := measure(t, &httpprobe.Prober{HTTPPorts: []uint16{port}})
	if err != nil {
		t.Fatal(err)
	}
	ep := obs.Endpoints[0]
	if !ep.Open || ep.Status != netx.StatusOK || ep.Response.StatusCode != 401 {
		t.Fatalf("endpoint = %+v", ep.Exchange)
	}
	want := []probe.Evidence{
		{Probe: "http", Field: probe.FieldHTTPServer, Value: "Router Webserver"},
		{Probe: "http", Field: probe.FieldHTTPWWWAuth, Value: `Basic realm="TP-LINK Wireless N Router WR841N"`},
		{Probe: "http", Field: probe.FieldHTTPRealm, Value: "TP-LINK Wireless N Router WR841N"},
		{Probe: "http", Field: probe.FieldHTTPTitle, Value: "401 Unauthorized"},
	}
	if diff := cmp.Diff(want, obs.Evidence(), ignoreWhere); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

var ignoreWhere = cmp.Transformer("noWhere", func(e probe.Evidence) probe.Evidence { e.Where, e.Group = "", ""; return e })

func TestStatusPageArrays(t *testing.T) {
	page := statusPage(t)
	port := probetest.ServeHTTP(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Router Webserver")
		w.Write(page)
	}))
	obs, err := measure(t, &httpprobe.Prober{HTTPPorts: []uint16{port}})
	if err != nil {
		t.Fatal(err)
	}
	ep := obs.Endpoints[0]
	if ep.Response.Title != "TL-WR841N" {
		t.Errorf("title %q, want TL-WR841N", ep.Response.Title)
	}
	want := []httpprobe.JSArray{{Name: "statusPara", Values: []string{
		"1", "1", "21", "20000", "3303482", "3.12.5 Build 100929 Rel.57776n ", "WR841N v6/v7 00000000", "716632876"}}}
	if diff := cmp.Diff(want, ep.Arrays); diff != "" {
		t.Errorf("arrays (-want +got):\n%s", diff)
	}
}

func TestHTTPSCertificateAndFavicon(t *testing.T) {
	cert := probetest.SelfSignedCert(t, "TP-LINK CA", addr)
	icon := bytes.Repeat([]byte{0, 1, 2, 3}, 100)
	port := probetest.ServeHTTPS(t, addr, cert, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.Write(icon)
			return
		}
		fmt.Fprint(w, "<title>Login</title>")
	}))
	obs, err := measure(t, &httpprobe.Prober{HTTPSPorts: []uint16{port}})
	if err != nil {
		t.Fatal(err)
	}
	ep := obs.Endpoints[0]
	if ep.TLS == nil || ep.TLS.Certificate == nil {
		t.Fatalf("no TLS info: %+v", ep)
	}
	c := ep.TLS.Certificate
	if c.Subject != "CN=TP-LINK CA" || !c.SelfSigned || !slices.Equal(c.IPAddresses, []string{"127.0.0.1"}) {
		t.Errorf("certificate %+v", c)
	}
	if ep.Favicon == nil || ep.Favicon.Bytes != len(icon) || ep.Favicon.MD5 == "" {
		t.Errorf("favicon %+v", ep.Favicon)
	}
}

func TestEndpointFailures(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.Handler
		raw        func(*testing.T) uint16 // a raw TCP server instead
		maxBody    int64
		wantStatus netx.Status
		wantErr    bool
		check      func(*testing.T, httpprobe.Endpoint)
	}{
		{
			name:       "closed_port_is_a_measurement",
			raw:        func(t *testing.T) uint16 { return probetest.ClosedPort(t, addr) },
			wantStatus: netx.StatusRefused,
		},
		{
			name:       "garbage",
			raw:        func(t *testing.T) uint16 { return probetest.ServeTCP(t, addr, probetest.Garbage(1<<16)) },
			wantStatus: netx.StatusProtocol,
			wantErr:    true,
		},
		{
			name: "redirect_loop_stops",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/again", http.StatusFound)
			}),
			wantStatus: netx.StatusOK,
			check: func(t *testing.T, ep httpprobe.Endpoint) {
				if ep.Response.StatusCode != http.StatusFound {
					t.Errorf("status %d after a redirect loop, want 302", ep.Response.StatusCode)
				}
			},
		},
		{
			name: "redirect_out_of_scope_not_followed",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://127.0.0.2/", http.StatusMovedPermanently)
			}),
			wantStatus: netx.StatusOK,
			check: func(t *testing.T, ep httpprobe.Endpoint) {
				if ep.Response.StatusCode != http.StatusMovedPermanently || ep.Response.Location != "http://127.0.0.2/" {
					t.Errorf("response %d %q", ep.Response.StatusCode, ep.Response.Location)
				}
			},
		},
		{
			name: "invalid_utf8_title",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Server", "bad\xff\xfe")
				fmt.Fprint(w, "<title>R\xe9seau \xff</title>")
			}),
			wantStatus: netx.StatusOK,
			check: func(t *testing.T, ep httpprobe.Endpoint) {
				if ep.Response.Title != "Réseau ÿ" || ep.Response.Server != "badÿþ" {
					t.Errorf("title %q server %q", ep.Response.Title, ep.Response.Server)
				}
			},
		},
		{
			name: "big_body_cut_not_refused",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "<title>Big</title>")
				w.Write(bytes.Repeat([]byte("x"), 1<<20))
			}),
			maxBody:    64 << 10,
			wantStatus: netx.StatusOK,
			check: func(t *testing.T, ep httpprobe.Endpoint) {
				if !ep.Response.BodyTruncated || ep.Response.BodyBytes != 64<<10 || ep.Response.Title != "Big" {
					t.Errorf("response %+v", ep.Response)
				}
			},
		},
		{
			name: "too_many_headers",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for i := range 5000 {
					w.Header().Set(fmt.Sprintf("X-H%d", i), strings.Repeat("v", 20))
				}
			}),
			wantStatus: netx.StatusTooLarge,
			wantErr:    true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var port uint16
			if tc.raw != nil {
				port = tc.raw(t)
			} else {
				port = probetest.ServeHTTP(t, addr, tc.handler)
			}
			obs, err := measure(t, &httpprobe.Prober{HTTPPorts: []uint16{port}, MaxBody: tc.maxBody})
			if (err != nil) != tc.wantErr {
				t.Errorf("Measure error %v, want error %v", err, tc.wantErr)
			}
			ep := obs.Endpoints[0]
			if ep.Status != tc.wantStatus {
				t.Errorf("status %s (%s), want %s", ep.Status, ep.Error, tc.wantStatus)
			}
			if tc.check != nil {
				tc.check(t, ep)
			}
		})
	}
}

func TestSlowDripEndsAtDeadline(t *testing.T) {
	port := probetest.ServeTCP(t, addr, probetest.SlowDrip([]byte("HTTP/1.1 200 OK\r\nServer: drip\r\n\r\n"), time.Second))
	ctx, cancel := contextWithTimeout(t, 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	obs, err := (&httpprobe.Prober{HTTPPorts: []uint16{port}}).Measure(ctx, probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
	if elapsed := time.Since(start); elapsed > 2500*time.Millisecond {
		t.Errorf("Measure took %v past a 1.5 s deadline", elapsed)
	}
	if probe.Classify(err) != netx.StatusTimeout || obs.Endpoints[0].Status != netx.StatusTimeout {
		t.Errorf("error %v, endpoint %s; want timeouts", err, obs.Endpoints[0].Status)
	}
}

func TestValidate(t *testing.T) {
	for name, p := range map[string]*httpprobe.Prober{
		"no_ports":     {},
		"zero_port":    {HTTPPorts: []uint16{0}},
		"twice":        {HTTPPorts: []uint16{80}, HTTPSPorts: []uint16{80}},
		"negative_cap": {HTTPPorts: []uint16{80}, MaxBody: -1},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, p)
		}
	}
	if err := httpprobe.New().Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
