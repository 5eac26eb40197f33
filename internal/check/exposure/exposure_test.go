// SPDX-License-Identifier: Apache-2.0

package exposure

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/tr069probe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
	"github.com/routerwatch/routerwatch/internal/probeset"
)

var addr = netip.MustParseAddr("192.0.2.1")

// Port states as the probes record them.
func answered(port uint16) probe.Exchange {
	return probe.Exchange{Port: port, Open: true, Status: netx.StatusOK}
}
func refused(port uint16) probe.Exchange {
	return probe.Exchange{Port: port, Status: netx.StatusRefused, Error: "connect: connection refused"}
}
func timedOut(port uint16) probe.Exchange {
	return probe.Exchange{Port: port, Status: netx.StatusTimeout, Error: "i/o timeout"}
}
func openSilent(port uint16) probe.Exchange {
	return probe.Exchange{Port: port, Open: true, Status: netx.StatusTimeout, Error: "read: i/o timeout"}
}
func openGarbage(port uint16) probe.Exchange {
	return probe.Exchange{Port: port, Open: true, Status: netx.StatusProtocol, Error: "peer answered outside the protocol"}
}

// device describes one device's probe results compactly.
type device struct {
	web      map[uint16]probe.Exchange // port → exchange; answered ones get a 401 response
	ssh      probe.Exchange
	telnet   probe.Exchange
	ftp      probe.Exchange
	snmp     []snmpprobe.Community
	ssdp     probe.Exchange
	natpmp   probe.Exchange
	pcp      probe.Exchange
	tr069    probe.Exchange
	trAuth   bool
	winbox   probe.Exchange
	api      probe.Exchange
	apiSSL   probe.Exchange
	dns      probe.Exchange
	dnsRcode string // the rcode of a valid reply to the recursive question ("" = none)
	dnsRA    bool
	panicked string // probe ID that returned no observation
	// telnetNoise makes the telnet port answer binary noise.
	telnetNoise bool
}

func (d device) results() []probe.Result {
	httpObs := &httpprobe.Observation{Addr: addr}
	for _, port := range []uint16{80, 443, 8080, 8443} {
		x, ok := d.web[port]
		if !ok {
			x = refused(port)
		}
		ep := httpprobe.Endpoint{Exchange: x, Scheme: "http"}
		if x.Status == netx.StatusOK {
			ep.Response = &httpfp.Response{StatusCode: 401, Server: "Router Webserver",
				Challenges: []httpfp.Challenge{{Scheme: "Basic", Realm: "TP-LINK Wireless N Router WR841N"}}}
		}
		httpObs.Endpoints = append(httpObs.Endpoints, ep)
	}
	ssh := bannerprobe.Endpoint{Exchange: d.ssh, Service: bannerprobe.ServiceSSH}
	if d.ssh.Status == netx.StatusOK {
		ssh.SSH = &bannerprobe.SSHIdent{Proto: "2.0", Software: "dropbear_2022.83"}
		ssh.Banner = "SSH-2.0-dropbear_2022.83"
	}
	telnet := bannerprobe.Endpoint{Exchange: d.telnet, Service: bannerprobe.ServiceTelnet}
	switch {
	case d.telnetNoise:
		// Random bytes read as ISO-8859-1, as the hostile device sends.
		telnet.Banner = "Ùz÷Cö.9ªR]ei6Íµ>3ÅÑ~QN¤ÂÎ¿^Ð²Ëuæß¾aØµÏ)Ûn )Õ{¯Ê{¾C)/t0¹Hóèn°X"
	case d.telnet.Status == netx.StatusOK:
		telnet.Banner, telnet.Prompt = "TP-LINK Wireless N Router WR841N\nlogin: ", "login"
	}
	banner := &bannerprobe.Observation{Addr: addr, Endpoints: []bannerprobe.Endpoint{ssh, telnet,
		{Exchange: d.ftp, Service: bannerprobe.ServiceFTP}}}
	snmp := &snmpprobe.Observation{Addr: addr, Port: 161, Communities: d.snmp}
	up := &upnpprobe.Observation{Addr: addr, SSDP: upnpprobe.SSDP{Exchange: d.ssdp},
		NATPMP: upnpprobe.NATPMP{Exchange: d.natpmp}, PCP: upnpprobe.PCP{Exchange: d.pcp}}
	if d.ssdp.Status == netx.StatusOK {
		up.SSDP.Responses = []upnpprobe.SSDPResponse{{Server: "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1", Status: 200}}
	}
	if d.natpmp.Status == netx.StatusOK {
		up.NATPMP.Answered, up.NATPMP.ExternalAddr = true, netip.MustParseAddr("198.51.100.2")
	}
	tr := &tr069probe.Observation{Addr: addr, Endpoints: []tr069probe.Endpoint{{Exchange: d.tr069}}}
	if d.tr069.Status == netx.StatusOK {
		r := &httpfp.Response{StatusCode: 200}
		if d.trAuth {
			r = &httpfp.Response{StatusCode: 401, Challenges: []httpfp.Challenge{{Scheme: "Digest", Realm: "IGD"}}}
		}
		tr.Endpoints[0].Response = r
	}
	mt := &mikrotikprobe.Observation{Addr: addr, Winbox: &mikrotikprobe.Port{Exchange: d.winbox},
		API:    &mikrotikprobe.Port{Exchange: d.api, RouterOS: d.api.Status == netx.StatusOK, Reply: []string{"!fatal", "session terminated on request"}},
		APISSL: &mikrotikprobe.Port{Exchange: d.apiSSL}}
	dnsObs := &dnsprobe.Observation{Addr: addr, Port: 53, Recursive: dnsprobe.Answer{Exchange: d.dns, Question: "example.com. A"},
		VersionBind: dnsprobe.Answer{Exchange: d.dns, Question: "version.bind. CH TXT"}}
	if d.dnsRcode != "" {
		dnsObs.Recursive.Answered, dnsObs.Recursive.Rcode, dnsObs.Recursive.RA = true, d.dnsRcode, d.dnsRA
		if d.dnsRcode == "NOERROR" {
			dnsObs.Recursive.Addrs = []netip.Addr{netip.MustParseAddr("192.0.2.80")}
		}
		dnsObs.VersionBind.Answered, dnsObs.VersionBind.Rcode, dnsObs.VersionBind.Text = true, "NOERROR", "dnsmasq-2.90"
	}
	dnsObs.Recursion, dnsObs.RecursionWhy = dnsprobe.RecursionOf(dnsObs.Recursive)
	var out []probe.Result
	for _, o := range []probe.Observation{httpObs, up, banner, snmp, tr, mt, dnsObs} {
		r := probe.Result{Target: probe.Target{Addr: addr}, ProbeID: o.ProbeID(), Observation: o, Status: netx.StatusOK}
		if o.ProbeID() == d.panicked {
			// What the Runner reports for a probe that returned nothing:
			// its declared services, unknown, with the error.
			r.Status, r.Err = netx.StatusError, &probe.Error{Probe: o.ProbeID(), Status: netx.StatusError, Err: errors.New("probe panicked: boom")}
			for _, p := range probeset.Default() {
				if p.ID() == o.ProbeID() {
					r.Observation = probe.NoneFor(p, r.Status, r.Err)
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// closedDevice refuses everything (the hardened scenario from the WAN).
func closedDevice() device {
	return device{ssh: refused(22), telnet: refused(23), ftp: refused(21),
		snmp: []snmpprobe.Community{{Name: "public", Exchange: refused(161)}, {Name: "private", Exchange: refused(161)}},
		ssdp: timedOut(1900), natpmp: refused(5351), pcp: refused(5351), tr069: refused(7547),
		winbox: refused(8291), api: refused(8728), apiSSL: refused(8729), dns: refused(53)}
}

func tplinkLAN() device {
	d := closedDevice()
	d.web = map[uint16]probe.Exchange{80: answered(80)}
	d.ssh, d.telnet = answered(22), answered(23)
	d.snmp = []snmpprobe.Community{{Name: "public", Answered: true, SysDescr: "TL-WR841N", Exchange: answered(161)},
		{Name: "private", Exchange: timedOut(161)}}
	d.ssdp, d.natpmp, d.pcp = answered(1900), answered(5351), timedOut(5351)
	d.dns, d.dnsRcode, d.dnsRA = answered(53), "NOERROR", true
	return d
}

func mikrotikWAN() device {
	d := closedDevice()
	d.web = map[uint16]probe.Exchange{80: answered(80)}
	d.ssh, d.winbox, d.api = answered(22), answered(8291), openSilent(8728)
	d.snmp = []snmpprobe.Community{{Name: "public", Exchange: timedOut(161)}, {Name: "private", Exchange: timedOut(161)}}
	d.dns, d.dnsRcode, d.dnsRA = answered(53), "NOERROR", true
	return d
}

func silentDevice() device {
	d := device{web: map[uint16]probe.Exchange{80: timedOut(80), 443: timedOut(443), 8080: timedOut(8080), 8443: timedOut(8443)},
		ssh: timedOut(22), telnet: timedOut(23), ftp: timedOut(21),
		snmp: []snmpprobe.Community{{Name: "public", Exchange: timedOut(161)}, {Name: "private", Exchange: timedOut(161)}},
		ssdp: timedOut(1900), natpmp: timedOut(5351), pcp: timedOut(5351), tr069: timedOut(7547),
		winbox: timedOut(8291), api: timedOut(8728), apiSSL: timedOut(8729), dns: timedOut(53)}
	return d
}

// summary renders findings as "id: status severity confidence".
func summary(fs []finding.Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[strings.TrimPrefix(f.ID, "")] = fmt.Sprintf("%s %s %s", f.Status, f.Severity, f.Confidence)
	}
	return out
}

func TestJudge(t *testing.T) {
	id := func(check string, key ...string) string {
		s := check + "@192.0.2.1"
		if len(key) > 0 {
			s += "/" + key[0]
		}
		return s
	}
	tests := []struct {
		name    string
		dev     device
		vantage Vantage
		vendor  string
		hit     bool
		want    map[string]string
	}{
		{name: "tplink_lan", dev: tplinkLAN(), vantage: LAN, vendor: "TP-Link", want: map[string]string{
			id("exposure.device_reachable"):       "pass info high",
			id("exposure.web_ui"):                 "pass info high",
			id("exposure.ssh"):                    "pass info high",
			id("exposure.telnet_open"):            "fail medium high",
			id("exposure.ftp_open"):               "pass low high",
			id("exposure.snmp_default_community"): "fail medium high",
			id("exposure.upnp"):                   "pass info high",
			id("exposure.natpmp"):                 "pass info high",
			id("exposure.tr069"):                  "pass info high",
			id("exposure.winbox_open"):            "pass info high",
			id("exposure.routeros_api"):           "pass low high",
			id("exposure.dns_service"):            "pass info high",
		}},
		{name: "mikrotik_wan", dev: mikrotikWAN(), vantage: WAN, vendor: "MikroTik", want: map[string]string{
			id("exposure.device_reachable"):             "pass info high",
			id("exposure.remote_management", "web"):     "fail high high",
			id("exposure.remote_management", "ssh"):     "fail high high",
			id("exposure.remote_management", "telnet"):  "pass critical high",
			id("exposure.remote_management", "ftp"):     "pass high high",
			id("exposure.remote_management", "winbox"):  "fail high high",
			id("exposure.remote_management", "api"):     "fail high low",
			id("exposure.remote_management", "api-ssl"): "pass high high",
			id("exposure.snmp_default_community"):       "pass high medium",
			id("exposure.upnp_wan"):                     "pass high medium",
			id("exposure.natpmp_wan"):                   "pass high high",
			id("exposure.tr069_wan"):                    "pass low high",
			id("exposure.open_resolver"):                "fail high high",
		}},
		{name: "hardened_wan", dev: closedDevice(), vantage: WAN, want: map[string]string{
			id("exposure.device_reachable"):             "pass info high",
			id("exposure.remote_management", "web"):     "pass high high",
			id("exposure.remote_management", "ssh"):     "pass high high",
			id("exposure.remote_management", "telnet"):  "pass critical high",
			id("exposure.remote_management", "ftp"):     "pass high high",
			id("exposure.remote_management", "winbox"):  "pass high high",
			id("exposure.remote_management", "api"):     "pass high high",
			id("exposure.remote_management", "api-ssl"): "pass high high",
			id("exposure.snmp_default_community"):       "pass high high",
			id("exposure.upnp_wan"):                     "pass high medium",
			id("exposure.natpmp_wan"):                   "pass high high",
			id("exposure.tr069_wan"):                    "pass low high",
			id("exposure.open_resolver"):                "pass high high",
		}},
		{name: "silent_lan", dev: silentDevice(), vantage: LAN, want: map[string]string{
			id("exposure.device_reachable"):       "unknown info high",
			id("exposure.web_ui"):                 "unknown info high",
			id("exposure.ssh"):                    "unknown info high",
			id("exposure.telnet_open"):            "unknown medium high",
			id("exposure.ftp_open"):               "unknown low high",
			id("exposure.snmp_default_community"): "unknown medium high",
			id("exposure.upnp"):                   "unknown info high",
			id("exposure.natpmp"):                 "unknown info high",
			id("exposure.tr069"):                  "unknown info high",
			id("exposure.winbox_open"):            "unknown info high",
			id("exposure.routeros_api"):           "unknown low high",
			id("exposure.dns_service"):            "unknown info high",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Judge(Input{Target: probe.Target{Addr: addr}, Vantage: tt.vantage, Vendor: tt.vendor, Results: tt.dev.results(), DeadlineHit: tt.hit})
			if diff := cmp.Diff(tt.want, summary(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Status == finding.StatusFail && f.Remediation == "" {
					t.Errorf("%s fails without saying what to do", f.ID)
				}
				if f.Status == finding.StatusUnknown && f.Detail == "" {
					t.Errorf("%s is unknown without a reason", f.ID)
				}
			}
		})
	}
}

// TestJudgeCases pins single decisions: one finding each.
func TestJudgeCases(t *testing.T) {
	tests := []struct {
		name    string
		dev     func() device
		vantage Vantage
		vendor  string
		hit     bool
		id      string
		want    string
		detail  string // regexp the detail must match
		remedy  string // regexp the remediation must match
	}{
		{name: "telnet_garbage_fails_low", dev: func() device { d := tplinkLAN(); d.telnet = openGarbage(23); return d },
			id: "exposure.telnet_open@192.0.2.1", want: "fail medium low", detail: `did not answer as telnet`},
		{name: "telnet_binary_noise_fails_low", dev: func() device { d := tplinkLAN(); d.telnetNoise = true; return d },
			id: "exposure.telnet_open@192.0.2.1", want: "fail medium low", detail: `it sent something that is not telnet`},
		{name: "telnet_filtered_passes_medium", dev: func() device { d := tplinkLAN(); d.telnet = timedOut(23); return d },
			id: "exposure.telnet_open@192.0.2.1", want: "pass medium medium", detail: `filtered`},
		{name: "telnet_filtered_deadline_unknown", dev: func() device { d := tplinkLAN(); d.telnet = timedOut(23); return d }, hit: true,
			id: "exposure.telnet_open@192.0.2.1", want: "unknown medium high", detail: `deadline ran out`},
		{name: "telnet_mikrotik_remedy", dev: func() device { d := tplinkLAN(); return d }, vendor: "mikrotik",
			id: "exposure.telnet_open@192.0.2.1", want: "fail medium high", remedy: `/ip service disable telnet`},
		{name: "telnet_wan_critical", dev: func() device { d := closedDevice(); d.telnet = answered(23); return d }, vantage: WAN,
			id: "exposure.remote_management@192.0.2.1/telnet", want: "fail critical high", remedy: `Turn off telnet`},
		{name: "web_wan_tplink_remedy", dev: func() device { d := closedDevice(); d.web = map[uint16]probe.Exchange{8080: answered(8080)}; return d },
			vantage: WAN, vendor: "TP-LINK", id: "exposure.remote_management@192.0.2.1/web", want: "fail high high",
			detail: `tcp/8080`, remedy: `Security → Remote Management.*0\.0\.0\.0`},
		{name: "winbox_wan_mikrotik_remedy", dev: func() device { d := closedDevice(); d.winbox = answered(8291); return d },
			vantage: WAN, vendor: "MikroTik", id: "exposure.remote_management@192.0.2.1/winbox", want: "fail high high",
			remedy: `/ip service set winbox address=.*in-interface-list=WAN action=drop`},
		{name: "web_hangs_tls_wan_fails_low", dev: func() device { d := closedDevice(); d.web = map[uint16]probe.Exchange{443: openSilent(443)}; return d },
			vantage: WAN, id: "exposure.remote_management@192.0.2.1/web", want: "fail high low", detail: `did not answer as web admin page`},
		{name: "snmp_private_wan_critical", dev: func() device {
			d := closedDevice()
			d.snmp = []snmpprobe.Community{{Name: "public", Answered: true, Exchange: answered(161)}, {Name: "private", Answered: true, Exchange: answered(161)}}
			return d
		}, vantage: WAN, id: "exposure.snmp_default_community@192.0.2.1", want: "fail critical high", detail: `public and private`},
		{name: "snmp_garbage_unknown", dev: func() device {
			d := closedDevice()
			d.snmp = []snmpprobe.Community{{Name: "public", Exchange: openGarbage(161)}, {Name: "private", Exchange: openGarbage(161)}}
			return d
		}, id: "exposure.snmp_default_community@192.0.2.1", want: "unknown medium high", detail: `not with a valid SNMP response`},
		{name: "snmp_refused_no_agent", dev: closedDevice, id: "exposure.snmp_default_community@192.0.2.1", want: "pass medium high", detail: `No SNMP agent`},
		{name: "upnp_wan_fails", dev: func() device { d := closedDevice(); d.ssdp = answered(1900); return d }, vantage: WAN,
			id: "exposure.upnp_wan@192.0.2.1", want: "fail high high", remedy: `never answer from the Internet`},
		{name: "natpmp_wan_fails", dev: func() device { d := closedDevice(); d.natpmp = answered(5351); return d }, vantage: WAN,
			id: "exposure.natpmp_wan@192.0.2.1", want: "fail high high", detail: `198\.51\.100\.2`},
		{name: "tr069_wan_auth_low", dev: func() device { d := closedDevice(); d.tr069, d.trAuth = answered(7547), true; return d }, vantage: WAN,
			id: "exposure.tr069_wan@192.0.2.1", want: "fail low high", detail: `how ISPs run`, remedy: `ask the ISP`},
		{name: "tr069_wan_noauth_high", dev: func() device { d := closedDevice(); d.tr069 = answered(7547); return d }, vantage: WAN,
			id: "exposure.tr069_wan@192.0.2.1", want: "fail high high", detail: `did not ask for authentication`},
		{name: "api_plain_lan_low", dev: func() device { d := closedDevice(); d.api = answered(8728); return d },
			id: "exposure.routeros_api@192.0.2.1", want: "fail low high", detail: `unencrypted`},
		{name: "probe_panicked_unknown", dev: func() device { d := tplinkLAN(); d.panicked = "banner"; return d },
			id: "exposure.telnet_open@192.0.2.1", want: "unknown medium high", detail: `panicked`},
		{name: "open_resolver_mikrotik_remedy", dev: mikrotikWAN, vantage: WAN, vendor: "MikroTik",
			id: "exposure.open_resolver@192.0.2.1", want: "fail high high", detail: `resolves names for anyone.*192\.0\.2\.80`,
			remedy: `allow-remote-requests=no.*dst-port=53 action=drop`},
		{name: "open_resolver_generic_remedy", dev: mikrotikWAN, vantage: WAN,
			id: "exposure.open_resolver@192.0.2.1", want: "fail high high", remedy: `udp and tcp port 53`},
		{name: "open_resolver_nxdomain_ra", dev: func() device {
			d := closedDevice()
			d.dns, d.dnsRcode, d.dnsRA = answered(53), "NXDOMAIN", true
			return d
		},
			vantage: WAN, id: "exposure.open_resolver@192.0.2.1", want: "fail high high", detail: `NXDOMAIN`},
		{name: "dns_refusing_wan_passes", dev: func() device {
			d := closedDevice()
			d.dns, d.dnsRcode, d.dnsRA = answered(53), "REFUSED", true
			return d
		},
			vantage: WAN, id: "exposure.open_resolver@192.0.2.1", want: "pass high high", detail: `does not resolve for others: REFUSED`},
		{name: "dns_servfail_wan_unknown", dev: func() device {
			d := closedDevice()
			d.dns, d.dnsRcode, d.dnsRA = answered(53), "SERVFAIL", true
			return d
		},
			vantage: WAN, id: "exposure.open_resolver@192.0.2.1", want: "unknown high high", detail: `neither that it resolves`},
		{name: "dns_garbage_wan_unknown", dev: func() device { d := closedDevice(); d.dns = openGarbage(53); return d },
			vantage: WAN, id: "exposure.open_resolver@192.0.2.1", want: "unknown high high", detail: `not with a valid DNS reply`},
		{name: "dns_silent_wan_passes_medium", dev: func() device { d := mikrotikWAN(); d.dns, d.dnsRcode = timedOut(53), ""; return d },
			vantage: WAN, id: "exposure.open_resolver@192.0.2.1", want: "pass high medium", detail: `udp/53 \(silent\)`},
		{name: "dns_lan_info_version", dev: tplinkLAN, id: "exposure.dns_service@192.0.2.1", want: "pass info high",
			detail: `Expected on the LAN.*version\.bind: dnsmasq-2\.90|version\.bind: dnsmasq-2\.90.*Expected on the LAN`},
		{name: "upnp_lan_info", dev: tplinkLAN, vendor: "tp-link", id: "exposure.upnp@192.0.2.1", want: "pass info high",
			detail: `Expected on the LAN`, remedy: `UpnpCfgRpm\.htm`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Judge(Input{Target: probe.Target{Addr: addr}, Vantage: tt.vantage, Vendor: tt.vendor, Results: tt.dev().results(), DeadlineHit: tt.hit})
			var f *finding.Finding
			for i := range fs {
				if fs[i].ID == tt.id {
					f = &fs[i]
				}
			}
			if f == nil {
				t.Fatalf("no finding %s in %v", tt.id, summary(fs))
			}
			if got := fmt.Sprintf("%s %s %s", f.Status, f.Severity, f.Confidence); got != tt.want {
				t.Errorf("%s = %s, want %s (detail %q)", tt.id, got, tt.want, f.Detail)
			}
			if tt.detail != "" && !regexp.MustCompile(tt.detail).MatchString(f.Detail+" "+fmt.Sprint(f.Evidence)) {
				t.Errorf("detail %q (evidence %v) does not match %q", f.Detail, f.Evidence, tt.detail)
			}
			if tt.remedy != "" && !regexp.MustCompile(tt.remedy).MatchString(f.Remediation) {
				t.Errorf("remediation %q does not match %q", f.Remediation, tt.remedy)
			}
		})
	}
}

func TestChecksUnique(t *testing.T) {
	seen := map[string]bool{}
	idRE := regexp.MustCompile(`^exposure\.[a-z][a-z0-9_]*$`)
	for _, c := range Checks() {
		if seen[c.ID] || !idRE.MatchString(c.ID) {
			t.Errorf("check ID %q duplicated or malformed", c.ID)
		}
		seen[c.ID] = true
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
	// Every ID Judge emits is listed.
	for _, v := range []Vantage{LAN, WAN} {
		for _, f := range Judge(Input{Target: probe.Target{Addr: addr}, Vantage: v, Results: tplinkLAN().results()}) {
			if !seen[f.CheckID] {
				t.Errorf("Judge emits unlisted check %s", f.CheckID)
			}
		}
	}
}

func TestServicesOrderAndOpen(t *testing.T) {
	ss := Services(tplinkLAN().results())
	var open []string
	for _, s := range Open(ss) {
		open = append(open, string(s.Kind)+" "+s.Label())
	}
	want := []string{"web tcp/80", "ssh tcp/22", "telnet tcp/23", "snmp udp/161", "upnp udp/1900", "natpmp udp/5351", "dns udp/53"}
	if diff := cmp.Diff(want, open); diff != "" {
		t.Errorf("open services (-want +got):\n%s", diff)
	}
}

// TestKindsDeclared holds the judge and the probe registry together: every
// kind a check judges is declared by a registered probe with the same
// protocol, and every declared kind is judged (a new probe's services
// need a check, or they would be measured and never reported).
func TestKindsDeclared(t *testing.T) {
	declared := map[Kind]string{}
	for _, s := range probeset.Services() {
		declared[s.Kind] = s.Proto
	}
	for _, k := range Kinds() {
		if _, ok := declared[k]; !ok {
			t.Errorf("kind %s is judged but no probe declares it", k)
		}
		delete(declared, k)
	}
	for k := range declared {
		t.Errorf("kind %s is declared by a probe but no check judges it", k)
	}
}
