// SPDX-License-Identifier: Apache-2.0

package audit_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
)

// probeTimeout bounds one fake device's probes: the fakes answer at
// once; the silent UDP waits (SNMP "private", 3 s) set the pace.
const probeTimeout = 10 * time.Second

func index(t *testing.T) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

// measure runs the audit probes against d.
func measure(t *testing.T, d *audittest.Device) (probe.TargetReport, *netx.Dialer) {
	t.Helper()
	dialer := probetest.Dialer(t, netx.Options{}, d.Addr)
	r := &probe.Runner{Dialer: dialer, Probes: audit.Probes(d.Ports), TargetTimeout: probeTimeout}
	return r.RunTarget(t.Context(), probe.Target{Addr: d.Addr}), dialer
}

func statuses(fs []finding.Finding, prefix string) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		if strings.HasPrefix(f.ID, prefix) {
			out[f.ID] = fmt.Sprintf("%s %s", f.Status, f.Severity)
		}
	}
	return out
}

func TestJudgeTPLinkLAN(t *testing.T) {
	t.Parallel()
	addr := netip.MustParseAddr("127.0.0.41")
	dev := audittest.TPLink(t, addr, audittest.FreePorts(t, addr))
	rep, dialer := measure(t, dev)
	opts := audit.Options{Index: index(t), Noun: "router", TargetTimeout: probeTimeout}
	d := audit.Judge(rep, opts, nil)

	if got, want := audit.Name(d.Identity), "TP-Link TL-WR841N V10"; got != want {
		t.Errorf("name %q, want %q", got, want)
	}
	if d.Subject != "router 127.0.0.41 (TP-Link TL-WR841N V10)" || !d.Answered || d.DeadlineHit {
		t.Errorf("subject %q answered %v deadline %v", d.Subject, d.Answered, d.DeadlineHit)
	}
	wantOpen := []string{"web tcp/" + port(dev, "http"), "ssh tcp/" + port(dev, "ssh"), "telnet tcp/" + port(dev, "telnet"),
		"snmp udp/" + port(dev, "snmp"), "upnp udp/" + port(dev, "ssdp"), "natpmp udp/" + port(dev, "natpmp")}
	if diff := cmp.Diff(wantOpen, d.OpenServices()); diff != "" {
		t.Errorf("open services (-want +got):\n%s", diff)
	}
	want := map[string]string{
		"exposure.telnet_open@127.0.0.41":            "fail medium",
		"exposure.snmp_default_community@127.0.0.41": "fail medium",
		"exposure.web_ui@127.0.0.41":                 "pass info",
		"exposure.upnp@127.0.0.41":                   "pass info",
	}
	got := statuses(d.Findings, "exposure.")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// The hardware version comes from the UPnP modelNumber "10.0" (a
	// low-confidence inference, rules.yaml tplink.upnp.model_number_hw):
	// V10 is end of life and affected by exploited CVEs.
	if d.Verdict() != "affected" {
		t.Errorf("verdict %s", d.Verdict())
	}
	if h := audit.Headline(&d, true); h != "Your router TP-Link TL-WR841N V10 is end of life and exploited in the wild: replace it." {
		t.Errorf("headline %q", h)
	}

	// --confirm: the request goes to the web UI, the leak is a critical
	// finding, and the credential file is nowhere in what is kept.
	c := audit.Confirm(t.Context(), dialer, &d, rep)
	d = audit.Judge(rep, opts, c)
	conf := statuses(d.Findings, "firmware.cve_2023_50224_confirmed")
	if conf["firmware.cve_2023_50224_confirmed@127.0.0.41"] != "fail critical" {
		t.Errorf("confirmation %v", conf)
	}
	if h := audit.Headline(&d, true); !strings.Contains(h, "hands out its admin password") {
		t.Errorf("headline %q", h)
	}
	steps := audit.Steps(&d)
	if len(steps) == 0 || steps[0].Title != "Change the router's admin password now" {
		t.Errorf("first step %+v", steps)
	}
	b, err := json.Marshal(struct {
		D audit.Device
		C any
	}{d, c})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), audittest.CredentialHash) || strings.Contains(string(b), "username:admin") {
		t.Error("the credential file reached the device record")
	}
	if uris := dev.RequestURIs(); !contains(uris, "/loginFs/./dropbear/dropbearpwd") {
		t.Errorf("confirming request not sent: %v", uris)
	}
}

func TestJudgeMikroTikWAN(t *testing.T) {
	t.Parallel()
	addr := netip.MustParseAddr("127.0.0.42")
	dev := audittest.MikroTik(t, addr, audittest.FreePorts(t, addr))
	rep, _ := measure(t, dev)
	d := audit.Judge(rep, audit.Options{Index: index(t), Vantage: exposure.WAN, Noun: "router", TargetTimeout: probeTimeout}, nil)
	if got := audit.Name(d.Identity); got != "MikroTik RB951Ui-2HnD" {
		t.Errorf("name %q", got)
	}
	want := map[string]string{
		"exposure.remote_management@127.0.0.42/web":     "fail high",
		"exposure.remote_management@127.0.0.42/ssh":     "fail high",
		"exposure.remote_management@127.0.0.42/winbox":  "fail high",
		"exposure.remote_management@127.0.0.42/api":     "fail high",
		"exposure.remote_management@127.0.0.42/telnet":  "pass critical",
		"exposure.remote_management@127.0.0.42/ftp":     "pass high",
		"exposure.remote_management@127.0.0.42/api-ssl": "pass high",
	}
	if diff := cmp.Diff(want, statuses(d.Findings, "exposure.remote_management")); diff != "" {
		t.Errorf("remote management (-want +got):\n%s", diff)
	}
	if got := statuses(d.Findings, "exposure.open_resolver"); got["exposure.open_resolver@127.0.0.42"] != "fail high" {
		t.Errorf("open resolver %v", got)
	}
	h := audit.Headline(&d, true)
	if !strings.Contains(h, "can be managed from the Internet") || !strings.Contains(h, "MikroTik Winbox") || !strings.Contains(h, "open DNS resolver") {
		t.Errorf("headline %q", h)
	}
	for _, s := range audit.Steps(&d) {
		if strings.Contains(s.Title, "Winbox") && !strings.Contains(s.Detail, "/ip service set winbox address=") {
			t.Errorf("Winbox step without the RouterOS command: %+v", s)
		}
	}
	// --confirm is never sent from the WAN side.
	if why := audit.ConfirmNeeded(&d); why == "" {
		t.Error("ConfirmNeeded allows the WAN side")
	}
}

func TestJudgeClosedWAN(t *testing.T) {
	t.Parallel()
	addr := netip.MustParseAddr("127.0.0.43")
	dev := audittest.Closed(t, addr, audittest.FreePorts(t, addr))
	rep, _ := measure(t, dev)
	d := audit.Judge(rep, audit.Options{Index: index(t), Vantage: exposure.WAN, TargetTimeout: probeTimeout}, nil)
	for _, f := range d.Findings {
		if strings.HasPrefix(f.CheckID, "exposure.") && f.Status != finding.StatusPass {
			t.Errorf("%s: %s (%s), want pass", f.ID, f.Status, f.Detail)
		}
	}
	if len(d.OpenServices()) != 0 {
		t.Errorf("open services %v", d.OpenServices())
	}
	if d.Verdict() != "unidentified" {
		t.Errorf("verdict %s", d.Verdict())
	}
}

func TestPorts(t *testing.T) {
	p := audit.Ports{}
	for _, s := range []string{"ssh=3322", "http=8081,8082", "winbox=18291"} {
		if err := p.ParsePort(s); err != nil {
			t.Fatalf("ParsePort(%q): %v", s, err)
		}
	}
	want := []string{"tcp/21", "tcp/23", "tcp/443", "tcp/3322", "tcp/7547", "tcp/8081", "tcp/8082", "tcp/8443", "tcp/8728", "tcp/8729", "tcp/18291",
		"udp/53", "udp/161", "udp/1900", "udp/5351"}
	if diff := cmp.Diff(want, p.List()); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"ssh", "gopher=70", "ssh=0", "ssh=x", "snmp=161,162", "http=70000"} {
		if err := (audit.Ports{}).ParsePort(bad); err == nil {
			t.Errorf("ParsePort(%q) accepted", bad)
		}
	}
	// A one-port service named twice: the second is refused, not
	// silently dropped.
	once := audit.Ports{}
	if err := once.ParsePort("snmp=1161"); err != nil {
		t.Fatal(err)
	}
	if err := once.ParsePort("snmp=2161"); err == nil {
		t.Error("a second snmp= was accepted")
	}
	if err := probe.CheckSet(audit.Probes(p)); err != nil {
		t.Errorf("probes with overrides: %v", err)
	}
}

func port(d *audittest.Device, name string) string { return fmt.Sprint(d.Ports[name][0]) }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// FuzzParsePort: any text is accepted into valid ports or refused.
func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"ssh=22", "http=80,8080", "api-ssl=8729", "snmp=1,2", "=", "ssh=65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := audit.Ports{}
		if err := p.ParsePort(s); err != nil {
			return
		}
		if err := probe.CheckSet(audit.Probes(p)); err != nil && !strings.Contains(err.Error(), "listed twice") {
			t.Errorf("ParsePort(%q) accepted ports the probes refuse: %v", s, err)
		}
	})
}
