// SPDX-License-Identifier: Apache-2.0

package dnsprobe_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

// secret is a password that must never appear in anything shown.
const secret = "s3cret-Pa55"

// TestDoHCredentials: credentials in a DoH URL are sent (HTTP Basic) to
// the server that needs them, and appear in no printed form of the
// server: not in URL, String, an exchange error or a parse error
// (issue 8 §5.3: they were printed in reports and logs).
func TestDoHCredentials(t *testing.T) {
	ca := dnsprobetest.NewCA(t)
	doh := dnsprobetest.NewDoHAuth(t, ca, honestZone(t), "alice", secret)
	withAuth := strings.Replace(doh.URL, "https://", "https://alice:"+secret+"@", 1)
	srv, err := dnsprobe.ParseDoH(withAuth + "#resolver.example.net")
	if err != nil {
		t.Fatal(err)
	}
	srv.ServerName = "" // the fake's certificate names its address
	srv.RootCAs = ca.Pool()
	for what, s := range map[string]string{"URL": srv.URL, "String": srv.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, "alice") {
			t.Errorf("%s %q shows the credentials", what, s)
		}
	}
	if want := strings.Replace(doh.URL, "https://", "https://***@", 1); srv.String() != want {
		t.Errorf("String %q, want %q (credentials marked, not shown)", srv.String(), want)
	}
	c := dnsprobe.NewClient(loopbackDialer())
	r, err := c.Exchange(t.Context(), srv, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
	if err != nil || len(r.Addrs) == 0 {
		t.Fatalf("exchange with credentials: %v, %v; want the answer", r, err)
	}
	// Without them the server refuses, and the error names the server
	// without credentials.
	bare, err := dnsprobe.ParseDoH(strings.Replace(withAuth, "alice:"+secret+"@", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	bare.RootCAs = ca.Pool()
	if _, err := c.Exchange(t.Context(), bare, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("exchange without credentials: %v, want HTTP status 401", err)
	}
	// A failing exchange with credentials (wrong password) says why
	// without them.
	wrong, err := dnsprobe.ParseDoH(strings.Replace(withAuth, secret, secret+"x", 1))
	if err != nil {
		t.Fatal(err)
	}
	wrong.RootCAs = ca.Pool()
	_, err = c.Exchange(t.Context(), wrong, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "alice") {
		t.Errorf("exchange with a wrong password: %v, want an error without the credentials", err)
	}
}

// TestParseDoHErrorsHideCredentials: every refusal of a DoH URL quotes
// it with the credentials replaced.
func TestParseDoHErrorsHideCredentials(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{name: "http", in: "http://alice:" + secret + "@192.0.2.53/dns-query"},
		{name: "host_name", in: "https://alice:" + secret + "@dns.example.net/dns-query"},
		{name: "bad_port", in: "https://alice:" + secret + "@192.0.2.53:99999/dns-query"},
		{name: "unparsable", in: "https://alice:" + secret + "@192.0.2.53:%zz/dns-query"},
		{name: "no_scheme", in: "alice:" + secret + "@192.0.2.53/dns-query"},
		{name: "slash_in_password", in: "https://alice:" + secret + "/x@192.0.2.53/dns-query"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dnsprobe.ParseDoH(tt.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "alice") {
				t.Errorf("error %q shows the credentials", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://192.0.2.53/dns-query", "https://192.0.2.53/dns-query"},
		{"https://u:p@192.0.2.53/dns-query#name", "https://***@192.0.2.53/dns-query#name"},
		{"https://u@192.0.2.53/", "https://***@192.0.2.53/"},
		{"u:p@192.0.2.53:853", "***@192.0.2.53:853"},
		{"https://u:p/q@192.0.2.53/dns-query", "https://***@192.0.2.53/dns-query"},
		{"https://192.0.2.53/dns-query?a=b@c", "https://192.0.2.53/dns-query?a=b@c"},
		{"", ""},
	} {
		if got := dnsprobe.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
