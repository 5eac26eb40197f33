// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik/mikrotiktest"
)

func TestRESTPullMatchesExport(t *testing.T) {
	exported, err := mikrotik.Importer{}.Import(sample(t, lunarsaFile))
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := mikrotiktest.Certificate(t)
	for _, tc := range []struct {
		name   string
		tls    bool
		puller mikrotik.RESTPuller
	}{
		{"http", false, mikrotik.RESTPuller{}},
		{"https", true, mikrotik.RESTPuller{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c *tls.Certificate
			if tc.tls {
				c = &cert
			}
			ap := mikrotiktest.ServeHTTP(t, mikrotiktest.RESTHandler(mikrotiktest.Lunarsa(), mikrotiktest.RESTOptions{Users: users}), c)
			snap, err := tc.puller.Pull(ctxT(t), testDialer(), tgt(ap, tc.tls), creds)
			if err != nil {
				t.Fatal(err)
			}
			if n := sameAsExport(t, exported.Config, snap.Config); n < 40 {
				t.Errorf("only %d fields compared", n)
			}
			checkFields(t, snap.Config, []expect{
				{"admins", `["admin"]`, "GET /rest/user name"},
				{"dhcp_dns", `["192.168.88.1"]`, "GET /rest/ip/dhcp-server/network dns-server (.id *1)"},
				{"wan_dns", `["200.108.192.4","200.108.192.5","8.8.8.8"]`, "GET /rest/ip/dns servers (row 0)"},
			})
			if snap.Adapter != "routeros-rest" || len(snap.Warnings) != 0 {
				t.Errorf("adapter %s warnings %q", snap.Adapter, snap.Warnings)
			}
		})
	}
}

func TestRESTPullErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.Handler
		creds   device.Credentials
		want    error
	}{
		{"wrong_password", mikrotiktest.RESTHandler(mikrotiktest.Lunarsa(), mikrotiktest.RESTOptions{Users: users}),
			device.Credentials{User: "admin", Password: config.NewSecret("nope")}, device.ErrAuth},
		{"busy", mikrotiktest.RESTHandler(mikrotiktest.Lunarsa(), mikrotiktest.RESTOptions{Users: users, Busy: true}), creds, device.ErrBusy},
		{"not_routeros_404_html", http.NotFoundHandler(), creds, device.ErrUnsupported},
		{"not_routeros_200_html", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html><body>router login</body></html>"))
		}), creds, device.ErrUnsupported},
		{"redirect_is_not_followed", http.RedirectHandler("http://127.0.0.1:1/", http.StatusFound), creds, device.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ap := mikrotiktest.ServeHTTP(t, tc.handler, nil)
			_, err := mikrotik.RESTPuller{}.Pull(ctxT(t), testDialer(), tgt(ap, false), tc.creds)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestRESTMissingMenu(t *testing.T) {
	st := mikrotiktest.Lunarsa()
	st.Remove("snmp/community")
	ap := mikrotiktest.ServeHTTP(t, mikrotiktest.RESTHandler(st, mikrotiktest.RESTOptions{Users: users}), nil)
	snap, err := mikrotik.RESTPuller{}.Pull(ctxT(t), testDialer(), tgt(ap, false), creds)
	if err != nil {
		t.Fatal(err)
	}
	checkFields(t, snap.Config, []expect{{"snmp_communities", unknown, "GET /rest/snmp/community"}})
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "GET /rest/snmp/community: HTTP 404") {
		t.Errorf("warnings %q", snap.Warnings)
	}
}
