// SPDX-License-Identifier: Apache-2.0

package openwrttest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// The fake's own behaviour, against what uhttpd and rpcd do (see the
// package doc), on the real samples.

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "router-samples", "openwrt", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, s *Server, body string) map[string]any {
	t.Helper()
	resp, err := s.srv.Client().Post(s.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func call(t *testing.T, s *Server, sid, object, method, args string) map[string]any {
	t.Helper()
	return post(t, s, `{"jsonrpc":"2.0","id":7,"method":"call","params":["`+sid+`","`+object+`","`+method+`",`+args+`]}`)
}

func errCode(r map[string]any) float64 {
	e, _ := r["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return c
}

func status(r map[string]any) float64 {
	res, _ := r["result"].([]any)
	if len(res) == 0 {
		return -1
	}
	st, _ := res[0].(float64)
	return st
}

func TestFake(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	s := New(t, Options{
		Configs:            map[string][]byte{"dhcp": sample(t, "tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-dhcp")},
		RPCD:               sample(t, "tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-rpcd"),
		SystemPasswords:    map[string]string{"root": "pw"},
		UnauthenticatedACL: sample(t, "rpcd_acl.d_unauthenticated.json"),
		Now:                now,
	})
	login := func() string {
		r := call(t, s, ZeroSession, "session", "login", `{"username":"root","password":"pw","timeout":60}`)
		res := r["result"].([]any)
		return res[1].(map[string]any)["ubus_rpc_session"].(string)
	}
	t.Run("not_json_rpc", func(t *testing.T) {
		if c := errCode(post(t, s, `{"x":1}`)); c != -32700 {
			t.Errorf("code %v", c)
		}
		if c := errCode(post(t, s, `{"jsonrpc":"2.0","id":1,"method":"call","params":["`+ZeroSession+`","session","login",{"x":"`+strings.Repeat("a", maxPost)+`"}]}`)); c != -32700 {
			t.Errorf("oversized body: code %v", c)
		}
	})
	t.Run("unauthenticated_acl", func(t *testing.T) {
		if c := errCode(call(t, s, ZeroSession, "uci", "get", `{"config":"dhcp"}`)); c != -32002 {
			t.Errorf("uci get without login: code %v", c)
		}
		if c := errCode(call(t, s, ZeroSession, "nosuch", "x", `{}`)); c != -32000 {
			t.Errorf("unknown object: code %v", c)
		}
	})
	t.Run("wrong_password", func(t *testing.T) {
		if st := status(call(t, s, ZeroSession, "session", "login", `{"username":"root","password":"nope"}`)); st != 6 {
			t.Errorf("status %v", st)
		}
	})
	t.Run("session_rpc_session_arg_refused", func(t *testing.T) {
		sid := login()
		if c := errCode(call(t, s, sid, "uci", "get", `{"config":"dhcp","ubus_rpc_session":"`+sid+`"}`)); c != -32602 {
			t.Errorf("code %v", c)
		}
	})
	t.Run("idle_timeout", func(t *testing.T) {
		sid := login()
		advance(59 * time.Second)
		if st := status(call(t, s, sid, "uci", "get", `{"config":"dhcp"}`)); st != 0 {
			t.Fatalf("status %v", st)
		}
		advance(59 * time.Second) // refreshed by the call above
		if st := status(call(t, s, sid, "uci", "get", `{"config":"dhcp"}`)); st != 0 {
			t.Fatalf("status %v after a refresh", st)
		}
		advance(61 * time.Second)
		if c := errCode(call(t, s, sid, "uci", "get", `{"config":"dhcp"}`)); c != -32002 {
			t.Errorf("expired session: code %v", c)
		}
	})
	t.Run("staged_then_rolled_back_by_timeout", func(t *testing.T) {
		sid := login()
		other := login()
		if st := status(call(t, s, sid, "uci", "set", `{"config":"dhcp","section":"lan","values":{"dhcp_option":["6,203.0.113.7"]}}`)); st != 0 {
			t.Fatalf("set: %v", st)
		}
		// The session sees its staged change; another does not.
		if !bytes.Contains(mustJSON(t, call(t, s, sid, "uci", "get", `{"config":"dhcp"}`)), []byte("203.0.113.7")) {
			t.Error("staged change not visible to its session")
		}
		if bytes.Contains(mustJSON(t, call(t, s, other, "uci", "get", `{"config":"dhcp"}`)), []byte("203.0.113.7")) {
			t.Error("staged change visible to another session")
		}
		if st := status(call(t, s, sid, "uci", "apply", `{"rollback":true,"timeout":30}`)); st != 0 {
			t.Fatalf("apply: %v", st)
		}
		if o := s.Committed("dhcp").Section("lan").Option("dhcp_option"); o == nil {
			t.Fatal("apply did not write")
		}
		if st := status(call(t, s, other, "uci", "apply", `{"rollback":true}`)); st != 6 {
			t.Errorf("second apply: %v", st)
		}
		advance(31 * time.Second)
		if o := s.Committed("dhcp").Section("lan").Option("dhcp_option"); o != nil {
			t.Error("an unconfirmed apply was not rolled back")
		}
		if s.PendingApply() {
			t.Error("still pending")
		}
	})
	t.Run("destroy", func(t *testing.T) {
		before := s.Sessions()
		sid := login()
		if st := status(call(t, s, sid, "session", "destroy", `{}`)); st != 0 {
			t.Fatalf("destroy: %v", st)
		}
		if s.Sessions() != before {
			t.Error("session not destroyed")
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFakeProxyStatus(t *testing.T) {
	s := New(t, Options{HTTPStatus: http.StatusServiceUnavailable})
	resp, err := s.srv.Client().Post(s.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestAnonymousNames: libuci's names for anonymous sections: "cfg",
// the position (1-based, two hex digits), the djb hash of the type mod
// 2^16 (computed apart, by a separate implementation). cfg01411c is the
// name stock OpenWrt's `uci show dhcp` prints for its dnsmasq section.
func TestAnonymousNames(t *testing.T) {
	p, err := load("dhcp", []byte("config dnsmasq\nconfig dhcp 'lan'\nconfig host\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Sections {
		got = append(got, s.Name)
	}
	if want := []string{"cfg01411c", "lan", "cfg03fe63"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("names %v, want %v", got, want)
	}
}
