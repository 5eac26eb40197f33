// SPDX-License-Identifier: Apache-2.0

// Package lab runs a small network of real Debian daemons in Linux network
// namespaces, for routerwatch's tests, demos and development: a client (the
// user's laptop), a SOHO router and an ISP that also plays "the Internet".
//
// # Topology
//
//	client (rw-<name>-cli)        router (rw-<name>-rtr)              isp (rw-<name>-isp), dead end
//	eth0 10.77.0.10/24 ───veth─── lan0 10.77.0.1/24
//	default via 10.77.0.1         wan0 198.51.100.2/24 ───veth─────── eth0 198.51.100.1/24, 198.51.100.53/24
//	                              default via 198.51.100.1            lo   203.0.113.x/32 (the Internet's services)
//	                              ip_forward=1, no NAT                route 10.77.0.0/24 via 198.51.100.2, no default
//
// With ipv6 (scenario field), the same links also carry IPv6 inside
// 2001:db8::/32: LAN 2001:db8:77::/64 (router ::1, client ::10, static; the
// router advertises the prefix from fe80::1 when the scenario runs ra), WAN
// 2001:db8:198::/64 (ISP ::1, router ::2), the Internet's IPv6 addresses on
// the ISP's lo in 2001:db8:203::/64; the router forwards IPv6, the client
// does not configure itself from advertisements (accept_ra=0).
//
// Veth pairs are created directly inside lab namespaces; no interface of the
// lab ever exists in the root namespace, no address is added to a host
// interface, and no route leads out of the lab. Addresses are the same in
// every lab; namespaces keep parallel labs apart. Each namespace has a
// private /etc/netns/<ns>/resolv.conf, which `ip netns exec` mounts over
// /etc/resolv.conf, so nothing inside reads or writes the host's resolver
// configuration (the client's lists the scenario's DHCP DNS servers).
//
// # Roles
//
// Lab.Addr takes a role name; Roles lists them and RoleDoc describes each:
// client.lan, router.lan, router.wan, router.dns, isp.wan, isp.resolver,
// isp.auth, isp.nxpage, trusted.resolver (aliases trusted.dot, trusted.doh),
// attacker.resolver, attacker.resolver2, attacker.dnsdist, attacker.auth,
// attacker.host, hostile.dns, hostile.dns.spoof, legit.https, cdn.https,
// aitm.https, and the IPv6 ones client.lan6, router.lan6, router.wan6,
// isp.wan6, attacker.resolver6 (zero without ipv6). Records lists the canary names
// with their true addresses; the ISP's and the trusted resolver answer them,
// and the legit HTTPS server serves all of them, on their addresses and on
// cdn.https, with a lab CA certificate.
//
// # Services
//
// Each service (Services) is one daemon on a fixed host, started in the
// foreground with `ip netns exec` in its own session, tracked by PID and
// start time, logging to <service>.log in the lab directory. Every daemon is
// configured offline: unbound has `local-zone: "." static` and only stub
// zones, the dnsmasq instances have no-resolv and explicit servers, dnsdist
// polls no security status and runs no health check, and the DHCP client
// runs the lab's own script. Up returns once every daemon has its sockets
// open (read from /proc/PID/net, no probing).
//
// # Fakes
//
// Services no real daemon can play run from the routerwatch binary's
// hidden `lab fake` subcommand (package fake), started like any daemon:
// hostile-dns (a resolver whose replies are malformed, truncated,
// mismatched, spoofed, oversized, slow...), hostile-device (router ports
// that drip, send garbage, 100k headers, redirect loops, invalid UTF-8,
// 50 MB or entity-expansion UPnP descriptions), and the live router UIs
// below. Up finds the binary through Options.Executable, $ROUTERWATCH_BIN
// or os.Executable; labtest builds it for tests.
//
// # The live router
//
// The router's DHCP server (service dhcp, dnsmasq) reads the DNS servers
// it hands out from a --dhcp-optsfile, which dnsmasq re-reads on SIGHUP.
// Two management interfaces change them for real: tplink-ui, a legacy
// TP-Link web UI (/userRpm/ pages, Basic or cookie login, scenario section
// tplink_ui), and routeros-api-live, a RouterOS API on 8728. On a DHCP DNS
// change the fake rewrites the file, SIGHUPs the dnsmasq recorded in the
// lab's state (checked by start time, program and namespace) and answers
// once dnsmasq has logged that it re-read the file (about a millisecond):
// from then on every lease, the client's next one included, carries the
// new servers. The TP-Link UI's remote management is real too (its own
// listener on router.wan); its other settings (DHCP range, lease, WAN DNS,
// UPnP) and RouterOS's other set commands are only state the pages show.
// Lab.DNSChanger replays the published DNS-changer attack (CONFIGS.md §1.4)
// from the ISP side (attacker.host, through remote management);
// Lab.SetDHCPDNS and Lab.RouterDHCPDNS set and read the servers as the
// owner does, from the client. The CLI has them as `lab attack dns-changer`
// and `lab router-dns`.
//
// # Router advertisements
//
// Lab.RouterAdvertisement solicits and reads an RA on the client (raw
// ICMPv6), as a checker reads RDNSS (RFC 8106); ParseRA parses one.
//
// # Scenarios
//
// A scenario is a YAML file in scenarios/ (embedded) decoded strictly; see
// Scenario for the schema. To add one, drop a file there: the unit tests
// load and cross-check every embedded scenario (the expect block against
// the configuration it describes), and TestScenarioExpectations brings each
// up and checks its expect block on the wire: DHCP option 6 and RA RDNSS;
// per handed-out resolver, which canary names differ from the trusted
// resolver and whether the answered addresses serve valid certificates,
// RRSIGs, NXDOMAIN rewriting, version.bind, DoT; the router's open ports
// from the LAN and from the WAN; web UI answers and service identities; the
// fakes' behaviours; and that Down leaves nothing. To add a daemon, add an
// entry to the services table (services.go), a line in deps.go if it needs
// a new program, and a role if it has an address.
//
// The scenarios model: the APT28 hijack (apt28) and its variants (all-rogue,
// dnsdist-spoof, ipv6-rdnss, ipv6-dhcpv6, dnssec-strip, ipv4-only), rogues
// that hide from detectors (slow-login holds the login names back past a
// detector's timeout; dnsdist-stub-only and dnsdist-no-do lie only to
// questions shaped like their victims': attacker.hijack delay_ms and
// shapes, dnsdist DelayAction and selectors), setups that must not raise an
// alarm (clean, benign-forwarder, cdn-variance, nxdomain-rewrite,
// ipv6-static: IPv6 set by hand, no router advertisements), a
// hostile resolver (hostile-dns), routers to identify and audit for
// exposure (tplink-legacy, mikrotik-exposed, hardened, hostile), and live
// routers whose settings change for real (dns-changer, tplink-cookie,
// routeros-live). Each file says what a checker should conclude.
//
// # State and cleanup
//
// A lab's directory (DefaultStateDir/<name>) holds state.json, written
// before each namespace, /etc/netns directory and process is created, so
// Down works from any process, also after the one that ran Up crashed.
// Down kills recorded processes only if /proc shows the recorded start time,
// then whatever still runs in the lab's namespaces or carries the lab's
// environment mark, then deletes namespaces and files. Cleanup removes labs
// whose owner process is gone (unless they were started to be kept).
//
// Package labtest wraps Up for tests and runs test code inside lab hosts.
package lab
