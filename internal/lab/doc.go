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
// isp.auth, trusted.resolver (aliases trusted.dot, trusted.doh),
// attacker.resolver, legit.https, aitm.https. Records lists the canary names
// with their true addresses; the ISP's and the trusted resolver answer them,
// and the legit HTTPS server serves all of them with a lab CA certificate.
//
// # Services
//
// Each service (Services) is one daemon on a fixed host, started in the
// foreground with `ip netns exec` in its own session, tracked by PID and
// start time, logging to <service>.log in the lab directory. Every daemon is
// configured offline: unbound has `local-zone: "." static` and only stub
// zones, the dnsmasq instances have no-resolv and explicit servers, and the
// DHCP client runs the lab's own script. Up returns once every daemon has
// its sockets open (read from /proc/PID/net, no probing).
//
// # Scenarios
//
// A scenario is a YAML file in scenarios/ (embedded) decoded strictly; see
// Scenario for the schema. To add one, drop a file there: the unit tests
// load and cross-check every embedded scenario, and
// TestScenarioExpectations brings each up and checks its expect block. To
// add a daemon, add an entry to the services table (services.go), a line in
// deps.go if it needs a new program, and a role if it has an address.
//
// IPv6 is planned (a scenario announcing a rogue resolver only through
// router advertisements, RDNSS, 2001:db8::/32): roles carry netip.Addr,
// /proc socket parsing reads tcp6/udp6, and the link setup is one batch per
// host, so it needs a radvd-like service and v6 roles, not a redesign.
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
