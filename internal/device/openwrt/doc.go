// SPDX-License-Identifier: Apache-2.0

// Package openwrt reads an OpenWrt router's settings: online through
// ubus JSON-RPC (rpcd's session and uci objects behind uhttpd's /ubus),
// or offline from a sysupgrade backup (the .tar.gz `sysupgrade -b`
// writes) or from UCI text (one /etc/config file, or `uci export`). It
// changes them only when the owner asks (routerwatch fix --apply).
//
// # What is read, and what it means
//
// The same mapping turns the UCI packages into a device.Config whichever
// way they were read, so a pull and an import of the same files give
// the same configuration. Every value's Source.Where is its UCI path
// ("dhcp.lan.dhcp_option", "dhcp.@dnsmasq[0].server"), identical for a
// file and for rpcd's reply. A package that was not read (a file missing
// from the backup, a configuration the account may not read) leaves the
// fields it decides unknown; an option absent from a package that was
// read takes OpenWrt's documented default, said in the Note.
//
//   - LAN: network.lan ipaddr and netmask (or ipaddr in CIDR form).
//   - DHCP: the dhcp section whose interface is 'lan'. ignore '1' turns
//     it off; start (default 100) and limit (default 150) count from the
//     LAN's network address, as OpenWrt's dnsmasq script computes it.
//     DNS handed out: dhcp_option (and dhcp_option_force) '6,a,b' or
//     'option:dns-server,a,b'; without one, dnsmasq hands out the
//     router's own address, which is the LAN address with a Note. Pools
//     of other interfaces are not in the Config; a Warning names each
//     one that hands out other resolvers.
//   - WAN DNS, the resolvers the router itself uses: its resolver is
//     dnsmasq, which forwards to its `list server` upstreams and, unless
//     noresolv is '1', also to the WAN's servers: network.wan's dns
//     option, and when peerdns is not '0' on a dynamic protocol the ISP's
//     (automatic). So WANDNS lists dnsmasq's plain upstreams then
//     wan.dns; WANDNSAuto is false with noresolv, else follows peerdns.
//     Domain-specific upstreams ('/example.org/192.0.2.1') are not in the
//     list: they answer only for their domain.
//   - Services web and web-tls (uhttpd listen_http/listen_https) and ssh
//     (dropbear). A service can be reached from the Internet (WAN) when
//     it listens on an address the WAN side can reach and the firewall
//     lets the packet in. Listening on all addresses ("0.0.0.0:80",
//     "[::]:80", "80", dropbear without Interface, or Interface in the
//     WAN zone) reaches the WAN address; the LAN address or loopback does
//     not. Then firewall3's order decides, for IPv4 and IPv6 apart: input
//     rules from the WAN zone (or '*') in file order (the first ACCEPT
//     opens; the first DROP or REJECT without a source restriction
//     closes), then for IPv4 a DNAT redirect from the WAN to the router
//     itself (no dest_ip, or the LAN address) on that port opens, then
//     the zone's input policy (defaulting to the defaults section's, which
//     defaults to DROP). IPv6 counts only when the WAN zone holds an IPv6
//     interface (dhcpv6, 6in4, …); with defaults disable_ipv6 '1'
//     firewall3 leaves IPv6 unfiltered. When the answer depends on
//     something not read (no network package to tell whether the WAN has
//     IPv6), WAN is unknown. Scripts under `config include` are not
//     evaluated. uhttpd and dropbear have no source allow-list: Allowed
//     is known and empty. dropbear's PasswordAuth and RootPasswordAuth are
//     said in the ssh Note.
//   - Admins: rpcd's `config login` user names (who may log in to ubus
//     and LuCI). The Note says which use a system user's password
//     ('$p$root') and which have no password option (rpcd refuses them).
//     System users of /etc/passwd, and whether root has a password at
//     all, are not in UCI.
//   - PortForwards: DNAT redirects from the WAN zone (firewall3's
//     default target and protocol, DNAT and tcp+udp, apply). DMZ: a
//     redirect from the WAN of every protocol and port to one host.
//   - NTP: system.ntp server list (none when enabled is '0'). Syslog:
//     system log_ip with log_port (default 514), unless log_remote '0'.
//   - Identity (pull only): `system board` — the distribution as vendor
//     ("OpenWrt": the firmware that answers, whose advisories apply),
//     the model, board name as hardware, version and revision as
//     firmware. UCI files do not name them.
//   - LocalManagement stays unknown: OpenWrt has no such setting (the
//     firewall may restrict the LAN, which is not evaluated).
//
// # Secrets
//
// Passwords, keys, pre-shared keys, PIN codes and PPPoE/VPN user names
// (network's username) and rpcd password hashes are replaced by
// "<redacted>" in every raw artifact (counted in Artifact.Redacted) and
// never enter a Config. Only the packages above are kept as artifacts:
// wireless (Wi-Fi keys), /etc/shadow and the SSH host keys a backup holds
// are never stored. The owner's password is sent only in the session
// login request; the ubus session id is never logged or stored.
//
// # Online: ubus
//
// Pull logs in with the all-zero session (`session login`, which the
// unauthenticated ACL allows and nothing else), reads each package with
// `uci get`, identity with `system board`, and logs out with `session
// destroy`. It sends nothing that changes a setting. A status in
// result[0] other than 0 is a *CallError; uhttpd's own refusals are
// *RPCError. uhttpd answers "Access denied" (-32002) both to a session
// it no longer knows (expired after its idle timeout, or destroyed) and
// to one whose ACL lacks the call, so such a call is retried once after
// destroying the old session and logging in again; a configuration the
// router refuses or lacks leaves its fields unknown with a warning, and
// only a pull that read no configuration at all fails. OpenWrt neither limits
// admin sessions to one nor rate-limits logins (uhttpd queues requests
// beyond its limits); Pull still logs out, and HTTP 429/503 map to
// device.ErrBusy should a front proxy send them.
//
// # Changing settings (Fixer)
//
// Apply stages `uci set`/`uci delete` in the session, then applies them
// with `uci apply {rollback: true, timeout}`, which commits, reloads the
// services (procd's config.change triggers) and arms rpcd's own undo:
// unless `uci confirm` follows within the timeout, rpcd puts the files
// back. Apply reads the values back in the same session; only when they
// are what it set does it confirm, else it calls `uci rollback`. On an
// rpcd without apply (before 2018) it falls back to `uci commit` per
// package, which emits the same config.change event on procd releases
// (15.05 and later); the owner's baseline check then catches a change
// that did not take. What each setting changes, least invasive first:
//   - dhcp_dns: the LAN pool's dhcp_option '6,…' entry (other options
//     kept); DNS equal to the LAN address removes the entry, which makes
//     dnsmasq hand out the router itself.
//   - wan_dns: with dnsmasq noresolv '1', dnsmasq's plain upstreams;
//     else network.wan dns with peerdns '0' (an empty list restores the
//     ISP's servers), and dnsmasq's plain upstreams are removed, since
//     dnsmasq would use them too. Domain-specific upstreams stay.
//   - services.web, services.web-tls, services.ssh off (and .wan): turns
//     off reaching them from the WAN, not the service itself (the web
//     server also serves ubus and LuCI; turning it off would lock the
//     owner, and Apply's own verification, out). First by disabling
//     (enabled '0', not deleting) the firewall rules and self-redirects
//     that open only this service's ports; when the opening is the WAN
//     zone's own ACCEPT policy or a rule shared with other ports, by
//     binding the daemon to the LAN instead (uhttpd listen on the LAN
//     address, dropbear Interface 'lan'), which changes nothing else.
//     Changing the zone policy would cut every other service the owner
//     opened on purpose.
//
// Other settings (telnet, UPnP, WPS, …) are not OpenWrt UCI settings this
// package knows and return device.ErrUnsupported. Backup records every
// option Apply may change (JSON, no secrets); Restore sets them back the
// same way, and refuses a backup naming any other option, so a forged one
// cannot set a password or a firewall policy. Nothing touches firmware.
package openwrt
