// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab/fake"
)

// Setups of the services that the DNS-hijack and exposure scenarios added:
// router advertisements, the dnsdist attacker, plain listeners and the
// fakes. The services table (services.go) lists them.

// setupRA configures a dnsmasq that sends router advertisements (port=0:
// no DNS): the prefix of lan0 and, as RDNSS (RFC 8106), ra.rdnss. It
// answers router solicitations and also advertises unsolicited. With
// ra.dhcpv6 it also serves stateless DHCPv6 (ra-stateless: the O flag, and
// Information-requests answered with ra.rdnss as option 23); otherwise no
// DHCPv6 at all (ra-only).
func setupRA(_ context.Context, b *builder) (launch, error) {
	var rdnss []string
	for _, a := range b.sc.RA.RDNSS {
		rdnss = append(rdnss, "["+resolve(a).String()+"]")
	}
	mode, what := "ra-only", "no DHCPv6"
	if b.sc.RA.DHCPv6 {
		mode, what = "ra-stateless", "stateless DHCPv6"
	}
	conf := fmt.Sprintf(`# routerwatch lab: IPv6 router advertisements on the LAN (no DNS, %s)
port=0
interface=%s
bind-interfaces
enable-ra
dhcp-range=::,constructor:%s,%s
dhcp-option=option6:dns-server,%s
log-dhcp
log-facility=-
pid-file=%s
`, what, routerLANIf, routerLANIf, mode, strings.Join(rdnss, ","), b.path("ra.pid"))
	if err := b.write("ra.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"dnsmasq", "--keep-in-foreground", "--conf-file=" + b.path("ra.conf")}}, nil
}

// listenAddr is where a plain listener binds: router.lan, or every address
// of the router (all of them lab addresses: LAN, WAN, loopback) when it is
// in wan_services, since ncat binds one address only.
func listenAddr(sc *Scenario, service string) string {
	if len(routerAddrs(sc, service)) > 1 {
		return "0.0.0.0"
	}
	return ra("router.lan")
}

func listenerReady(service string, port uint16) func(*Scenario) []sock {
	return func(sc *Scenario) []sock { return []sock{tcp(listenAddr(sc, service), port)} }
}

// setupListener is a TCP port that accepts connections and never answers
// (ncat --recv-only logs what clients send): MikroTik's Winbox and API
// ports, whose unauthenticated behaviour no source documents well enough to
// imitate.
func setupListener(b *builder, service string, port uint16) (launch, error) {
	return launch{argv: []string{"ncat", "--listen", "--keep-open", "--recv-only", listenAddr(b.sc, service), fmt.Sprint(port)}}, nil
}

// setupDNSDist configures the attacker's dnsdist: Do53 and DoT on
// attacker.dnsdist, spoofing attacker.hijack and passing the rest (CHAOS
// queries too) to attacker.upstream. The first line keeps dnsdist from
// polling secpoll.powerdns.com, and the backend is declared up so that no
// health check (by default a query for a.root-servers.net) runs at all.
func setupDNSDist(_ context.Context, b *builder) (launch, error) {
	addr := ra("attacker.dnsdist")
	var s strings.Builder
	fmt.Fprintf(&s, `setSecurityPollSuffix("")
-- routerwatch lab: the attacker's resolver done with dnsdist
setLocal("%s:53")
addTLSLocal("%s:853", "%s", "%s")
setACL({"0.0.0.0/0", "::/0"})
local backend = newServer({address="%s:53", checkName="www.example.org."})
backend:setUp()
`, addr, addr, b.path(attackerDoTPEM), b.path(attackerDoTKey), resolve(b.sc.Attacker.Upstream))
	for i, h := range b.sc.Attacker.Hijack {
		fmt.Fprintf(&s, "local hijack%d = newSuffixMatchNode()\n", i)
		for _, n := range h.Names {
			fmt.Fprintf(&s, "hijack%d:add(newDNSName(\"%s.\"))\n", i, n)
		}
		rule := fmt.Sprintf("SuffixMatchNodeRule(hijack%d)", i)
		if len(h.Shapes) > 0 {
			sels := []string{rule}
			for _, sh := range h.Shapes {
				sels = append(sels, shapeRule(sh))
			}
			rule = "AndRule({" + strings.Join(sels, ", ") + "})"
		}
		fmt.Fprintf(&s, "local rule%d = %s\n", i, rule)
		if h.DelayMS > 0 {
			// Not final: the answer (spoofed below, or the backend's)
			// leaves DelayMS later.
			fmt.Fprintf(&s, "addAction(rule%d, DelayAction(%d))\n", i, h.DelayMS)
		}
		switch {
		case h.HTTPS:
			fmt.Fprintf(&s, "addAction(AndRule({rule%d, QTypeRule(65)}), SpoofRawAction(\"%s\"))\n", i, httpsHintRdata(resolve(h.To)))
		case h.Hijacks():
			fmt.Fprintf(&s, "addAction(rule%d, SpoofAction({\"%s\"}))\n", i, resolve(h.To))
		}
	}
	if err := b.write("attacker-dnsdist.conf", s.String(), 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"dnsdist", "--supervised", "--disable-syslog", "-C", b.path("attacker-dnsdist.conf")}}, nil
}

// httpsHintRdata is the RDATA of an HTTPS record (RFC 9460) in service
// mode, priority 1, target "." (the name itself), with one ipv4hint, as
// a Lua string of decimal escapes for SpoofRawAction.
func httpsHintRdata(hint netip.Addr) string {
	b := append([]byte{0, 1, 0, 0, 4, 0, 4}, hint.AsSlice()...)
	var out strings.Builder
	for _, c := range b {
		fmt.Fprintf(&out, "\\%03d", c)
	}
	return out.String()
}

// shapeRule is the dnsdist selector of a question shape
// (HijackRule.Shapes).
func shapeRule(shape string) string {
	switch shape {
	case ShapeStub:
		// No OPT (type 41) record in the additional section (3).
		return "RecordsTypeCountRule(3, 41, 0, 0)"
	case ShapeNoDO:
		return "NotRule(DNSSECRule())"
	case ShapeRD:
		return "RDRule()"
	}
	return ""
}

// fakeLaunch writes a fake's configuration as JSON (readable by root
// only: a live fake's holds the router's credentials) and returns the
// command that runs it: the routerwatch binary's hidden `lab fake`
// subcommand.
func fakeLaunch(b *builder, service, kind string, config any) (launch, error) {
	data, err := marshalConfig(service, config)
	if err != nil {
		return launch{}, err
	}
	if err := b.write(service+".json", data, liveConfigMode); err != nil {
		return launch{}, err
	}
	if b.exe == "" {
		return launch{}, fmt.Errorf("lab: %s: no routerwatch binary to run the fake", service)
	}
	return launch{argv: []string{b.exe, "lab", "fake", "--kind", kind, "--config", b.path(service + ".json")}}, nil
}

func setupHostileDNS(_ context.Context, b *builder) (launch, error) {
	return fakeLaunch(b, "hostile-dns", string(fake.KindDNS), b.sc.hostileDNSConfig())
}

func setupHostileDevice(_ context.Context, b *builder) (launch, error) {
	return fakeLaunch(b, "hostile-device", string(fake.KindDevice), b.sc.hostileDeviceConfig())
}

// hostileDeviceReady waits for every unicast port of the hostile device.
func hostileDeviceReady(sc *Scenario) []sock {
	c := sc.hostileDeviceConfig()
	var out []sock
	for p := range c.TCP {
		out = append(out, sock{"tcp", netip.AddrPortFrom(c.Addr, p)})
	}
	for p := range c.UDP {
		out = append(out, sock{"udp", netip.AddrPortFrom(c.Addr, p)})
	}
	return out
}

// setupAttackerAuth serves the attacker's unsigned copy of corp.test from a
// non-validating unbound that uses the zone as its own upstream data
// (auth-zone with for-downstream: no). Its answers look like any recursive
// resolver's: no AA flag, no authority section, TTLs counting down. An
// authoritative server (nsd) would set AA, which a forwarding dnsmasq
// passes on: a second tell next to the missing RRSIGs, which this scenario
// is meant not to have.
func setupAttackerAuth(_ context.Context, b *builder) (launch, error) {
	if err := writeUnsignedZone(b.dir, time.Now(), b.sc.Attacker.Hijack); err != nil {
		return launch{}, err
	}
	conf := fmt.Sprintf(`# routerwatch lab: the attacker's unsigned copy of %s
server:
  interface: %s
  port: 53
  access-control: 0.0.0.0/0 allow
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: "%s"
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  # never iterate to the real root; corp.test comes from the auth-zone
  local-zone: "test." nodefault
  local-zone: "." static
  local-zone: "%s" transparent
auth-zone:
  name: "%s"
  zonefile: "%s"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
remote-control:
  control-enable: no
`, SignedZone, ra("attacker.auth"), b.dir, b.path("attacker-auth.pid"), SignedZone, SignedZone, b.path(unsignedZoneFile))
	if err := b.write("attacker-auth.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"unbound", "-d", "-c", b.path("attacker-auth.conf")}}, nil
}
