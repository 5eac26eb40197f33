// SPDX-License-Identifier: Apache-2.0

package exposure

import (
	"github.com/routerwatch/routerwatch/internal/advisory"
)

// Vendor-specific remediation says only what brief/CONFIGS.md documents:
//   - legacy TP-Link web UI: the page ManageControlRpm.htm, "Security →
//     Remote Management", whose remote management IP 0.0.0.0 disables it
//     and 255.255.255.255 allows any host (CONFIGS.md §1.3); UPnP on
//     UpnpCfgRpm.htm (§1.3);
//   - MikroTik RouterOS: `/ip service set <name> address=<allow-list>
//     disabled=…` for telnet, ftp, www, ssh, www-ssl, api, winbox and
//     api-ssl, and an input-chain firewall rule dropping the WAN interface
//     list (CONFIGS.md §3.3); `/ip dns set allow-remote-requests=…`, which
//     with no input-chain drop on the WAN is an open resolver (§3).
//
// Everything else is generic advice that holds for any router.

// lanPrefix stands for the owner's LAN prefix in RouterOS commands.
const lanPrefix = "<your LAN prefix, e.g. 192.168.88.0/24>"

const (
	tplinkRemote     = "On legacy TP-Link firmware open Security → Remote Management and set the remote management IP address to 0.0.0.0, which turns remote management off (255.255.255.255 lets every host in); save, and reboot if the page asks."
	genericRemote    = "Turn off remote management (also called remote administration, web access from WAN or cloud management) in the router's admin page, so that it is managed only from your own network."
	mikrotikFirewall = " Also make sure /ip firewall filter drops new connections from the WAN on the input chain (in-interface-list=WAN action=drop)."
	tr069AuthRemedy  = "If your ISP gave you this router and manages it, this is expected: ask the ISP to allow the port only from its management servers. If you bought the router yourself, turn TR-069 (CWMP, \"ISP management\") off in its settings."
)

// remedy returns what to switch off, and where, for one service kind.
func remedy(k Kind, vendor string, v Vantage) string {
	vk := ""
	if vendor != "" {
		vk = advisory.VendorKey(vendor)
	}
	if k == KindWinbox || k == KindAPI || k == KindAPISSL {
		// Only RouterOS has these services: the device is a MikroTik
		// whatever else identification said.
		vk = "mikrotik"
	}
	switch vk {
	case "tplink":
		if s := tplinkRemedy(k, v); s != "" {
			return s
		}
	case "mikrotik":
		if s := mikrotikRemedy(k, v); s != "" {
			return s
		}
	}
	return genericRemedy(k, v)
}

func tplinkRemedy(k Kind, v Vantage) string {
	switch {
	case k == KindWeb && v == WAN:
		return tplinkRemote
	case k == KindUPnP:
		return "Turn UPnP off on the router's UPnP page (UpnpCfgRpm.htm on legacy TP-Link firmware) unless a game console or app needs it."
	}
	return ""
}

func mikrotikRemedy(k Kind, v Vantage) string {
	if k == KindDNS && v == WAN {
		// CONFIGS.md §3: allow-remote-requests=yes without an input-chain
		// drop on the WAN is an open resolver.
		return "In RouterOS, if only the router itself needs DNS run: /ip dns set allow-remote-requests=no. If your LAN uses the router as its resolver, keep it and drop DNS from the WAN instead: /ip firewall filter add chain=input in-interface-list=WAN protocol=udp dst-port=53 action=drop (and the same with protocol=tcp), placed before any accept rule."
	}
	service := map[Kind]string{KindWeb: "www", KindSSH: "ssh", KindTelnet: "telnet", KindFTP: "ftp",
		KindWinbox: "winbox", KindAPI: "api", KindAPISSL: "api-ssl"}[k]
	if service == "" {
		return ""
	}
	switch k {
	case KindTelnet, KindFTP:
		s := "In RouterOS run: /ip service disable " + service + " (or /ip service disable telnet,ftp,www,api for every unencrypted service you do not use)."
		if v == WAN {
			s += mikrotikFirewall
		}
		return s
	case KindAPI:
		return "In RouterOS run: /ip service disable api if nothing uses the API; a program that needs it should use api-ssl, limited with /ip service set api-ssl address=" + lanPrefix + "."
	}
	if v == LAN {
		return "To keep " + KindName(k) + " to your own network, in RouterOS run: /ip service set " + service + " address=" + lanPrefix + "."
	}
	s := "In RouterOS run: /ip service set " + service + " address=" + lanPrefix + " (or /ip service disable " + service + " if you do not use it)."
	if k == KindWeb {
		s = "In RouterOS run: /ip service set www address=" + lanPrefix + " and the same for www-ssl (or /ip service disable www,www-ssl if you do not use WebFig)."
	}
	return s + mikrotikFirewall
}

func genericRemedy(k Kind, v Vantage) string {
	switch k {
	case KindWeb, KindSSH, KindWinbox, KindAPI, KindAPISSL:
		if v == WAN {
			return genericRemote
		}
		switch k {
		case KindAPI:
			return "Turn the RouterOS API off if nothing uses it, or use API-SSL instead."
		case KindWinbox:
			return "Allow Winbox only from your own network's addresses."
		}
		return ""
	case KindTelnet:
		s := "Turn off telnet in the router's settings. If the router has no such setting, its firmware leaves telnet on by design: replace the router."
		if v == WAN {
			s = genericRemote + " " + s
		}
		return s
	case KindFTP:
		s := "Turn off the router's FTP server (often part of USB or file sharing) unless you use it; never let it answer from the Internet."
		if v == WAN {
			s = genericRemote + " " + s
		}
		return s
	case KindSNMP:
		return "Turn SNMP off if nothing monitors the router; otherwise replace the community public/private with a long random one (or use SNMPv3) and allow it only from the monitoring host."
	case KindUPnP:
		if v == WAN {
			return "Turn UPnP off, then update or replace the router: UPnP must never answer from the Internet (it can be used to open ports into your network and to amplify attacks)."
		}
		return "UPnP lets any program on your network open ports in the router: turn it off unless a game console or app needs it."
	case KindNATPMP:
		if v == WAN {
			return "Turn NAT-PMP/PCP (often part of the UPnP settings) off, then update or replace the router: it must never answer from the Internet."
		}
		return "NAT-PMP/PCP lets any program on your network open ports in the router: turn it off (often with UPnP) unless something needs it."
	case KindDNS:
		return "Stop the router's DNS server from answering on its Internet side: limit it to the LAN in the router's DNS (relay, proxy or server) settings, or add a firewall rule that drops DNS (udp and tcp port 53) arriving from the WAN. If the firmware allows neither, update or replace the router. If you never set it up this way, also check that the router's DNS and remote-management settings are still what you chose."
	case KindTR069:
		return "Contact your ISP: the TR-069 connection-request port answers from the Internet without asking for credentials. If you bought the router yourself, turn TR-069 (CWMP) off."
	}
	return ""
}
