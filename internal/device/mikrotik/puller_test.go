// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik/mikrotiktest"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

const lunarsaFile = "rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-LUNARSA-EXPORT.rsc"

// testPassword is the fake's admin password; tests grep for it.
const testPassword = "Lunarsa-t3st-pass"

var (
	loopback = netip.MustParseAddr("127.0.0.1")
	users    = map[string]string{"admin": testPassword}
	creds    = device.Credentials{User: "admin", Password: config.NewSecret(testPassword)}
)

func testDialer() *netx.Dialer {
	return netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.0/8")), netx.Options{})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func tgt(ap netip.AddrPort, tls bool) device.Target {
	return device.Target{Addr: ap.Addr(), Port: ap.Port(), TLS: tls}
}

// fieldsOf flattens a Config into path → field object.
func fieldsOf(t *testing.T, cfg device.Config) map[string]map[string]any {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	json.Unmarshal(b, &v)
	out := map[string]map[string]any{}
	var walk func(string, any)
	walk = func(p string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if _, ok := m["known"]; ok {
			out[p] = m
			return
		}
		for k, x := range m {
			walk(strings.TrimPrefix(p+"."+k, "."), x)
		}
	}
	walk("", v)
	return out
}

// sameAsExport checks that every field the export knows, the pull knows
// with the same value, and returns how many fields it compared.
func sameAsExport(t *testing.T, exported, pulled device.Config) int {
	t.Helper()
	ef, pf := fieldsOf(t, exported), fieldsOf(t, pulled)
	n := 0
	for path, e := range ef {
		if e["known"] != true {
			continue
		}
		p, ok := pf[path]
		if !ok || p["known"] != true {
			t.Errorf("%s: the export knows %v, the pull does not (%v)", path, e["value"], p["source"])
			continue
		}
		if !reflect.DeepEqual(e["value"], p["value"]) {
			t.Errorf("%s: export %v, pull %v (%v)", path, e["value"], p["value"], p["source"])
		}
		n++
	}
	return n
}

// TestPullMatchesExport pulls the fake built from the LUNARSA export,
// over the API with both logins and over API-SSL, and checks the
// Config against the one the export itself gives.
func TestPullMatchesExport(t *testing.T) {
	exported, err := mikrotik.Importer{}.Import(sample(t, lunarsaFile))
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := mikrotiktest.Certificate(t)
	for _, tc := range []struct {
		name   string
		opts   mikrotiktest.Options
		tls    bool
		puller mikrotik.APIPuller
	}{
		{"api_login_6.43", mikrotiktest.Options{Users: users}, false, mikrotik.APIPuller{}},
		{"api_legacy_challenge", mikrotiktest.Options{Users: users, Legacy: true}, false, mikrotik.APIPuller{}},
		{"api_ssl_with_certificate", mikrotiktest.Options{Users: users, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, true,
			mikrotik.APIPuller{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), tc.opts)
			taken := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			tc.puller.Now = func() time.Time { return taken }
			snap, err := tc.puller.Pull(ctxT(t), testDialer(), tgt(srv.Addr, tc.tls), creds)
			if err != nil {
				t.Fatal(err)
			}
			if n := sameAsExport(t, exported.Config, snap.Config); n < 40 {
				t.Errorf("only %d fields compared", n)
			}
			// What the pull knows and the export cannot.
			checkFields(t, snap.Config, []expect{
				{"admins", `["admin"]`, "/user/print name"},
				{"services.winbox.enabled", `true`, "/ip/service/print winbox disabled (.id *7)"},
				{"services.winbox.wan", `true`, "/ip/firewall/filter/print input"},
				{"dhcp_dns", `["192.168.88.1"]`, "/ip/dhcp-server/network/print dns-server (.id *1)"},
				{"identity.firmware", `"6.49.6"`, "/system/resource/print version"},
			})
			if snap.Adapter != "routeros-api" || snap.Target != loopback || !snap.TakenAt.Equal(taken) {
				t.Errorf("snapshot %s %s %v", snap.Adapter, snap.Target, snap.TakenAt)
			}
			if len(snap.Warnings) != 0 {
				t.Errorf("warnings %q", snap.Warnings)
			}
			waitClosed(t, srv)
			if srv.Logins() != 1 || srv.Quits() != 1 {
				t.Errorf("logins %d, quits %d: want one session, logged out", srv.Logins(), srv.Quits())
			}
			for _, a := range snap.Raw {
				if strings.Contains(string(a.Body), testPassword) {
					t.Errorf("artifact %s holds the password", a.Name)
				}
			}
		})
	}
}

// waitClosed waits for the fake to see the session end.
func waitClosed(t *testing.T, srv *mikrotiktest.Server) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); srv.Open() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still open", srv.Open())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPullErrors(t *testing.T) {
	tests := []struct {
		name string
		// start returns the server's address.
		start func(t *testing.T) netip.AddrPort
		creds device.Credentials
		want  error
		// check looks at the error further.
		check func(t *testing.T, err error)
	}{
		{
			name: "wrong_password",
			start: func(t *testing.T) netip.AddrPort {
				return mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users}).Addr
			},
			creds: device.Credentials{User: "admin", Password: config.NewSecret("wrong")},
			want:  device.ErrAuth,
		},
		{
			name: "wrong_password_legacy",
			start: func(t *testing.T) netip.AddrPort {
				return mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users, Legacy: true}).Addr
			},
			creds: device.Credentials{User: "admin", Password: config.NewSecret("wrong")},
			want:  device.ErrAuth,
		},
		{
			name: "too_many_sessions",
			start: func(t *testing.T) netip.AddrPort {
				srv := mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users, MaxSessions: 1})
				holdSession(t, srv.Addr)
				return srv.Addr
			},
			creds: creds,
			want:  device.ErrBusy,
		},
		{
			name: "http_server_not_routeros",
			start: func(t *testing.T) netip.AddrPort {
				return mikrotiktest.NewServer(t, nil, mikrotiktest.Options{Handler: func(c net.Conn) {
					bufio.NewReader(c).ReadByte()
					c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				}}).Addr
			},
			creds: creds,
			want:  device.ErrUnsupported,
		},
		{
			name: "reserved_control_byte",
			start: func(t *testing.T) netip.AddrPort {
				return mikrotiktest.NewServer(t, nil, mikrotiktest.Options{Handler: func(c net.Conn) {
					bufio.NewReader(c).ReadByte()
					c.Write([]byte{0xF8, 0x00})
				}}).Addr
			},
			creds: creds,
			want:  device.ErrUnsupported,
		},
		{
			name: "closed_without_reply",
			start: func(t *testing.T) netip.AddrPort {
				return mikrotiktest.NewServer(t, nil, mikrotiktest.Options{Handler: func(c net.Conn) {}}).Addr
			},
			creds: creds,
			check: func(t *testing.T, err error) {
				if errors.Is(err, device.ErrUnsupported) || !strings.Contains(err.Error(), "closed the connection without a reply") {
					t.Errorf("err = %v, want a closed connection, not ErrUnsupported", err)
				}
			},
		},
		{
			name: "refused",
			start: func(t *testing.T) netip.AddrPort {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ap := ln.Addr().(*net.TCPAddr).AddrPort()
				ln.Close()
				return ap
			},
			creds: creds,
			check: func(t *testing.T, err error) {
				if netx.Classify(err) != netx.StatusRefused {
					t.Errorf("err = %v, want connection refused", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ap := tc.start(t)
			snap, err := mikrotik.APIPuller{}.Pull(ctxT(t), testDialer(), tgt(ap, false), tc.creds)
			if err == nil {
				t.Fatalf("no error; snapshot %v", snap)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// holdSession logs in with a raw connection and keeps the session open
// until the test ends.
func holdSession(t *testing.T, ap netip.AddrPort) {
	t.Helper()
	c, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Write(mikrotiktest.EncodeSentence("/login", "=name=admin", "=password="+testPassword))
	words, err := mikrotiktest.ReadSentence(bufio.NewReader(c))
	if err != nil || len(words) == 0 || words[0] != "!done" {
		t.Fatalf("holding session: %q %v", words, err)
	}
}

// TestPullHonoursDeadline: a router that accepts and never answers does
// not hang the pull beyond the context's deadline.
func TestPullHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := mikrotiktest.NewServer(t, nil, mikrotiktest.Options{Handler: func(c net.Conn) { <-release }})
	// Cleanups run last first: release the handlers before the server
	// waits for them.
	t.Cleanup(func() { close(release) })
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := mikrotik.APIPuller{}.Pull(ctx, testDialer(), tgt(srv.Addr, false), creds)
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want the context's error", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestAPISSLWithoutCertificate: a router whose api-ssl has no
// certificate answers Go's ClientHello with a handshake-failure alert
// (it offers only anonymous DH suites); the error says why.
func TestAPISSLWithoutCertificate(t *testing.T) {
	srv := mikrotiktest.NewServer(t, nil, mikrotiktest.Options{Handler: func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		// An alert record: fatal (2), handshake_failure (40).
		c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
	}})
	_, err := mikrotik.APIPuller{}.Pull(ctxT(t), testDialer(), tgt(srv.Addr, true), creds)
	if !errors.Is(err, mikrotik.ErrNoCertificate) {
		t.Errorf("err = %v, want ErrNoCertificate", err)
	}

	// A certificate that does not verify is not that case.
	cert, _ := mikrotiktest.Certificate(t)
	srv2 := mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	_, err = mikrotik.APIPuller{}.Pull(ctxT(t), testDialer(), tgt(srv2.Addr, true), creds)
	var cv *tls.CertificateVerificationError
	if err == nil || errors.Is(err, mikrotik.ErrNoCertificate) || !errors.As(err, &cv) {
		t.Errorf("err = %v, want a certificate verification error", err)
	}
	if srv2.Logins() != 0 {
		t.Error("the password was sent over an unverified connection")
	}
}

// TestPullOutOfScope: the dialer's scope is enforced.
func TestPullOutOfScope(t *testing.T) {
	d := netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.2/32")), netx.Options{})
	_, err := mikrotik.APIPuller{}.Pull(ctxT(t), d, device.Target{Addr: loopback, Port: 1}, creds)
	if !errors.Is(err, netx.ErrOutOfScope) {
		t.Errorf("err = %v, want ErrOutOfScope", err)
	}
}

// TestPullMissingMenu: a menu the router refuses is unknown with a
// warning, the rest is read.
func TestPullMissingMenu(t *testing.T) {
	st := mikrotiktest.Lunarsa()
	st.Remove("ip/upnp")
	srv := mikrotiktest.NewServer(t, st, mikrotiktest.Options{Users: users})
	snap, err := mikrotik.APIPuller{}.Pull(ctxT(t), testDialer(), tgt(srv.Addr, false), creds)
	if err != nil {
		t.Fatal(err)
	}
	checkFields(t, snap.Config, []expect{
		{"services.upnp.enabled", unknown, "/ip/upnp/print enabled"},
		{"dhcp_dns", `["192.168.88.1"]`, "/ip/dhcp-server/network/print"},
	})
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "/ip/upnp/print: no such command prefix") {
		t.Errorf("warnings %q", snap.Warnings)
	}
}

func TestPullNoSecretOnTheWireButLogin(t *testing.T) {
	srv := mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users, Legacy: true})
	if _, err := (mikrotik.APIPuller{}).Pull(ctxT(t), testDialer(), tgt(srv.Addr, false), creds); err != nil {
		t.Fatal(err)
	}
	// The legacy router gets the first, modern /login (with the
	// password, as go-routeros and RouterOS's own clients send it) and
	// then only the md5 response.
	n := 0
	for _, w := range srv.Words() {
		if strings.Contains(w, testPassword) {
			n++
			if w != "=password="+testPassword {
				t.Errorf("password in word %q", w)
			}
		}
	}
	if n != 1 {
		t.Errorf("password sent %d times, want once", n)
	}
}

// TestPullRedacts: a non-default community and an SNMPv3 password never
// reach the Config or the raw artifacts.
func TestPullRedacts(t *testing.T) {
	st := mikrotiktest.Lunarsa()
	st.Add("snmp/community", map[string]string{"name": "n0t-public", "addresses": "192.168.88.0/24",
		"authentication-password": "v3-s3cret", "read-access": "true", "disabled": "false"})
	srv := mikrotiktest.NewServer(t, st, mikrotiktest.Options{Users: users})
	snap, err := mikrotik.APIPuller{}.Pull(ctxT(t), testDialer(), tgt(srv.Addr, false), creds)
	if err != nil {
		t.Fatal(err)
	}
	checkFields(t, snap.Config, []expect{{"snmp_communities", `["public","configured-1"]`, "/snmp/community/print name"}})
	all, _ := json.Marshal(snap)
	for _, secret := range []string{"n0t-public", "v3-s3cret", testPassword} {
		if strings.Contains(string(all), secret) {
			t.Errorf("the snapshot holds %q", secret)
		}
	}
	for _, a := range snap.Raw {
		if a.Name == "/snmp/community/print" && a.Redacted != 2 {
			t.Errorf("%s: %d redacted, want 2", a.Name, a.Redacted)
		}
	}
}
