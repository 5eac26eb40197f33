// SPDX-License-Identifier: Apache-2.0

package confirmprobe_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/confirmprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
)

// secret is the lab's fake credential file (MD5 of "admin"), as a
// vulnerable TL-WR841N sends it (THREAT.md §4.1).
const secret = "username:admin\npassword:21232f297a57a5a743894a0e4a801fc3"

// device serves a vulnerable (or patched) legacy TP-Link httpd and
// records the request URIs it saw.
type device struct {
	mu   sync.Mutex
	uris []string
}

func (d *device) handler(vulnerable bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.uris = append(d.uris, r.RequestURI)
		d.mu.Unlock()
		w.Header().Set("Server", "Router Webserver")
		if vulnerable && r.RequestURI == confirmprobe.Path {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(secret))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="TP-LINK Wireless N Router WR841N"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

func TestMeasure(t *testing.T) {
	addr := probetest.Loopback
	vuln := &device{}
	patched := &device{}
	vulnPort := probetest.ServeHTTP(t, addr, vuln.handler(true))
	patchedPort := probetest.ServeHTTP(t, addr, patched.handler(false))
	bigPort := probetest.ServeHTTP(t, addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// Starts like the file, but is a page: not the credential file.
		w.Write([]byte(secret + strings.Repeat("x", 4096)))
	}))
	closed := probetest.ClosedPort(t, addr)

	tests := []struct {
		name    string
		port    uint16
		want    confirmprobe.Result
		wantErr bool
	}{
		{name: "vulnerable", port: vulnPort, want: confirmprobe.Result{Scheme: "http", StatusCode: 200, ContentType: "text/plain", CredentialShape: true,
			Exchange: probe.Exchange{Port: vulnPort, Open: true, Status: netx.StatusOK}}},
		{name: "patched", port: patchedPort, want: confirmprobe.Result{Scheme: "http", StatusCode: 401,
			Exchange: probe.Exchange{Port: patchedPort, Open: true, Status: netx.StatusOK}}},
		{name: "long_body", port: bigPort, want: confirmprobe.Result{Scheme: "http", StatusCode: 200, ContentType: "text/plain; charset=utf-8",
			Exchange: probe.Exchange{Port: bigPort, Open: true, Status: netx.StatusOK}}},
		{name: "closed", port: closed, want: confirmprobe.Result{Scheme: "http",
			Exchange: probe.Exchange{Port: closed, Status: netx.StatusRefused}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := confirmprobe.New(confirmprobe.Endpoint{Scheme: "http", Port: tt.port})
			d := probetest.Dialer(t, netx.Options{}, addr)
			obs, err := p.Measure(t.Context(), d, probe.Target{Addr: addr})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if len(obs.Endpoints) != 1 {
				t.Fatalf("%d endpoints", len(obs.Endpoints))
			}
			got := obs.Endpoints[0]
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(probe.Exchange{}, "Elapsed", "Error")); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if obs.Leaked() != tt.want.CredentialShape {
				t.Errorf("Leaked() = %v", obs.Leaked())
			}
			// The secret never leaves the probe: not in the observation's
			// JSON, not in its evidence, not in an error.
			b, _ := json.Marshal(obs)
			for _, s := range []string{string(b), errString(err), fmtEvidence(obs.Evidence())} {
				if strings.Contains(s, "21232f") || strings.Contains(s, "username:admin") {
					t.Errorf("the credential file leaked into %q", s)
				}
			}
		})
	}
	// The request went on the wire exactly as the advisory writes it.
	if diff := cmp.Diff([]string{confirmprobe.Path}, vuln.uris); diff != "" {
		t.Errorf("request URIs (-want +got):\n%s", diff)
	}
}

func TestOutOfScope(t *testing.T) {
	p := confirmprobe.New()
	d := probetest.Dialer(t, netx.Options{}, probetest.Loopback)
	obs, err := p.Measure(t.Context(), d, probe.Target{Addr: netip.MustParseAddr("192.0.2.1")})
	if probe.Classify(err) != netx.StatusOutOfScope {
		t.Fatalf("err %v (%s), want out of scope", err, probe.Classify(err))
	}
	if obs == nil || obs.Leaked() {
		t.Fatal("out of scope: want an empty observation")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    *confirmprobe.Prober
		ok   bool
	}{
		{name: "default", p: confirmprobe.New(), ok: true},
		{name: "https", p: confirmprobe.New(confirmprobe.Endpoint{Scheme: "https", Port: 443}), ok: true},
		{name: "no_endpoints", p: &confirmprobe.Prober{}},
		{name: "bad_scheme", p: confirmprobe.New(confirmprobe.Endpoint{Scheme: "ftp", Port: 21})},
		{name: "port_zero", p: confirmprobe.New(confirmprobe.Endpoint{Scheme: "http"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestCredentialShape(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{name: "sample", body: secret, want: true},
		{name: "crlf", body: "username:admin\r\npassword:x\r\n", want: true},
		{name: "more_lines", body: "username:admin\npassword:x\nisFactoryDefault:1\nloginMode:0\n", want: true},
		{name: "no_password", body: "username:admin\n"},
		{name: "html", body: "<html>username: password:</html>"},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := confirmprobe.CredentialShape([]byte(tt.body)); got != tt.want {
				t.Errorf("CredentialShape(%q) = %v, want %v", tt.body, got, tt.want)
			}
		})
	}
}

func FuzzCredentialShape(f *testing.F) {
	f.Add([]byte(secret))
	f.Add([]byte("username:\npassword:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := confirmprobe.CredentialShape(b)
		if got && !strings.HasPrefix(string(b), "username:") {
			t.Errorf("shape without the username line: %q", b)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func fmtEvidence(ev []probe.Evidence) string {
	var sb strings.Builder
	for _, e := range ev {
		sb.WriteString(e.Value)
	}
	return sb.String()
}
