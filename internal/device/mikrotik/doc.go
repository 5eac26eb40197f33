// SPDX-License-Identifier: Apache-2.0

// Package mikrotik reads a MikroTik RouterOS router's settings into a
// device.Config: offline from an `/export` file (Importer,
// "routeros-export"), and online through the RouterOS API on TCP 8728 or
// API-SSL on 8729 (APIPuller, "routeros-api", which is also the Fixer) or
// the REST API of RouterOS 7 (RESTPuller, "routeros-rest"). All three
// read the same menus and share one mapping, so the same router gives the
// same Config whichever way it is read, except where one way cannot see a
// setting (an export leaves out user accounts; see below).
//
// The contract:
//   - Unknown is not off. A value an export does not print is the
//     RouterOS default only where that default is documented; the mapping
//     names the assumption in the field's Source.Note. The defaults
//     assumed are: the ports of /ip service (telnet 23, ftp 21, www 80,
//     ssh 22, www-ssl 443, api 8728, winbox 8291, api-ssl 8729) and its
//     empty address list (help.mikrotik.com "Services"); /ip dns
//     allow-remote-requests=no and no static servers ("DNS");
//     /ip upnp enabled=no ("UPnP"); /snmp enabled=no and the single
//     community "public" ("SNMP"); /system ntp client enabled=no;
//     firewall rules and NAT rules are enabled when added and their action
//     defaults to accept; the four default logging actions (memory, disk,
//     echo, remote with no address). Whether each /ip service runs by
//     default is not documented per version, so a service an export does
//     not mention has Enabled unknown. A DHCP server added without
//     disabled= is disabled on RouterOS 6 (its exports print disabled=no
//     for a running one, as all three 6.x samples do) and unknown on 7.
//   - An export that names menus under fewer than two top-level menus
//     (say, the output of `/ip service export`) is partial: menus it
//     does not contain are unknown rather than all-default.
//   - Remote reachability (Service.WAN) is decided from the /ip firewall
//     filter input chain (and raw prerouting drops), for a new connection
//     arriving on a WAN interface (members of the interface list WAN, else
//     the srcnat masquerade out-interfaces): known only where the rules
//     prove it (a rule that certainly accepts or drops it, or a chain that
//     ends without dropping it, RouterOS accepting what no rule matches);
//     rules that may or may not match (jumps, unknown matchers, unknown
//     interfaces) leave it unknown, with the rule in the Note. Only the
//     IPv4 filter is read: where the router has a global IPv6 address or
//     an IPv6 DHCP client, a drop proves nothing and WAN stays unknown.
//   - Exports leave out /user accounts (the verbose sample, which prints
//     every setting, has none), so Admins from an export is unknown.
//   - No secret leaves the package: property values named like secrets
//     (password, secret, pre-shared-key, private-key, passphrase, …),
//     whole values that embed a command with a credential (a script's
//     "/tool fetch … password=…") and non-default SNMP community names
//     are replaced by "(redacted)" in Snapshot.Raw and counted; communities appear in the Config as
//     "configured-N". Credentials are sent only on the login (API) or in
//     the Authorization header (REST), never logged.
//   - Online access goes only through the *netx.Dialer given. Every read
//     is under the context's deadline (and pullTimeout when it has none);
//     words, sentences and replies are bounded; the puller always sends
//     /quit. API-SSL needs a router certificate: RouterOS without one
//     offers only anonymous Diffie-Hellman suites, which Go's TLS does not
//     implement, and the handshake fails with ErrNoCertificate's hint.
//
// The Fixer (APIPuller, over the API only) sets the DHCP network's
// dns-server, /ip dns servers, turns services off, and turns remote
// management off by restricting a service's address list to the LAN
// prefix rather than disabling it (the owner keeps managing from the LAN,
// and the Internet side is closed whatever the firewall says). It refuses,
// before any change, what would cut its own session. Backup is the
// current values as JSON; Restore sets them back.
//
// The API client is our own (no Go RouterOS client is served here): the
// word and sentence encoding of help.mikrotik.com "API", tags, the
// !re/!done/!trap/!fatal/!empty replies, and both logins (RouterOS 6.43
// and later take the password in /login; older routers answer with a
// challenge =ret= and want =response=00 + md5(0x00 + password +
// challenge)).
package mikrotik
