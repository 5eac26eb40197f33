// SPDX-License-Identifier: Apache-2.0

package tplinktest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/device/tplink"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

func load(t *testing.T) Samples {
	t.Helper()
	s, err := LoadSamples(testutil.SharedData(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDefaultStatusIsTheSample: with the default state the fake serves
// the real page byte for byte.
func TestDefaultStatusIsTheSample(t *testing.T) {
	smp := load(t)
	if got := Default().Page(tplink.PageStatus, smp, nil); !bytes.Equal(got, smp.Status) {
		t.Error("the default StatusRpm differs from the real sample")
	}
	if got := Default().Page(tplink.PageMenu, smp, nil); !bytes.Equal(got, smp.Menu) {
		t.Error("the default MenuRpm differs from the real sample")
	}
	hidden := Default().Page(tplink.PageMenu, smp, []string{tplink.PageUPnP})
	if bytes.Contains(hidden, []byte(`"UpnpCfgRpm"`)) || len(hidden) >= len(smp.Menu) {
		t.Error("a hidden page is still in the menu")
	}
}

func get(t *testing.T, r *Router, path string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+r.Addr().String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestFakeBehaviour(t *testing.T) {
	smp := load(t)
	t.Run("basic_realm", func(t *testing.T) {
		r := New(t, smp, Options{Scheme: Basic, User: "admin", Password: "pw"})
		st, h, _ := get(t, r, "/", nil)
		if st != http.StatusUnauthorized || h.Get("WWW-Authenticate") != `Basic realm="`+Realm+`"` || h.Get("Server") != "Router Webserver" {
			t.Errorf("GET / = %d %q %q", st, h.Get("WWW-Authenticate"), h.Get("Server"))
		}
	})
	t.Run("referer_required", func(t *testing.T) {
		r := New(t, smp, Options{Scheme: Basic, User: "admin", Password: "pw"})
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:pw"))
		if st, _, _ := get(t, r, "/userRpm/StatusRpm.htm", map[string]string{"Authorization": auth}); st != http.StatusForbidden {
			t.Errorf("without Referer: %d, want 403", st)
		}
		st, _, body := get(t, r, "/userRpm/StatusRpm.htm", map[string]string{"Authorization": auth,
			"Referer": "http://" + r.Addr().String() + "/userRpm/MenuRpm.htm"})
		if st != http.StatusOK || body != string(smp.Status) {
			t.Errorf("with Referer: %d", st)
		}
	})
	t.Run("cookie_unencoded_and_session", func(t *testing.T) {
		r := New(t, smp, Options{Scheme: Cookie, User: "admin", Password: "pw"})
		sum := md5.Sum([]byte("pw"))
		cookie := "Authorization=Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+hex.EncodeToString(sum[:])))
		st, _, body := get(t, r, "/userRpm/LoginRpm.htm?Save=Save", map[string]string{"Cookie": cookie})
		tok := tplink.ParseLoginReply([]byte(body))
		if st != http.StatusOK || tok == "" {
			t.Fatalf("login: %d %q", st, body)
		}
		if st, _, _ := get(t, r, "/userRpm/LoginRpm.htm?Save=Save", map[string]string{"Cookie": cookie}); st != http.StatusServiceUnavailable {
			t.Errorf("second login while the session is open: %d, want 503", st)
		}
		ref := map[string]string{"Cookie": cookie, "Referer": "http://" + r.Addr().String() + "/"}
		if _, _, body := get(t, r, "/"+tok+"/userRpm/LanDhcpServerRpm.htm", ref); !strings.Contains(body, "var DHCPPara = new Array(") {
			t.Errorf("DHCP page: %q", body)
		}
		if _, _, body := get(t, r, "/WRONGTOKEN/userRpm/LanDhcpServerRpm.htm", ref); !strings.Contains(body, "pcPassword") {
			t.Error("a wrong token does not get the login page")
		}
		get(t, r, "/"+tok+"/userRpm/LogoutRpm.htm", ref)
		if r.SessionOpen() {
			t.Error("logout left the session open")
		}
	})
	t.Run("save_needs_every_field", func(t *testing.T) {
		r := New(t, smp, Options{Scheme: Basic, User: "admin", Password: "pw"})
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:pw"))
		hdr := map[string]string{"Authorization": auth, "Referer": "http://" + r.Addr().String() + "/userRpm/LanDhcpServerRpm.htm"}
		// The DNS changer of CONFIGS.md §1.4 sends every field.
		st, _, _ := get(t, r, "/userRpm/LanDhcpServerRpm.htm?dhcpserver=1&ip1=192.168.1.100&ip2=192.168.1.199&Lease=120&gateway=0.0.0.0&domain=&dnsserver=203.0.113.7&dnsserver2=&Save=Salvar", hdr)
		if st != http.StatusOK || r.State().DHCP.DNS1 != "203.0.113.7" {
			t.Errorf("full Save: %d, DNS %q", st, r.State().DHCP.DNS1)
		}
		st, _, _ = get(t, r, "/userRpm/LanDhcpServerRpm.htm?dnsserver=198.51.100.1&Save=Save", hdr)
		if st != http.StatusBadRequest || r.State().DHCP.DNS1 != "203.0.113.7" {
			t.Errorf("partial Save: %d, DNS %q", st, r.State().DHCP.DNS1)
		}
	})
}

// TestSyntheticSamples: the stand-in pages map like the real ones where
// they copy them (firmware, hardware, LAN, WAN DNS).
func TestSyntheticSamples(t *testing.T) {
	st := Default()
	cfg, _ := tplink.Map(tplink.Pages{Bodies: st.Pages(SyntheticSamples())})
	if !cfg.Identity.Firmware.Known || !strings.HasPrefix(cfg.Identity.Firmware.Value, "3.12.5 Build 100929") ||
		!cfg.LAN.Known || cfg.LAN.Value.String() != "192.168.1.1/24" || !cfg.DHCPDNS.Known {
		t.Errorf("synthetic pages map to %+v", cfg)
	}
}
