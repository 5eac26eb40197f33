// SPDX-License-Identifier: Apache-2.0

package tr069probe

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
)

var addr = netip.MustParseAddr("127.0.0.1")

func TestMeasure(t *testing.T) {
	tests := []struct {
		name       string
		port       func(*testing.T) uint16
		wantStatus netx.Status
		wantErr    bool
		wantRealm  string
	}{
		{
			name: "cwmp_digest",
			port: func(t *testing.T) uint16 {
				return probetest.ServeHTTP(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("WWW-Authenticate", `Digest realm="IGD", nonce="abc", qop="auth"`)
					w.WriteHeader(http.StatusUnauthorized)
				}))
			},
			wantStatus: netx.StatusOK,
			wantRealm:  "IGD",
		},
		{
			name: "redirect_not_followed",
			port: func(t *testing.T) uint16 {
				return probetest.ServeHTTP(t, addr, http.RedirectHandler("/x", http.StatusFound))
			},
			wantStatus: netx.StatusOK,
		},
		{
			name:       "closed",
			port:       func(t *testing.T) uint16 { return probetest.ClosedPort(t, addr) },
			wantStatus: netx.StatusRefused,
		},
		{
			name:       "garbage",
			port:       func(t *testing.T) uint16 { return probetest.ServeTCP(t, addr, probetest.Garbage(4096)) },
			wantStatus: netx.StatusProtocol,
			wantErr:    true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Prober{Ports: []uint16{tc.port(t)}}
			obs, err := p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
			if (err != nil) != tc.wantErr {
				t.Errorf("Measure error %v, want error %v", err, tc.wantErr)
			}
			ep := obs.Endpoints[0]
			if ep.Status != tc.wantStatus {
				t.Errorf("status %s (%s), want %s", ep.Status, ep.Error, tc.wantStatus)
			}
			if tc.wantStatus == netx.StatusOK && (!ep.Open || ep.Response == nil || ep.Response.Realm() != tc.wantRealm) {
				t.Errorf("endpoint %+v", ep)
			}
		})
	}
}

func TestSlowDrip(t *testing.T) {
	port := probetest.ServeTCP(t, addr, probetest.SlowDrip([]byte("HTTP/1.1 401 Unauthorized\r\n\r\n"), time.Second))
	p := &Prober{Ports: []uint16{port}}
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Measure(ctx, probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
	if time.Since(start) > 2500*time.Millisecond || probe.Classify(err) != netx.StatusTimeout {
		t.Errorf("slow drip: %v after %v", err, time.Since(start))
	}
}

// FuzzFingerprint feeds raw bytes through net/http's response parser and
// the fingerprint, as the probe does with what port 7547 sends.
func FuzzFingerprint(f *testing.F) {
	f.Add([]byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"IGD\", nonce=\"x\"\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 404 Not Found\r\nServer: gSOAP/2.7\r\n\r\n<title>\xff</title>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
		if err != nil {
			return
		}
		body, truncated, _ := httpfp.ReadBody(http.MaxBytesReader(nil, resp.Body, maxBody))
		r := fingerprint(resp, body, truncated)
		o := &Observation{Addr: addr, Endpoints: []Endpoint{{Response: r}}}
		for _, e := range o.Evidence() {
			if len(e.Value) > probe.MaxEvidenceValue {
				t.Fatalf("evidence of %d bytes", len(e.Value))
			}
		}
	})
}
