// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/openwrttest"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// labPassword is the fake router's root password; tests check it never
// shows in a snapshot or an error.
const labPassword = "lab-Root-pass-7c1e"

var creds = device.Credentials{User: "root", Password: config.NewSecret(labPassword)}

// boardJSON is synthetic, from CONFIGS.md §4.1: the `system board`
// fields quoted there for a TL-WR841N/ND v9 on 22.03.6, assembled into
// one reply (no captured reply exists as a file).
const boardJSON = `{"kernel":"5.10.201","hostname":"OpenWrt","system":"Qualcomm Atheros QCA9533 ver 1 rev 2","model":"TP-Link TL-WR841N/ND v9","board_name":"tplink,tl-wr841-v9","rootfs_type":"squashfs","release":{"distribution":"OpenWrt","version":"22.03.6","revision":"r20265-f85a79bcb4","target":"ath79/tiny","description":"OpenWrt 22.03.6 r20265-f85a79bcb4"}}`

func loopbackDialer() *netx.Dialer {
	return netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.0/8")), netx.Options{Rate: -1})
}

// realACL is rpcd's unauthenticated.json sample.
func realACL(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir(t), "rpcd_acl.d_unauthenticated.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeRouter serves a device's real files; logins come from the real
// rpcd file of the TL-WR841N/ND (root, '$p$root', read and write '*').
func fakeRouter(t testing.TB, dev string, mod func(*openwrttest.Options)) (*openwrttest.Server, device.Target) {
	t.Helper()
	o := openwrttest.Options{
		Configs:            deviceFiles(t, dev),
		RPCD:               deviceFiles(t, wr841nd)["rpcd"],
		SystemPasswords:    map[string]string{"root": labPassword},
		UnauthenticatedACL: realACL(t),
		Board:              []byte(boardJSON),
	}
	if mod != nil {
		mod(&o)
	}
	srv := openwrttest.New(t, o)
	return srv, device.Target{Addr: srv.Addr.Addr(), Port: srv.Addr.Port()}
}

// comparable strips what differs by nature between a pull and an import
// of the same files: the adapter name and the identity (only the board
// knows it).
func comparable(t *testing.T, c device.Config) map[string]any {
	t.Helper()
	c.Identity = device.Identity{}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{NameUbus, NameBackup, NameUCI} {
		b = bytes.ReplaceAll(b, []byte(`"adapter":"`+name+`"`), []byte(`"adapter":"x"`))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPullEqualsImport(t *testing.T) {
	for dev, want := range sampleConfigs {
		t.Run(dev, func(t *testing.T) {
			srv, tgt := fakeRouter(t, dev, nil)
			snap, err := Adapter{Now: fixedClock}.Pull(t.Context(), loopbackDialer(), tgt, creds)
			if err != nil {
				t.Fatal(err)
			}
			imported, err := BackupImporter{}.Import(makeBackup(t, deviceFiles(t, dev)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(comparable(t, imported.Config), comparable(t, snap.Config)); diff != "" {
				t.Errorf("pull differs from import (-import +pull):\n%s", diff)
			}
			got := summary(&snap.Config)
			for _, k := range []string{"vendor", "model", "hardware", "firmware"} {
				delete(got, k)
			}
			wantNoID := map[string]string{}
			for k, v := range want {
				wantNoID[k] = v
			}
			for _, k := range []string{"vendor", "model", "hardware", "firmware"} {
				delete(wantNoID, k)
			}
			if diff := cmp.Diff(wantNoID, got); diff != "" {
				t.Errorf("Config (-want +got):\n%s", diff)
			}
			if snap.Adapter != NameUbus || snap.Target != tgt.Addr || !snap.TakenAt.Equal(fixedNow) {
				t.Errorf("snapshot %s %v %v", snap.Adapter, snap.Target, snap.TakenAt)
			}
			// Read-only: a login, one uci get per package, the board, a
			// logout; the session is gone.
			wantCalls := []string{"session.login"}
			for _, p := range packages {
				wantCalls = append(wantCalls, "uci.get "+p)
			}
			wantCalls = append(wantCalls, "system.board", "session.destroy")
			if diff := cmp.Diff(wantCalls, srv.Calls()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if n := srv.Sessions(); n != 0 {
				t.Errorf("%d sessions left open", n)
			}
			if len(srv.Reloads()) != 0 {
				t.Errorf("a pull wrote %v", srv.Reloads())
			}
		})
	}
}

func TestPullIdentity(t *testing.T) {
	_, tgt := fakeRouter(t, wr841nd, nil)
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(&snap.Config)
	for k, v := range map[string]string{
		"vendor":   "OpenWrt",
		"model":    "TP-Link TL-WR841N/ND v9",
		"hardware": "tplink,tl-wr841-v9",
		"firmware": "22.03.6 r20265-f85a79bcb4",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if w := snap.Config.Identity.Firmware.Source.Where; w != "system board release.version, release.revision" {
		t.Errorf("firmware from %q", w)
	}
	var names []string
	for _, a := range snap.Raw {
		names = append(names, a.Name)
	}
	want := []string{"ubus uci get dhcp", "ubus uci get network", "ubus uci get firewall", "ubus uci get uhttpd", "ubus uci get dropbear", "ubus uci get system", "ubus uci get rpcd", "ubus system board"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
}

// TestPullSecrets: a router with PPPoE credentials and a hashed rpcd
// login; nothing of them, nor the owner's password, leaves the pull.
func TestPullSecrets(t *testing.T) {
	srv, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) {
		o.Configs["network"] = []byte(pppoeNetwork)
		o.Configs["rpcd"] = []byte(rpcdHashed + "\nconfig login\n\toption username 'root'\n\toption password '$p$root'\n\tlist read '*'\n\tlist write '*'\n")
		o.RPCD = nil
	})
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{labPassword, "customer@isp.example", "pppoe-pass-Secret1", "wg-private-key-Secret2=", "hashSecret3"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("snapshot holds %q", s)
		}
	}
	for _, a := range snap.Raw {
		if a.Name == "ubus uci get network" && a.Redacted != 3 {
			t.Errorf("network: %d redacted, want 3", a.Redacted)
		}
	}
	if got := summary(&snap.Config)["admins"]; got != "[admin guest root]" {
		t.Errorf("admins %s", got)
	}
	_ = srv
}

func TestPullErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*openwrttest.Options)
		creds device.Credentials
		want  error
		text  string
	}{
		{"wrong_password", nil, device.Credentials{User: "root", Password: config.NewSecret("wrong-" + labPassword)}, device.ErrAuth, "refused"},
		{"unknown_user", nil, device.Credentials{User: "admin", Password: config.NewSecret(labPassword)}, device.ErrAuth, "refused"},
		{"not_ubus", func(o *openwrttest.Options) { o.HTTPStatus = 404 }, creds, device.ErrUnsupported, "HTTP 404"},
		{"proxy_rate_limits", func(o *openwrttest.Options) { o.HTTPStatus = 429 }, creds, device.ErrBusy, "HTTP 429"},
		{"login_not_offered", func(o *openwrttest.Options) {
			o.UnauthenticatedACL = []byte(`{"unauthenticated":{"read":{"ubus":{"session":["access"]}}}}`)
		}, creds, device.ErrUnsupported, "does not offer session login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tgt := fakeRouter(t, wdr4300, tc.mod)
			_, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, tc.creds)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Pull = %v, want %v containing %q", err, tc.want, tc.text)
			}
			if strings.Contains(err.Error(), labPassword) {
				t.Error("the error holds the password")
			}
			if n := srv.Sessions(); n != 0 {
				t.Errorf("%d sessions left open", n)
			}
		})
	}
}

func TestPullOutOfScope(t *testing.T) {
	srv, tgt := fakeRouter(t, wdr4300, nil)
	d := netx.NewDialer(target.NewScope(netip.MustParsePrefix("192.0.2.0/24")), netx.Options{})
	_, err := Adapter{}.Pull(t.Context(), d, tgt, creds)
	if !errors.Is(err, netx.ErrOutOfScope) {
		t.Fatalf("Pull = %v, want out of scope", err)
	}
	if len(srv.Calls()) != 0 {
		t.Error("a call reached the router")
	}
}

// TestPullSessionExpires: the session expires in the middle of the pull;
// the adapter logs in again once and finishes.
func TestPullSessionExpires(t *testing.T) {
	srv, tgt := fakeRouter(t, wr841nd, nil)
	srv.ExpireSessionsAfter(3)
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := srv.Logins(); ok != 2 {
		t.Errorf("%d logins, want 2", ok)
	}
	if !snap.Config.Admins.Known || !snap.Config.DHCPDNS.Known {
		t.Error("fields lost to the expiry")
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

// TestPullSessionKeepsExpiring: a session that expires at every call
// costs one new login per call, never a loop.
func TestPullSessionKeepsExpiring(t *testing.T) {
	srv, tgt := fakeRouter(t, wdr4300, nil)
	cl, err := newClient(loopbackDialer(), tgt, nil, creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.login(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.ExpireSessionsAfter(0)
	srv.ExpireSessionsAfter(0)
	_, err = cl.call(t.Context(), "uci", "get", map[string]string{"config": "dhcp"})
	if err != nil {
		t.Fatalf("call after one expiry: %v", err)
	}
	// Now make the new session die after each call: the next call is
	// denied, re-logs in once, is denied again and gives up.
	for range 2 {
		srv.ExpireSessionsAfter(1)
		cl.call(t.Context(), "uci", "get", map[string]string{"config": "dhcp"})
	}
	if ok, _ := srv.Logins(); ok > 5 {
		t.Errorf("%d logins for 3 calls", ok)
	}
}

// viewerRPCD is synthetic, from CONFIGS.md §4.1 (logins with read/write
// lists): a read-only account allowed dhcp and network only.
const viewerRPCD = `
config login
	option username 'viewer'
	option password '$p$viewer'
	list read 'ubus'
	list read 'uci-dhcp'
	list read 'uci-network'
`

func TestPullACL(t *testing.T) {
	srv, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) {
		o.RPCD = []byte(viewerRPCD)
		o.SystemPasswords = map[string]string{"viewer": "view-pass"}
	})
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, device.Credentials{User: "viewer", Password: config.NewSecret("view-pass")})
	if err != nil {
		t.Fatal(err)
	}
	got := summary(&snap.Config)
	for k, v := range map[string]string{"lan": "10.1.1.1/24", "dhcp_dns": "[10.1.1.1]", "admins": "?", "ntp": "?", "ssh": "enabled=? port=? allowed=? wan=?"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	warnings := strings.Join(snap.Warnings, "\n")
	for _, p := range []string{"firewall", "uhttpd", "dropbear", "system", "rpcd"} {
		if !strings.Contains(warnings, "the account may not read the "+p+" configuration") {
			t.Errorf("no warning for %s in %q", p, warnings)
		}
	}
	// The unauthenticated session may log in and nothing else: the real
	// ACL refuses it uci get before ubus sees the call.
	cl, err := newClient(loopbackDialer(), tgt, nil, creds)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cl.rawCall(t.Context(), zeroSID, "uci", "get", map[string]string{"config": "dhcp"})
	var re *RPCError
	if !errors.As(err, &re) || re.Code != codeAccessDenied {
		t.Errorf("uci get without a session = %v, want Access denied", err)
	}
	_ = srv
}

// TestPullDestroyRefused: an ACL without session destroy; the pull
// works, says the session is left to expire, and asked for a short
// timeout.
func TestPullDestroyRefused(t *testing.T) {
	var mu sync.Mutex
	clock := fixedNow
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	srv, tgt := fakeRouter(t, wdr4300, func(o *openwrttest.Options) { o.DenyDestroy = true; o.Now = now })
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(snap.Warnings, "\n"), "expires after 120 s idle") {
		t.Errorf("warnings %q", snap.Warnings)
	}
	if n := srv.Sessions(); n != 1 {
		t.Fatalf("%d sessions, want the one left to expire", n)
	}
	mu.Lock()
	clock = clock.Add(121 * time.Second)
	mu.Unlock()
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions after the timeout asked for", n)
	}
}

func TestPullNoBoard(t *testing.T) {
	_, tgt := fakeRouter(t, wdr4300, func(o *openwrttest.Options) { o.Board = nil })
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Config.Identity.Model.Known || !strings.Contains(strings.Join(snap.Warnings, "\n"), "system board could not be read") {
		t.Errorf("identity %+v, warnings %q", snap.Config.Identity.Model, snap.Warnings)
	}
}

func TestPullCancelled(t *testing.T) {
	_, tgt := fakeRouter(t, wdr4300, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if _, err := (Adapter{}).Pull(ctx, loopbackDialer(), tgt, creds); !errors.Is(err, context.Canceled) {
		t.Errorf("Pull = %v, want context.Canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("a cancelled pull took seconds")
	}
}

func TestDecodeReply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		st     Status
		obj    string
		rpc    int
		errMsg string
	}{
		// Shapes of uhttpd ubus.c uh_ubus_request_cb (legacy /ubus) and
		// uh_ubus_json_rpc_error; the login reply as CONFIGS.md §4.1.
		{"login", `{"jsonrpc":"2.0","id":1,"result":[0,{"ubus_rpc_session":"c1ed6c7b025d0caca723a816fa61b668","timeout":300,"expires":299,"acls":{},"data":{"username":"root"}}]}`, 0, `{"ubus_rpc_session":"c1ed6c7b025d0caca723a816fa61b668","timeout":300,"expires":299,"acls":{},"data":{"username":"root"}}`, 0, ""},
		{"status_only", `{"jsonrpc":"2.0","id":1,"result":[6]}`, 6, "", 0, ""},
		{"access_denied", `{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"Access denied"}}`, 0, "", -32002, ""},
		{"wrong_id", `{"jsonrpc":"2.0","id":2,"result":[0]}`, 0, "", 0, "request id"},
		{"not_2_0", `{"jsonrpc":"1.0","id":1,"result":[0]}`, 0, "", 0, "2.0"},
		{"html", `<html>`, 0, "", 0, "not JSON-RPC"},
		{"empty_result", `{"jsonrpc":"2.0","id":1,"result":[]}`, 0, "", 0, "0 elements"},
		{"three_results", `{"jsonrpc":"2.0","id":1,"result":[0,{},{}]}`, 0, "", 0, "3 elements"},
		{"status_not_number", `{"jsonrpc":"2.0","id":1,"result":["0"]}`, 0, "", 0, "not a ubus status"},
		{"object_not_object", `{"jsonrpc":"2.0","id":1,"result":[0,[1]]}`, 0, "", 0, "not an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, obj, rpc, err := decodeReply([]byte(tc.in), 1)
			if tc.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
					t.Fatalf("decodeReply = %v, want %q", err, tc.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st != tc.st || string(obj) != tc.obj || (rpc != nil) != (tc.rpc != 0) || (rpc != nil && rpc.Code != tc.rpc) {
				t.Errorf("decodeReply = %v %s %+v", st, obj, rpc)
			}
		})
	}
}

func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":[0,{"ubus_rpc_session":"c1ed6c7b025d0caca723a816fa61b668","timeout":300}]}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":[0,` + boardJSON + `]}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":[0,{"values":{"lan":{".anonymous":false,".type":"dhcp",".name":"lan",".index":1,"start":"100"}}}]}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"Access denied"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, obj, rpc, err := decodeReply(b, 1)
		if err != nil || rpc != nil {
			return
		}
		if st < 0 || st > 255 {
			t.Fatalf("status %d", st)
		}
		if obj == nil {
			return
		}
		// What a call returns goes to these decoders; none may panic.
		if id, err := decodeBoard(obj); err == nil {
			for _, f := range []device.Field[string]{id.Vendor, id.Model, id.Hardware, id.Firmware} {
				if len(f.Value) > maxBoardField*2 {
					t.Fatalf("board field of %d bytes", len(f.Value))
				}
			}
		}
		_, _ = decodeSIDForFuzz(obj)
	})
}

// decodeSIDForFuzz runs the login reply's decoding.
func decodeSIDForFuzz(obj []byte) (string, bool) {
	var s struct {
		SID string `json:"ubus_rpc_session"`
	}
	if json.Unmarshal(obj, &s) != nil {
		return "", false
	}
	return s.SID, validSID(s.SID)
}

func TestPullTLS(t *testing.T) {
	srv, tgt := fakeRouter(t, wdr4300, func(o *openwrttest.Options) { o.TLS = true })
	tgt.TLS = true
	// uhttpd's self-signed certificate is accepted when nothing is pinned.
	if _, err := (Adapter{}).Pull(t.Context(), loopbackDialer(), tgt, creds); err != nil {
		t.Fatal(err)
	}
	pinned := x509.NewCertPool()
	pinned.AddCert(srv.Certificate())
	if _, err := (Adapter{TLSConfig: &tls.Config{RootCAs: pinned, ServerName: "127.0.0.1"}}).Pull(t.Context(), loopbackDialer(), tgt, creds); err != nil {
		t.Fatalf("pinned: %v", err)
	}
	// Pinned to another certificate: refused in the handshake, before
	// the password is sent.
	before, _ := srv.Logins()
	_, err := (Adapter{TLSConfig: &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"}}).Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Pull with another pin = %v", err)
	}
	if after, _ := srv.Logins(); after != before {
		t.Error("a login was sent over an unverified connection")
	}
}

// BenchmarkPull measures a whole pull (login, seven uci gets, board,
// logout) against the fake on loopback: the adapter's own cost, without
// a router's.
func BenchmarkPull(b *testing.B) {
	_, tgt := fakeRouter(b, wr841nd, nil)
	d := loopbackDialer()
	for b.Loop() {
		if _, err := (Adapter{}).Pull(b.Context(), d, tgt, creds); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBackupImport(b *testing.B) {
	backup := makeBackup(b, deviceFiles(b, wdr4300))
	for b.Loop() {
		if _, err := (BackupImporter{}).Import(backup); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPullConfigErrors: a configuration rpcd cannot read costs its
// fields; none readable fails the pull.
func TestPullConfigErrors(t *testing.T) {
	_, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) { o.GetStatus = map[string]int{"firewall": 9} })
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(&snap.Config)
	if got["port_forwards"] != "?" || got["web"] != "enabled=true port=80 allowed=[] wan=?" || got["dhcp_dns"] != "[10.1.1.1]" {
		t.Errorf("forwards %s, web %s, dhcp_dns %s", got["port_forwards"], got["web"], got["dhcp_dns"])
	}
	if w := strings.Join(snap.Warnings, "\n"); !strings.Contains(w, "the firewall configuration could not be read (openwrt: ubus uci get: unknown error (9))") {
		t.Errorf("warnings %q", w)
	}
	all := map[string]int{}
	for _, p := range packages {
		all[p] = 9
	}
	srv, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) { o.GetStatus = all })
	if _, err := (Adapter{}).Pull(t.Context(), loopbackDialer(), tgt, creds); err == nil || !strings.Contains(err.Error(), "no configuration could be read") {
		t.Errorf("Pull = %v", err)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions left open after a failed pull", n)
	}
}
