// SPDX-License-Identifier: Apache-2.0

package exposure

import (
	"cmp"
	"errors"
	"slices"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// The judge's vocabulary is the probes' (package probe): a Service is one
// measured port of one kind, in one State. The names below keep the
// checks readable; they are the same types, not copies.
type (
	// Kind names a service the checks judge.
	Kind = probe.Kind
	// State is what one port did when the probe reached for it.
	State = probe.State
	// Service is one port of one kind, as measured.
	Service = probe.Service
)

// States, as the probes report them.
const (
	StateOpen     = probe.StateOpen
	StateClosed   = probe.StateClosed
	StateFiltered = probe.StateFiltered
	StateSilent   = probe.StateSilent
	StateUnknown  = probe.StateUnknown
)

// The kinds the checks judge. Each is declared by the probe that
// measures it (probe.Declaration; TestKindsDeclared holds the two
// together); a kind may have several ports (the web UI on 80, 8080, 443
// and 8443).
const (
	KindWeb    Kind = "web"     // management web UI (httpprobe)
	KindSSH    Kind = "ssh"     // bannerprobe
	KindTelnet Kind = "telnet"  // bannerprobe
	KindFTP    Kind = "ftp"     // bannerprobe
	KindSNMP   Kind = "snmp"    // snmpprobe (UDP)
	KindUPnP   Kind = "upnp"    // upnpprobe SSDP (UDP)
	KindNATPMP Kind = "natpmp"  // upnpprobe NAT-PMP and PCP (UDP 5351)
	KindTR069  Kind = "tr069"   // tr069probe
	KindWinbox Kind = "winbox"  // mikrotikprobe
	KindAPI    Kind = "api"     // mikrotikprobe, RouterOS API (plain)
	KindAPISSL Kind = "api-ssl" // mikrotikprobe, RouterOS API over TLS
	KindDNS    Kind = "dns"     // dnsprobe's device probe (UDP 53)
)

// kindList is the report order of the kinds the checks judge; kinds a
// probe declares that no check judges yet follow, in probe order.
var kindList = []Kind{KindWeb, KindSSH, KindTelnet, KindFTP, KindSNMP, KindUPnP, KindNATPMP, KindTR069, KindWinbox, KindAPI, KindAPISSL, KindDNS}

// Kinds returns the kinds the checks judge, in report order.
func Kinds() []Kind { return slices.Clone(kindList) }

// kindNames are the words reports use.
var kindNames = map[Kind]string{
	KindWeb: "web admin page", KindSSH: "SSH", KindTelnet: "telnet", KindFTP: "FTP", KindSNMP: "SNMP",
	KindUPnP: "UPnP", KindNATPMP: "NAT-PMP/PCP", KindTR069: "TR-069 (CWMP)", KindWinbox: "MikroTik Winbox",
	KindAPI: "RouterOS API", KindAPISSL: "RouterOS API-SSL", KindDNS: "DNS server",
}

// KindName returns the kind in words ("MikroTik Winbox"), or its name
// for a kind no check judges yet.
func KindName(k Kind) string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return string(k)
}

// Services extracts every measured port from a target's probe results, in
// a stable order (kind, then port). Each device probe's observation lists
// its own ports (probe.ServiceObservation); a probe that returned nothing
// (panic, deadline, out of scope) lists its declared kinds as unknown,
// with its error as the reason (probe.None).
func Services(results []probe.Result) []Service {
	var out []Service
	for _, r := range results {
		if so, ok := r.Observation.(probe.ServiceObservation); ok {
			out = append(out, so.Services()...)
		}
	}
	slices.SortStableFunc(out, func(a, b Service) int {
		if c := cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return out
}

// kindOrder puts the judged kinds first, in report order.
func kindOrder(k Kind) int {
	if i := slices.Index(kindList, k); i >= 0 {
		return i
	}
	return len(kindList)
}

// errNotMeasured is used when a kind has no port at all.
var errNotMeasured = errors.New("no probe measured it")
