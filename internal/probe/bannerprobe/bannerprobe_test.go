// SPDX-License-Identifier: Apache-2.0

package bannerprobe_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
)

var addr = netip.MustParseAddr("127.0.0.1")

// say returns a handler that writes msg, then reads what the client sends
// (recording it) until the client closes or a second passes.
func say(msg string, got *bytes.Buffer, mu *sync.Mutex) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(c)
		if got != nil {
			mu.Lock()
			got.Write(b)
			mu.Unlock()
		}
	}
}

func mikrotikTelnet(t *testing.T) string {
	t.Helper()
	// A recog telnet_banners.xml example (base64 there because of CR/LF).
	b, err := base64.StdEncoding.DecodeString("TWlrcm9UaWsgdjYuNDIuMyAoc3RhYmxlKQ0KTG9naW46Cg==")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name       string
		service    string
		handler    func(net.Conn)
		closed     bool
		wantStatus netx.Status
		wantErr    bool
		want       bannerprobe.Endpoint // compared without Exchange timing
		wantSent   string               // what the client must have written
		wantEv     []probe.Evidence
	}{
		{
			name: "ssh_dropbear", service: bannerprobe.ServiceSSH,
			handler:    say("SSH-2.0-dropbear_2022.83\r\n", nil, nil),
			wantStatus: netx.StatusOK,
			want:       bannerprobe.Endpoint{Service: "ssh", Banner: "SSH-2.0-dropbear_2022.83", SSH: &bannerprobe.SSHIdent{Proto: "2.0", Software: "dropbear_2022.83"}},
			wantEv:     []probe.Evidence{{Probe: "banner", Field: probe.FieldSSHBanner, Value: "dropbear_2022.83"}},
		},
		{
			name: "ssh_routeros_after_preamble", service: bannerprobe.ServiceSSH,
			handler:    say("please wait\r\nSSH-2.0-ROSSSH\r\n", nil, nil),
			wantStatus: netx.StatusOK,
			want:       bannerprobe.Endpoint{Service: "ssh", Banner: "SSH-2.0-ROSSSH", SSH: &bannerprobe.SSHIdent{Proto: "2.0", Software: "ROSSSH"}},
			wantEv:     []probe.Evidence{{Probe: "banner", Field: probe.FieldSSHBanner, Value: "ROSSSH"}},
		},
		{
			name: "ssh_with_comments", service: bannerprobe.ServiceSSH,
			handler:    say("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", nil, nil),
			wantStatus: netx.StatusOK,
			want:       bannerprobe.Endpoint{Service: "ssh", Banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", SSH: &bannerprobe.SSHIdent{Proto: "2.0", Software: "OpenSSH_9.2p1", Comments: "Debian-2+deb12u3"}},
			wantEv:     []probe.Evidence{{Probe: "banner", Field: probe.FieldSSHBanner, Value: "OpenSSH_9.2p1 Debian-2+deb12u3"}},
		},
		{
			name: "ssh_garbage", service: bannerprobe.ServiceSSH,
			handler:    probetest.Garbage(16 << 10),
			wantStatus: netx.StatusProtocol, wantErr: true,
			want: bannerprobe.Endpoint{Service: "ssh", Partial: true},
		},
		{
			name: "ssh_silent_close", service: bannerprobe.ServiceSSH,
			handler:    func(net.Conn) {},
			wantStatus: netx.StatusProtocol, wantErr: true,
			want: bannerprobe.Endpoint{Service: "ssh"},
		},
		{
			name: "telnet_busybox_negotiation_refused", service: bannerprobe.ServiceTelnet,
			handler:    say("\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03\r\nrouterwatch lab\r\nLogin: ", nil, nil),
			wantStatus: netx.StatusOK,
			want: bannerprobe.Endpoint{Service: "telnet", Banner: "\r\nrouterwatch lab\r\nLogin: ", Prompt: "login",
				TelnetOptions: []string{"DO 1", "DO 31", "WILL 1", "WILL 3"}},
			wantSent: "\xff\xfc\x01\xff\xfc\x1f\xff\xfe\x01\xff\xfe\x03",
			wantEv:   []probe.Evidence{{Probe: "banner", Field: probe.FieldTelnetBanner, Value: "routerwatch lab\r\nLogin:"}},
		},
		{
			name: "telnet_banner_then_close", service: bannerprobe.ServiceTelnet,
			handler:    func(c net.Conn) { c.Write([]byte("Too many users\r\n")) },
			wantStatus: netx.StatusOK,
			want:       bannerprobe.Endpoint{Service: "telnet", Banner: "Too many users\r\n"},
		},
		{
			name: "ftp_tplink_quit_sent", service: bannerprobe.ServiceFTP,
			handler:    say("220 Welcome to TP-LINK FTP server\r\n", nil, nil),
			wantStatus: netx.StatusOK,
			want: bannerprobe.Endpoint{Service: "ftp", Banner: "220 Welcome to TP-LINK FTP server\r\n",
				FTP: &bannerprobe.FTPGreeting{Code: 220, Lines: []string{"Welcome to TP-LINK FTP server"}}},
			wantSent: "QUIT\r\n",
			wantEv:   []probe.Evidence{{Probe: "banner", Field: probe.FieldFTPBanner, Value: "Welcome to TP-LINK FTP server"}},
		},
		{
			name: "ftp_multiline", service: bannerprobe.ServiceFTP,
			handler:    say("220-MikroTik\r\n note\r\n220 example.com FTP server (MikroTik 6.18) ready\r\n", nil, nil),
			wantStatus: netx.StatusOK,
			want: bannerprobe.Endpoint{Service: "ftp", Banner: "220-MikroTik\r\n note\r\n220 example.com FTP server (MikroTik 6.18) ready\r\n",
				FTP: &bannerprobe.FTPGreeting{Code: 220, Lines: []string{"MikroTik", " note", "example.com FTP server (MikroTik 6.18) ready"}}},
			wantSent: "QUIT\r\n",
		},
		{
			name: "ftp_not_ftp", service: bannerprobe.ServiceFTP,
			handler:    say("SSH-2.0-x\r\n", nil, nil),
			wantStatus: netx.StatusProtocol, wantErr: true,
			want: bannerprobe.Endpoint{Service: "ftp", Banner: "SSH-2.0-x\r\n", Partial: true},
		},
		{
			name: "raw_banner", service: bannerprobe.ServiceRaw,
			handler:    say("RFB 003.008\n", nil, nil),
			wantStatus: netx.StatusOK,
			want:       bannerprobe.Endpoint{Service: "raw", Banner: "RFB 003.008\n"},
			wantEv:     []probe.Evidence{{Probe: "banner", Field: probe.FieldRawBanner, Value: "RFB 003.008"}},
		},
		{
			name: "closed", service: bannerprobe.ServiceTelnet, closed: true,
			wantStatus: netx.StatusRefused,
			want:       bannerprobe.Endpoint{Service: "telnet"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				sent bytes.Buffer
				mu   sync.Mutex
				port uint16
			)
			h := tc.handler
			if tc.wantSent != "" {
				h = func(c net.Conn) {
					tc.handler(&recordConn{Conn: c, w: &sent, mu: &mu})
				}
			}
			if tc.closed {
				port = probetest.ClosedPort(t, addr)
			} else {
				port = probetest.ServeTCP(t, addr, h)
			}
			p := &bannerprobe.Prober{}
			switch tc.service {
			case bannerprobe.ServiceSSH:
				p.SSHPorts = []uint16{port}
			case bannerprobe.ServiceTelnet:
				p.TelnetPorts = []uint16{port}
			case bannerprobe.ServiceFTP:
				p.FTPPorts = []uint16{port}
			default:
				p.RawPorts = []uint16{port}
			}
			obs, err := p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
			if (err != nil) != tc.wantErr {
				t.Errorf("Measure error %v, want error %v", err, tc.wantErr)
			}
			ep := obs.Endpoints[0]
			if ep.Status != tc.wantStatus {
				t.Errorf("status %s (%s), want %s", ep.Status, ep.Error, tc.wantStatus)
			}
			got := ep
			got.Exchange = probe.Exchange{}
			if tc.name == "ssh_garbage" {
				got.Banner = "" // the garbage itself
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endpoint (-want +got):\n%s", diff)
			}
			if tc.wantEv != nil {
				if diff := cmp.Diff(tc.wantEv, obs.Evidence(), cmp.Transformer("w", func(e probe.Evidence) probe.Evidence { e.Where = ""; return e })); diff != "" {
					t.Errorf("evidence (-want +got):\n%s", diff)
				}
			}
			if tc.wantSent != "" {
				// The server reads for up to a second after the probe closed.
				deadline := time.Now().Add(2 * time.Second)
				for {
					mu.Lock()
					s := sent.String()
					mu.Unlock()
					if strings.Contains(s, tc.wantSent) || time.Now().After(deadline) {
						if !strings.Contains(s, tc.wantSent) {
							t.Errorf("client sent %q, want %q", s, tc.wantSent)
						}
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
}

// recordConn copies what the server reads into w.
type recordConn struct {
	net.Conn
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (c *recordConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.w.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func TestMikroTikTelnetBanner(t *testing.T) {
	port := probetest.ServeTCP(t, addr, say(mikrotikTelnet(t), nil, nil))
	p := &bannerprobe.Prober{TelnetPorts: []uint16{port}}
	obs, err := p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	want := []probe.Evidence{{Probe: "banner", Field: probe.FieldTelnetBanner, Value: "MikroTik v6.42.3 (stable)\r\nLogin:",
		Where: netip.AddrPortFrom(addr, port).String()}}
	if diff := cmp.Diff(want, obs.Evidence()); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func TestSlowDripEndsAtDeadline(t *testing.T) {
	drip := probetest.SlowDrip([]byte("SSH-2.0-"+strings.Repeat("x", 100)+"\r\n"), time.Second)
	p := &bannerprobe.Prober{
		SSHPorts:    []uint16{probetest.ServeTCP(t, addr, drip)},
		TelnetPorts: []uint16{probetest.ServeTCP(t, addr, probetest.SlowDrip([]byte(strings.Repeat("y", 100)), time.Second))},
		FTPPorts:    []uint16{probetest.ServeTCP(t, addr, probetest.SlowDrip([]byte("220 "+strings.Repeat("z", 100)), time.Second))},
		RawPorts:    []uint16{probetest.ServeTCP(t, addr, probetest.SlowDrip(bytes.Repeat([]byte("w"), 100), 500*time.Millisecond))},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	obs, err := p.Measure(ctx, probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("Measure took %v past a 2 s deadline", d)
	}
	// Telnet ends quietly after its idle gap (a partial banner is an
	// answer); the others must report the timeout.
	if err != nil {
		t.Logf("Measure: %v", err)
	}
	for _, ep := range obs.Endpoints {
		if ep.Service == bannerprobe.ServiceTelnet {
			continue
		}
		if ep.Status != netx.StatusTimeout || !ep.Partial {
			t.Errorf("%s: status %s partial %v, want a partial timeout", ep.Service, ep.Status, ep.Partial)
		}
	}
}
