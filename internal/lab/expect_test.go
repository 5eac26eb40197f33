// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/lab"
)

// Checks of a running lab against its scenario's expect block, used by
// TestScenarioExpectations. They run from the test process through sockets
// opened inside a lab host (Lab.DialContext, Lab.Exchange).

// Port probes. Inside the lab a reset or a port unreachable comes back in
// microseconds, but the lab tests run many labs at once on two cores, so
// probeTimeout (connecting) is generous; udpQuiet is how long a UDP probe
// waits before it counts silence as open.
const (
	probeTimeout = 5 * time.Second
	udpQuiet     = time.Second
)

// checkResolver checks one expect.resolvers entry from the client.
func checkResolver(t *testing.T, l *lab.Lab, r lab.ResolverExpect) {
	ctx := t.Context()
	server := netip.MustParseAddr(r.Server)
	trusted := l.Addr("trusted.resolver")
	if !trusted.IsValid() || !l.Scenario().HasService("trusted-resolver") {
		t.Fatal("resolver expectations need the trusted resolver")
	}
	for _, rec := range lab.Records() {
		want, err := l.LookupA(ctx, lab.Client, trusted, rec.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.LookupA(ctx, lab.Client, server, rec.Name)
		if err != nil {
			t.Fatalf("%s @%s: %v", rec.Name, server, err)
		}
		hijacked, variant := slices.Contains(r.Hijacked, rec.Name), slices.Contains(r.Variant, rec.Name)
		if differs := !slices.Equal(got, want); differs != (hijacked || variant) {
			t.Errorf("%s: %v answers %v, trusted %v; difference expected: %v", rec.Name, server, got, want, hijacked || variant)
			continue
		}
		for _, a := range got {
			switch err := tlsProof(ctx, l, a, rec.Name); {
			case hijacked && err == nil:
				t.Errorf("%s: hijacked to %v, which serves a valid certificate for it", rec.Name, a)
			case hijacked && !isCertError(err):
				t.Errorf("%s: hijacked to %v: handshake error %v, want a certificate error", rec.Name, a, err)
			case variant && err != nil:
				t.Errorf("%s: variant answer %v: %v, want a valid certificate (CDN)", rec.Name, a, err)
			}
		}
	}
	// HTTPS-only lies: the HTTPS record's hint is the attacker's, the A
	// answer stays honest (checked above).
	for _, n := range r.HTTPSHijacked {
		to, _ := l.Scenario().HTTPSHint(n)
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(n), dns.TypeHTTPS)
		resp, err := l.Exchange(ctx, lab.Client, "udp", netip.AddrPortFrom(server, 53), m)
		if err != nil {
			t.Errorf("%s HTTPS @%s: %v", n, server, err)
			continue
		}
		var hints []netip.Addr
		for _, rr := range resp.Answer {
			if h, ok := rr.(*dns.HTTPS); ok {
				for _, kv := range h.Value {
					if v4, ok := kv.(*dns.SVCBIPv4Hint); ok {
						for _, ip := range v4.Hint {
							a, _ := netip.AddrFromSlice(ip)
							hints = append(hints, a.Unmap())
						}
					}
				}
			}
		}
		if !slices.Equal(hints, []netip.Addr{to}) {
			t.Errorf("%s HTTPS @%s: hints %v, want %v", n, server, hints, to)
		}
	}
	// Held-back names come late (over UDP, as a stub asks); asked all at
	// once, they cost one delay.
	var wg sync.WaitGroup
	for _, n := range r.Delayed {
		wg.Go(func() {
			start := time.Now()
			if _, err := l.LookupA(ctx, lab.Client, server, n); err != nil {
				t.Errorf("%s @%s: %v", n, server, err)
			} else if took := time.Since(start); took < time.Duration(r.DelayMS)*time.Millisecond {
				t.Errorf("%s @%s answered in %v, want it held back %d ms", n, server, took, r.DelayMS)
			}
		})
	}
	wg.Wait()
	checkDNSSEC(t, l, server, r.DNSSECUnsigned)
	checkNXDomain(t, l, server, r.NXDomainRedirect)
	if r.VersionBind != "" {
		if got := versionBind(t, l, server); !strings.HasPrefix(got, r.VersionBind) {
			t.Errorf("version.bind = %q, want %q...", got, r.VersionBind)
		}
	}
	for name, want := range r.Answers {
		got, err := l.LookupA(ctx, lab.Client, server, name)
		if err != nil || !slices.Equal(got, []netip.Addr{netip.MustParseAddr(want)}) {
			t.Errorf("%s @%s = %v, %v; want %s", name, server, got, err, want)
		}
	}
	if r.DoT {
		checkDoT(t, l, server, r.Hijacked)
	}
}

// tlsProof connects from the client to addr:443 with SNI name and verifies
// the chain against the lab CA, as a DNS checker's TLS proof does.
func tlsProof(ctx context.Context, l *lab.Lab, addr netip.Addr, name string) error {
	cfg, err := l.TLSConfig(name)
	if err != nil {
		return err
	}
	conn, err := l.DialContext(ctx, lab.Client, "tcp", netip.AddrPortFrom(addr, 443).String())
	if err != nil {
		return err
	}
	tc := tls.Client(conn, cfg)
	defer tc.Close()
	hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return tc.HandshakeContext(hctx)
}

func isCertError(err error) bool {
	var cv *tls.CertificateVerificationError
	return errors.As(err, &cv)
}

// checkDNSSEC asks server with the DO bit for every canary in corp.test:
// names in unsigned must come back without RRSIG and AD (and signed and
// validated from the trusted resolver), the others with their RRSIG.
func checkDNSSEC(t *testing.T, l *lab.Lab, server netip.Addr, unsigned []string) {
	t.Helper()
	for _, rec := range lab.Records() {
		if !dns.IsSubDomain(lab.SignedZone, dns.Fqdn(rec.Name)) {
			continue
		}
		r := askDO(t, l, server, rec.Name)
		signed := hasType(r, dns.TypeRRSIG)
		if slices.Contains(unsigned, rec.Name) {
			if signed || r.AuthenticatedData {
				t.Errorf("%s @%s: RRSIG %v, AD %v; want DNSSEC stripped", rec.Name, server, signed, r.AuthenticatedData)
			}
			if tr := askDO(t, l, l.Addr("trusted.resolver"), rec.Name); !hasType(tr, dns.TypeRRSIG) || !tr.AuthenticatedData {
				t.Errorf("%s @trusted: not signed and validated", rec.Name)
			}
		} else if !signed {
			t.Errorf("%s @%s: no RRSIG, want the signed answer passed through", rec.Name, server)
		}
	}
}

func askDO(t *testing.T, l *lab.Lab, server netip.Addr, name string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.SetEdns0(1232, true)
	r, err := l.Exchange(t.Context(), lab.Client, "udp", netip.AddrPortFrom(server, 53), m)
	if err != nil {
		t.Fatalf("%s @%s: %v", name, server, err)
	}
	return r
}

// randomLabel is a label no zone of the lab has.
func randomLabel() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "rw-nx-" + hex.EncodeToString(b[:])
}

// checkNXDomain asks for random labels: under nx's parents they must get
// nx.To (the trusted resolver: NXDOMAIN), and under corp.test stay
// NXDOMAIN; without nx, a random label under invalid. is NXDOMAIN.
func checkNXDomain(t *testing.T, l *lab.Lab, server netip.Addr, nx *lab.NXExpect) {
	t.Helper()
	ask := func(server netip.Addr, name string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		r, err := l.Exchange(t.Context(), lab.Client, "udp", netip.AddrPortFrom(server, 53), m)
		if err != nil {
			t.Fatalf("%s @%s: %v", name, server, err)
		}
		return r
	}
	if nx == nil {
		name := randomLabel() + ".invalid"
		if r := ask(server, name); r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 {
			t.Errorf("%s @%s: %s %v, want NXDOMAIN", name, server, dns.RcodeToString[r.Rcode], r.Answer)
		}
		return
	}
	for _, p := range nx.Parents {
		name := randomLabel() + "." + p
		r := ask(server, name)
		got, _ := answerAddrs(r)
		if !slices.Equal(got, []netip.Addr{netip.MustParseAddr(nx.To)}) {
			t.Errorf("%s @%s = %s %v, want rewritten to %s", name, server, dns.RcodeToString[r.Rcode], got, nx.To)
		}
		if r := ask(l.Addr("trusted.resolver"), name); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s @trusted = %s, want NXDOMAIN", name, dns.RcodeToString[r.Rcode])
		}
	}
	name := randomLabel() + ".corp.test"
	if r := ask(server, name); r.Rcode != dns.RcodeNameError {
		t.Errorf("%s @%s = %s, want NXDOMAIN (corp.test is not rewritten)", name, server, dns.RcodeToString[r.Rcode])
	}
}

func answerAddrs(r *dns.Msg) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ad, _ := netip.AddrFromSlice(a.A)
			out = append(out, ad.Unmap())
		}
	}
	return out, nil
}

// versionBind returns the CHAOS TXT version.bind answer of server.
func versionBind(t *testing.T, l *lab.Lab, server netip.Addr) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("version.bind.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	r, err := l.Exchange(t.Context(), lab.Client, "udp", netip.AddrPortFrom(server, 53), m)
	if err != nil {
		t.Fatalf("version.bind @%s: %v", server, err)
	}
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			return strings.Join(txt.Txt, "")
		}
	}
	return ""
}

// checkDoT queries server over DNS over TLS (port 853): its certificate
// must not be valid for the lab CA, and it must give the hijacked names the
// same answers as over Do53.
func checkDoT(t *testing.T, l *lab.Lab, server netip.Addr, hijacked []string) {
	t.Helper()
	ctx := t.Context()
	conn, err := l.DialContext(ctx, lab.Client, "tcp", netip.AddrPortFrom(server, 853).String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: lab.AttackerDoTName}) //nolint:gosec // checked by hand below
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, err := l.TLSConfig(lab.AttackerDoTName)
	if err != nil {
		t.Fatal(err)
	}
	cert := tc.ConnectionState().PeerCertificates[0]
	if _, err := cert.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: lab.AttackerDoTName}); err == nil {
		t.Error("the DoT certificate is valid for the lab CA, want the attacker's own")
	}
	dc := &dns.Conn{Conn: tc}
	for _, name := range append(slices.Clone(hijacked), "www.example.org") {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		if err := dc.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		r, err := dc.ReadMsg()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := answerAddrs(r)
		want, err := l.LookupA(ctx, lab.Client, server, name)
		if err != nil || !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("%s over DoT = %v, over Do53 = %v (%v)", name, got, want, err)
		}
	}
}

// Ports every exposure check probes, besides the listed ones: the
// management and risky services of issue 3 (FTP, SSH, telnet, DNS, HTTP,
// SMUX, HTTPS, UPnP, TR-069, alternate web ports, Winbox, RouterOS API,
// API-SSL) and SNMP, SSDP, NAT-PMP on UDP.
var (
	probeTCP = []uint16{21, 22, 23, 53, 80, 199, 443, 1900, 5000, 7547, 8080, 8081, 8082, 8291, 8443, 8728, 8729, 49152}
	probeUDP = []uint16{53, 161, 1900, 5351}
)

// checkExposure probes the router from the client (router.lan) and from
// the ISP (router.wan). A listed TCP port must accept; an unlisted one
// must reset. A listed UDP port must not answer "port unreachable" (a
// reply or silence: open, as UDP scanners say); an unlisted one must.
func checkExposure(t *testing.T, l *lab.Lab) {
	x := l.Scenario().Expect.Exposure
	for _, side := range []struct {
		name string
		from lab.Host
		to   netip.Addr
		open []string
	}{
		{"lan", lab.Client, l.Addr("router.lan"), x.LAN},
		{"wan", lab.ISP, l.Addr("router.wan"), x.WAN},
	} {
		ports := map[string]bool{}
		for _, p := range probeTCP {
			ports[fmt.Sprintf("tcp/%d", p)] = false
		}
		for _, p := range probeUDP {
			ports[fmt.Sprintf("udp/%d", p)] = false
		}
		for _, p := range side.open {
			ports[p] = true
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for p, want := range ports {
			wg.Go(func() {
				got, err := portOpen(t.Context(), l, side.from, side.to, p)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s %s: %v", side.name, p, err)
				} else if got != want {
					t.Errorf("%s %s %v: open = %v, want %v", side.name, side.to, p, got, want)
				}
			})
		}
		wg.Wait()
	}
}

// portOpen probes "tcp/N" or "udp/N" on to from host.
func portOpen(ctx context.Context, l *lab.Lab, host lab.Host, to netip.Addr, port string) (bool, error) {
	proto, num, _ := strings.Cut(port, "/")
	addr := to.String() + ":" + num
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := l.DialContext(ctx, host, proto, addr)
	if proto == "tcp" {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		conn.Close()
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(udpQuiet))
	if _, err := conn.Write(udpProbe(num)); err != nil {
		return false, err
	}
	_, err = conn.Read(make([]byte, 2048))
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return false, nil
	case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		return true, nil
	}
	return false, err
}

// udpProbe is a request the service usually on port answers.
func udpProbe(port string) []byte {
	switch port {
	case "53":
		m := new(dns.Msg)
		m.SetQuestion("www.example.org.", dns.TypeA)
		b, _ := m.Pack()
		return b
	case "161":
		return snmpGetRequest(oidSysDescr)
	case "1900":
		return []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")
	case "5351":
		return []byte{0, 0} // NAT-PMP: version 0, external address request
	}
	return []byte("routerwatch lab probe\n")
}

// rawHTTP sends one HTTP/1.1 request from host to addr:port exactly as
// given (the path is not cleaned) and returns the response with its body
// read (up to limit bytes).
func rawHTTP(ctx context.Context, l *lab.Lab, host lab.Host, addr netip.Addr, port uint16, path, auth string, limit int64) (*http.Response, []byte, error) {
	conn, err := l.DialContext(ctx, host, "tcp", netip.AddrPortFrom(addr, port).String())
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr.String() + "\r\nConnection: close\r\n"
	if auth != "" {
		req += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body.Close()
	return resp, body, err
}

// checkHTTP sends expect.http's requests to the router's web UI.
func checkHTTP(t *testing.T, l *lab.Lab) {
	for _, h := range l.Scenario().Expect.HTTP {
		port := h.Port
		if port == 0 {
			port = 80
		}
		resp, body, err := rawHTTP(t.Context(), l, lab.Client, l.Addr("router.lan"), port, h.Path, h.Auth, 1<<20)
		if err != nil {
			t.Errorf("GET %s: %v", h.Path, err)
			continue
		}
		if resp.StatusCode != h.Status {
			t.Errorf("GET %s (auth %q): %s, want %d", h.Path, h.Auth, resp.Status, h.Status)
		}
		if h.ContentType != "" && resp.Header.Get("Content-Type") != h.ContentType {
			t.Errorf("GET %s: Content-Type %q, want %q", h.Path, resp.Header.Get("Content-Type"), h.ContentType)
		}
		if h.Body != "" && string(body) != h.Body {
			t.Errorf("GET %s: body %q, want %q", h.Path, body, h.Body)
		}
	}
}

// checkIdentity checks what each of the router's services announces, from
// the client and, for services in wan_services, from the ISP.
func checkIdentity(t *testing.T, l *lab.Lab) {
	sc := l.Scenario()
	id := sc.Identity
	ctx := t.Context()
	type vantage struct {
		host lab.Host
		addr netip.Addr
	}
	sides := func(service string) []vantage {
		out := []vantage{{lab.Client, l.Addr("router.lan")}}
		if slices.Contains(sc.WANServices, service) {
			out = append(out, vantage{lab.ISP, l.Addr("router.wan")})
		}
		return out
	}
	if sc.HasService("web") {
		for _, v := range sides("web") {
			resp, body, err := rawHTTP(ctx, l, v.host, v.addr, 80, "/", "", 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("Server"); got != id.WebServer {
				t.Errorf("web %v: Server %q, want %q", v.addr, got, id.WebServer)
			}
			switch sc.Web.UI {
			case lab.WebLoginPage:
				if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<title>"+id.WebTitle+"</title>")) {
					t.Errorf("web %v: %s %q, want 200 with title %q", v.addr, resp.Status, body, id.WebTitle)
				}
			default:
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="`+id.WebRealm+`"`) {
					t.Errorf("web %v: %s, WWW-Authenticate %q", v.addr, resp.Status, resp.Header.Get("WWW-Authenticate"))
				}
			}
		}
	}
	if sc.HasService("ssh") {
		for _, v := range sides("ssh") {
			if b := banner(t, l, v.host, v.addr, 22, 16); !bytes.HasPrefix(b, []byte("SSH-2.0-dropbear")) {
				t.Errorf("SSH banner on %v: %q", v.addr, b)
			}
		}
	}
	if sc.HasService("telnet") {
		// IAC negotiation (12 bytes), a blank line, the banner
		b := banner(t, l, lab.Client, l.Addr("router.lan"), 23, 15+len(id.TelnetBanner))
		if !bytes.HasPrefix(b, []byte{0xff, 0xfd, 0x01}) || !bytes.Contains(b, []byte(id.TelnetBanner)) { // IAC DO ECHO
			t.Errorf("telnet starts with %q, want IAC DO ECHO and %q", b, id.TelnetBanner)
		}
	}
	if sc.HasService("upnp") {
		client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: l.Dialer(lab.Client)}}
		resp, err := client.Get("http://" + l.Addr("router.lan").String() + ":5000/rootDesc.xml")
		if err != nil {
			t.Fatal(err)
		}
		desc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for tag, want := range map[string]string{"friendlyName": id.UPnPFriendlyName, "manufacturer": id.UPnPManufacturer,
			"modelName": id.UPnPModelName, "modelNumber": id.UPnPModelNumber} {
			if !bytes.Contains(desc, []byte("<"+tag+">"+want+"</"+tag+">")) {
				t.Errorf("UPnP description lacks <%s>%s</%s>", tag, want, tag)
			}
		}
		if !strings.Contains(resp.Header.Get("Server"), "MiniUPnPd/") {
			t.Errorf("UPnP Server %q, want MiniUPnPd", resp.Header.Get("Server"))
		}
	}
	if sc.HasService("snmp") {
		router := l.Addr("router.lan")
		if tag, v := snmpGet(t, l, router, oidSysDescr); tag != 0x04 || string(v) != id.SNMPSysDescr {
			t.Errorf("SNMP sysDescr = %x %q, want %q", tag, v, id.SNMPSysDescr)
		}
		if tag, v := snmpGet(t, l, router, oidSysObjectID); tag != 0x06 || !bytes.Equal(v, encodeOID(parseOID(id.SNMPSysObjectID))) {
			t.Errorf("SNMP sysObjectID = %x %x, want %s", tag, v, id.SNMPSysObjectID)
		}
	}
}

// banner reads the first n bytes a TCP service sends.
func banner(t *testing.T, l *lab.Lab, host lab.Host, addr netip.Addr, port uint16, n int) []byte {
	t.Helper()
	conn, err := l.DialContext(t.Context(), host, "tcp", netip.AddrPortFrom(addr, port).String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, n)
	k, _ := io.ReadAtLeast(conn, b, n)
	return b[:k]
}

// SNMP objects of the system group (RFC 3418).
var (
	oidSysDescr    = []int{1, 3, 6, 1, 2, 1, 1, 1, 0}
	oidSysObjectID = []int{1, 3, 6, 1, 2, 1, 1, 2, 0}
)

func parseOID(s string) []int {
	var out []int
	for _, f := range strings.Split(strings.TrimPrefix(s, "."), ".") {
		var n int
		fmt.Sscan(f, &n)
		out = append(out, n)
	}
	return out
}

// encodeOID returns the BER contents of an OBJECT IDENTIFIER.
func encodeOID(oid []int) []byte {
	out := []byte{byte(40*oid[0] + oid[1])}
	for _, n := range oid[2:] {
		var enc []byte
		for enc = []byte{byte(n & 0x7f)}; n > 0x7f; {
			n >>= 7
			enc = append([]byte{byte(n&0x7f) | 0x80}, enc...)
		}
		out = append(out, enc...)
	}
	return out
}

// tlv is a BER TLV with a short length (everything here is small).
func tlv(tag byte, content ...[]byte) []byte {
	c := bytes.Join(content, nil)
	return append([]byte{tag, byte(len(c))}, c...)
}

// snmpGetRequest is an SNMPv2c GET of oid with community public.
func snmpGetRequest(oid []int) []byte {
	varbind := tlv(0x30, tlv(0x06, encodeOID(oid)), []byte{0x05, 0x00})
	pdu := tlv(0xa0, []byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}, tlv(0x30, varbind)) // id 1, no error
	return tlv(0x30, []byte{0x02, 0x01, 0x01}, tlv(0x04, []byte("public")), pdu)                       // v2c
}

// snmpGet sends an SNMPv2c GET of oid from the client and returns the tag
// and contents of the value in the reply.
func snmpGet(t *testing.T, l *lab.Lab, router netip.Addr, oid []int) (byte, []byte) {
	t.Helper()
	conn, err := l.DialContext(t.Context(), lab.Client, "udp", netip.AddrPortFrom(router, 161).String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write(snmpGetRequest(oid)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1500)
	n, err := conn.Read(b)
	if err != nil {
		t.Fatalf("SNMP: %v", err)
	}
	b = b[:n]
	enc := tlv(0x06, encodeOID(oid))
	i := bytes.Index(b, enc)
	if i < 0 || i+len(enc)+2 > n {
		t.Fatalf("SNMP reply without the object: %x", b)
	}
	v := b[i+len(enc):]
	ln := int(v[1])
	return v[0], v[2:min(len(v), 2+ln)]
}
