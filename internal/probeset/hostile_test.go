// SPDX-License-Identifier: Apache-2.0

package probeset_test

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/tr069probe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
)

// hostileTimeout is the per-target deadline of the hostile run: above
// every probe's own per-exchange bound (8 s for HTTP), so that the probes'
// own limits, not only the Runner's, are what is tested.
const hostileTimeout = 10 * time.Second

// peakHeapLimit is the memory bound for the whole hostile run.
const peakHeapLimit = 150 << 20

// ports is one fake device's set of service ports.
type ports struct {
	http, https, ssh, telnet, ftp, tr069, winbox, api, apiSSL uint16 // TCP
	ssdp, natpmp, snmp, dns                                   uint16 // UDP
}

func (p ports) probes() []probe.Probe {
	return []probe.Probe{
		&httpprobe.Prober{HTTPPorts: []uint16{p.http}, HTTPSPorts: []uint16{p.https}},
		&upnpprobe.Prober{SSDPPort: p.ssdp, NATPMPPort: p.natpmp},
		&bannerprobe.Prober{SSHPorts: []uint16{p.ssh}, TelnetPorts: []uint16{p.telnet}, FTPPorts: []uint16{p.ftp}},
		&snmpprobe.Prober{Port: p.snmp, Communities: []string{"public", "private"}},
		&tr069probe.Prober{Ports: []uint16{p.tr069}},
		&mikrotikprobe.Prober{WinboxPort: p.winbox, APIPort: p.api, APISSLPort: p.apiSSL},
		&dnsprobe.Prober{Port: p.dns},
	}
}

// allTCP serves handle on every TCP port of a device.
func allTCP(t *testing.T, a netip.Addr, handle func(net.Conn)) ports {
	var p ports
	for _, dst := range []*uint16{&p.http, &p.https, &p.ssh, &p.telnet, &p.ftp, &p.tr069, &p.winbox, &p.api, &p.apiSSL} {
		*dst = probetest.ServeTCP(t, a, handle)
	}
	return p
}

func allUDP(t *testing.T, a netip.Addr, p *ports, reply func([]byte, netip.AddrPort) [][]byte) {
	for _, dst := range []*uint16{&p.ssdp, &p.natpmp, &p.snmp, &p.dns} {
		*dst = probetest.ServeUDP(t, a, reply)
	}
}

func silent([]byte, netip.AddrPort) [][]byte { return nil }

// manyHeaders sends a status line and then 100,000 header lines.
func manyHeaders(c net.Conn) {
	// Answer the request, not before it: bytes before the request make
	// Go's transport report an "unsolicited response" (a protocol error)
	// instead of reading the headers, depending on timing.
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	c.Read(make([]byte, 4096))
	c.SetReadDeadline(time.Time{})
	c.Write([]byte("HTTP/1.1 200 OK\r\n"))
	var b strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&b, "X-Header-%d: value\r\n", i)
		if b.Len() > 32<<10 {
			if _, err := c.Write([]byte(b.String())); err != nil {
				return
			}
			b.Reset()
		}
	}
	c.Write([]byte(b.String() + "\r\n"))
}

// hostileDevices builds the fake devices of issue 3's "hostile" scenario,
// each on its own loopback address.
func hostileDevices(t *testing.T) map[string]struct {
	addr  netip.Addr
	ports ports
} {
	out := map[string]struct {
		addr  netip.Addr
		ports ports
	}{}
	add := func(name string, a netip.Addr, p ports) {
		out[name] = struct {
			addr  netip.Addr
			ports ports
		}{a, p}
	}

	// 1. Every TCP service drips one byte a second, after the client's
	// request (HTTP) or at once (banner protocols); UDP stays silent.
	a := netip.MustParseAddr("127.0.0.71")
	drip := probetest.SlowDrip([]byte("HTTP/1.1 200 OK\r\nSSH-2.0-x\r\n220 ftp\r\n"+strings.Repeat("x", 100)), time.Second)
	p := allTCP(t, a, drip)
	allUDP(t, a, &p, silent)
	add("slow_drip", a, p)

	// 2. Every port, TCP and UDP, answers with garbage.
	a = netip.MustParseAddr("127.0.0.72")
	p = allTCP(t, a, probetest.Garbage(1<<20))
	allUDP(t, a, &p, func([]byte, netip.AddrPort) [][]byte { return [][]byte{probetest.GarbageBytes(1400)} })
	add("garbage", a, p)

	// 3. UPnP serves a 50 MB description; HTTP sends 100k headers.
	a = netip.MustParseAddr("127.0.0.73")
	igd := probetest.StartIGD(t, probetest.IGD{Addr: a, Server: "hostile UPnP/1.1", Mappings: 0,
		Description: func(w http.ResponseWriter) { probetest.WriteHugeXML(w, 50<<20) }})
	p = allTCP(t, a, manyHeaders)
	p.ssdp = igd.SSDP
	p.natpmp = probetest.ServeUDP(t, a, silent)
	p.snmp = probetest.ServeUDP(t, a, silent)
	p.dns = probetest.ServeUDP(t, a, silent)
	add("xml_50mb_and_100k_headers", a, p)

	// 4. UPnP serves an entity-expansion bomb; HTTP loops redirects; the
	// banners and pages are not UTF-8.
	a = netip.MustParseAddr("127.0.0.74")
	igd = probetest.StartIGD(t, probetest.IGD{Addr: a, Server: "hostile \xff UPnP/1.1", Mappings: -1,
		Description: func(w http.ResponseWriter) { fmt.Fprint(w, probetest.BillionLaughs) }})
	loop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "loop\xff\xfe")
		http.Redirect(w, r, "/loop"+r.URL.Path, http.StatusFound)
	})
	p = ports{
		http: probetest.ServeHTTP(t, a, loop), https: probetest.ServeHTTPS(t, a, probetest.SelfSignedCert(t, "hostile \u202e cert"), loop),
		ssh: probetest.ServeTCP(t, a, func(c net.Conn) { c.Write([]byte("SSH-2.0-\xff\xfe\xfd\r\n")) }),
		telnet: probetest.ServeTCP(t, a, func(c net.Conn) {
			c.Write([]byte("\xff\xfd\x01\xc3\x28 bad utf-8 \xa0\xa1\r\nLogin: "))
			time.Sleep(time.Second)
		}),
		ftp:    probetest.ServeTCP(t, a, func(c net.Conn) { c.Write([]byte("220 \xe9t\xe9\r\n")) }),
		tr069:  probetest.ServeHTTP(t, a, loop),
		winbox: probetest.ClosedPort(t, a), api: probetest.ServeTCP(t, a, probetest.Garbage(64)), apiSSL: probetest.ClosedPort(t, a),
		ssdp: igd.SSDP, natpmp: probetest.ClosedUDPPort(t, a), snmp: probetest.ClosedUDPPort(t, a),
		// DNS answers every question with a reply to another one.
		dns: probetest.ServeUDP(t, a, wrongQuestion),
	}
	add("entities_redirects_invalid_utf8", a, p)
	return out
}

// TestHostile runs every probe against the hostile devices at once and
// proves: each probe ends within the deadline, none panics, each returns
// an observation, the failures are classified, and the heap stays small.
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile suite takes about ten seconds")
	}
	devices := hostileDevices(t)

	var (
		peak    uint64
		stopMem = make(chan struct{})
		memDone = make(chan struct{})
	)
	runtime.GC()
	go func() {
		defer close(memDone)
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stopMem:
				return
			case <-tick.C:
			}
		}
	}()

	var (
		mu      sync.Mutex
		reports = map[string]probe.TargetReport{}
		wg      sync.WaitGroup
	)
	start := time.Now()
	for name, dev := range devices {
		wg.Go(func() {
			r := &probe.Runner{Dialer: probetest.Dialer(t, netx.Options{}, dev.addr), Probes: dev.ports.probes(), TargetTimeout: hostileTimeout}
			rep := r.RunTarget(t.Context(), probe.Target{Addr: dev.addr})
			mu.Lock()
			reports[name] = rep
			mu.Unlock()
		})
	}
	wg.Wait()
	wall := time.Since(start)
	close(stopMem)
	<-memDone

	names := make([]string, 0, len(reports))
	for n := range reports {
		names = append(names, n)
	}
	sort.Strings(names)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-34s %-9s %-16s %8s  %s\n", "device", "probe", "status", "seconds", "error")
	for _, n := range names {
		for _, res := range reports[n].Results {
			msg := ""
			if res.Err != nil {
				msg = res.Err.Error()
				if len(msg) > 90 {
					msg = msg[:90] + "…"
				}
			}
			fmt.Fprintf(&table, "%-34s %-9s %-16s %8.2f  %s\n", n, res.ProbeID, res.Status, res.Elapsed.Seconds(), msg)
			if res.Observation == nil {
				t.Errorf("%s/%s: nil observation", n, res.ProbeID)
			}
			var pe *probe.PanicError
			if asPanic(res.Err, &pe) {
				t.Errorf("%s/%s panicked: %v\n%s", n, res.ProbeID, pe.Value, pe.Stack)
			}
			if res.Elapsed > hostileTimeout+time.Second {
				t.Errorf("%s/%s took %v, deadline %v", n, res.ProbeID, res.Elapsed, hostileTimeout)
			}
		}
	}
	t.Logf("hostile run: %v wall, peak heap %.1f MB%s", wall.Round(10*time.Millisecond), float64(peak)/(1<<20), table.String())
	if peak > peakHeapLimit {
		t.Errorf("peak heap %d MB, limit %d MB", peak>>20, peakHeapLimit>>20)
	}
	if wall > hostileTimeout+3*time.Second {
		t.Errorf("hostile run took %v", wall)
	}

	// The failures that must show, per device and probe.
	want := map[string]map[string][]netx.Status{
		"slow_drip": {
			"http": {netx.StatusTimeout}, "banner": {netx.StatusTimeout}, "tr069": {netx.StatusTimeout},
			"upnp": {netx.StatusOK}, "snmp": {netx.StatusOK}, "dns": {netx.StatusOK}, // UDP silence: nothing answered, no error
			"mikrotik": {netx.StatusOK}, // Winbox accepted the connection; the API port's timeout is in the observation
		},
		"garbage": {
			"http": {netx.StatusProtocol}, "tr069": {netx.StatusProtocol},
			"upnp": {netx.StatusProtocol}, "snmp": {netx.StatusProtocol}, "dns": {netx.StatusProtocol},
			// Telnet has no framing: garbage is its banner. Winbox only
			// connects. Their siblings' failures are in the observations.
			"banner": {netx.StatusOK}, "mikrotik": {netx.StatusOK},
		},
		"xml_50mb_and_100k_headers": {
			"http": {netx.StatusTooLarge}, "tr069": {netx.StatusTooLarge}, "upnp": {netx.StatusTooLarge}, "dns": {netx.StatusOK},
		},
		"entities_redirects_invalid_utf8": {
			"upnp": {netx.StatusProtocol}, "http": {netx.StatusOK}, "tr069": {netx.StatusOK}, "banner": {netx.StatusOK},
			"dns": {netx.StatusProtocol},
		},
	}
	for dev, probes := range want {
		for _, res := range reports[dev].Results {
			if allowed, ok := probes[res.ProbeID]; ok && !slices.Contains(allowed, res.Status) {
				t.Errorf("%s/%s: status %s (%v), want one of %v", dev, res.ProbeID, res.Status, res.Err, allowed)
			}
		}
	}
	// Where a probe as a whole succeeded, its observation must still show
	// the hostile port as failed, not as fine.
	for _, res := range reports["slow_drip"].Results {
		if o, ok := res.Observation.(*mikrotikprobe.Observation); ok && (o.API.Status != netx.StatusTimeout || o.APISSL.Status != netx.StatusTimeout) {
			t.Errorf("slow_drip/mikrotik API %s, API-SSL %s; want timeouts", o.API.Status, o.APISSL.Status)
		}
	}
	// A DNS port that answers garbage or the wrong question is reachable
	// but proves nothing about recursion.
	for _, dev := range []string{"garbage", "entities_redirects_invalid_utf8"} {
		for _, res := range reports[dev].Results {
			if o, ok := res.Observation.(*dnsprobe.Observation); ok && (!o.Recursive.Open || o.Answered() || o.Recursion != dnsprobe.RecursionUnknown) {
				t.Errorf("%s/dns: open %v answered %v recursion %s; want open, unanswered, unknown", dev, o.Recursive.Open, o.Answered(), o.Recursion)
			}
		}
	}
	for _, res := range reports["garbage"].Results {
		if o, ok := res.Observation.(*bannerprobe.Observation); ok {
			for _, ep := range o.Endpoints {
				if ep.Service != bannerprobe.ServiceTelnet && ep.Status != netx.StatusProtocol {
					t.Errorf("garbage/banner %s: status %s, want protocol_error", ep.Service, ep.Status)
				}
			}
		}
		if o, ok := res.Observation.(*mikrotikprobe.Observation); ok && (o.API.Status != netx.StatusProtocol || o.APISSL.Status != netx.StatusProtocol) {
			t.Errorf("garbage/mikrotik API %s, API-SSL %s; want protocol errors", o.API.Status, o.APISSL.Status)
		}
	}
}

// wrongQuestion answers a DNS query with a well-formed reply to another
// name: the query's ID, the QR bit, NOERROR and an answer, none of which
// may be trusted.
func wrongQuestion(req []byte, _ netip.AddrPort) [][]byte {
	q := new(dns.Msg)
	if q.Unpack(req) != nil || len(q.Question) != 1 {
		return nil
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	m.Question[0].Name = "elsewhere.example.net."
	m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "elsewhere.example.net.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
		A: net.IPv4(192, 0, 2, 66)})
	b, err := m.Pack()
	if err != nil {
		return nil
	}
	return [][]byte{b}
}

func asPanic(err error, pe **probe.PanicError) bool {
	for err != nil {
		if p, ok := err.(*probe.PanicError); ok {
			*pe = p
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
