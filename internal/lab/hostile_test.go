// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/fake"
)

// quiet is how long a check waits to be sure that nothing (more) arrives.
const quiet = time.Second

// datagram is one reply the client received.
type datagram struct {
	from netip.Addr
	data []byte
	at   time.Duration // after the query was sent
}

// queryRaw sends a query for name to the hostile resolver from an
// unconnected socket in the client (so that replies from other addresses
// arrive too) and collects every datagram for wait.
func queryRaw(t *testing.T, l *lab.Lab, name string, wait time.Duration) (*dns.Msg, []datagram) {
	t.Helper()
	pc, err := l.ListenPacket(t.Context(), lab.Client, "udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	wire, _ := q.Pack()
	start := time.Now()
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Addr("hostile.dns"), 53))
	if _, err := pc.WriteTo(wire, to); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(start.Add(wait))
	var out []datagram
	buf := make([]byte, 70000)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			return q, out
		}
		a := from.(*net.UDPAddr).AddrPort().Addr().Unmap()
		out = append(out, datagram{from: a, data: bytes.Clone(buf[:n]), at: time.Since(start)})
	}
}

// checkHostileDNS checks every name of hostile_dns, and a random name for
// the default, against its documented behaviour (package fake).
func checkHostileDNS(t *testing.T, l *lab.Lab) {
	spec := l.Scenario().HostileDNS
	cases := map[string]string{randomLabel() + ".example.org": spec.Default}
	for n, b := range spec.Names {
		cases[n] = b
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	// At once: most of them wait (for a slow reply, or for nothing).
	runConcurrently(t, names, func(t *testing.T, name string) {
		checkDNSBehavior(t, l, name, fake.DNSBehavior(cases[name]))
	})
	t.Run("tcp_refused", func(t *testing.T) {
		_, err := l.DialContext(t.Context(), lab.Client, "tcp", netip.AddrPortFrom(l.Addr("hostile.dns"), 53).String())
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("TCP to the hostile resolver: %v, want refused (it has no TCP)", err)
		}
	})
}

func checkDNSBehavior(t *testing.T, l *lab.Lab, name string, b fake.DNSBehavior) {
	wait := quiet
	if b == fake.DNSSlow {
		wait = fake.SlowDelay + quiet
	}
	q, got := queryRaw(t, l, name, wait)
	hostile, spoof := l.Addr("hostile.dns"), l.Addr("hostile.dns.spoof")
	if b == fake.DNSSilent {
		if len(got) != 0 {
			t.Errorf("%d replies, want none", len(got))
		}
		return
	}
	if len(got) != 1 {
		t.Fatalf("%d replies, want 1", len(got))
	}
	d := got[0]
	wantFrom := hostile
	if b == fake.DNSSpoofedSource {
		wantFrom = spoof
	}
	if d.from != wantFrom {
		t.Errorf("reply from %v, want %v", d.from, wantFrom)
	}
	r := new(dns.Msg)
	perr := r.Unpack(d.data)
	id := uint16(0)
	if len(d.data) >= 2 {
		id = binary.BigEndian.Uint16(d.data)
	}
	aitm := []netip.Addr{l.Addr("aitm.https")}
	switch b {
	case fake.DNSMalformed, fake.DNSPointerLoop:
		if id != q.Id || perr == nil {
			t.Errorf("ID %d (query %d), unpack error %v: want the right ID and a packet that does not parse", id, q.Id, perr)
		}
	case fake.DNSGarbage:
		if n := len(d.data); n < 12 || n > 512 {
			t.Errorf("%d bytes, want 12 to 512", n)
		}
	case fake.DNSEmpty:
		if len(d.data) != 0 {
			t.Errorf("%d bytes, want an empty datagram", len(d.data))
		}
	case fake.DNSTruncated:
		if perr != nil || !r.Truncated || len(r.Answer) != 0 || r.Id != q.Id {
			t.Errorf("reply %v (%v), want TC and no answers", r, perr)
		}
	case fake.DNSMismatchedID:
		if perr != nil || r.Id == q.Id {
			t.Errorf("ID %d (query %d), %v: want a valid reply with another ID", r.Id, q.Id, perr)
		}
	case fake.DNSSpoofedSource, fake.DNSSlow:
		if a, _ := answerAddrs(r); perr != nil || r.Id != q.Id || !slices.Equal(a, aitm) {
			t.Errorf("reply %v (%v), want %v", r, perr, aitm)
		}
		if b == fake.DNSSlow && d.at < fake.SlowDelay-500*time.Millisecond {
			t.Errorf("reply after %v, want after about %v", d.at, fake.SlowDelay)
		}
	case fake.DNSOversized:
		if perr != nil || r.Truncated || len(r.Answer) != fake.OversizedRecords || len(d.data) < 60000 {
			t.Errorf("%d bytes, %d answers, TC %v (%v): want about 64 KB, %d answers, no TC", len(d.data), len(r.Answer), r.Truncated, perr, fake.OversizedRecords)
		}
	case fake.DNSWrongQuestion:
		if perr != nil || r.Id != q.Id || len(r.Question) != 1 || r.Question[0].Name != fake.WrongQuestionName {
			t.Errorf("reply %v (%v), want the question %s", r, perr, fake.WrongQuestionName)
		}
	case fake.DNSCNAMELoop:
		if perr != nil || len(r.Answer) != 2 || r.Answer[0].(*dns.CNAME).Target != r.Answer[1].Header().Name ||
			r.Answer[1].(*dns.CNAME).Target != r.Answer[0].Header().Name {
			t.Errorf("reply %v (%v), want two CNAMEs pointing at each other", r, perr)
		}
	case fake.DNSServfail:
		if perr != nil || r.Rcode != dns.RcodeServerFailure {
			t.Errorf("reply %v (%v), want SERVFAIL", r, perr)
		}
	default:
		t.Fatalf("no check for behaviour %q", b)
	}
}

// checkHostileDevice checks every port and path of the hostile section
// against its documented behaviour (package fake).
func checkHostileDevice(t *testing.T, l *lab.Lab) {
	spec := l.Scenario().Hostile
	var names []string
	for port := range spec.TCP {
		names = append(names, "tcp_"+strconv.Itoa(int(port)))
	}
	for port := range spec.UDP {
		names = append(names, "udp_"+strconv.Itoa(int(port)))
	}
	runConcurrently(t, names, func(t *testing.T, name string) {
		proto, num, _ := strings.Cut(name, "_")
		n, _ := strconv.Atoi(num)
		port := uint16(n)
		if proto == "tcp" {
			checkDeviceTCP(t, l, port, fake.DeviceBehavior(spec.TCP[port]))
		} else {
			checkDeviceUDP(t, l, port, fake.DeviceBehavior(spec.UDP[port]))
		}
	})
}

// checkDeviceTCP checks one TCP port of the hostile device.
func checkDeviceTCP(t *testing.T, l *lab.Lab, port uint16, b fake.DeviceBehavior) {
	spec := l.Scenario().Hostile
	router := l.Addr("router.lan")
	switch b {
	case fake.DevicePaths:
		for path, pb := range spec.HTTP {
			checkHTTPBehavior(t, l, port, path, fake.DeviceBehavior(pb))
		}
		if resp, _, err := rawHTTP(t.Context(), l, lab.Client, router, port, "/no-such-path", "", 1024); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown path: %v %v, want 404", resp, err)
		}
	case fake.DeviceGarbage:
		conn := dialRouter(t, l, port)
		all, _ := io.ReadAll(io.LimitReader(conn, 2*fake.GarbageBytes))
		if len(all) != fake.GarbageBytes || all[0] != 0xff || utf8.Valid(all) || bytes.Contains(all, []byte("\n")) {
			t.Errorf("%d bytes starting %x, want %d bytes of garbage without a line", len(all), all[:min(len(all), 8)], fake.GarbageBytes)
		}
	case fake.DeviceSilent:
		conn := dialRouter(t, l, port)
		_, _ = conn.Write([]byte("\x16\x03\x01\x00\x05hello")) // a TLS record header and then some
		_ = conn.SetReadDeadline(time.Now().Add(quiet))
		if n, err := conn.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read %d bytes, %v; want nothing", n, err)
		}
	default:
		checkHTTPBehavior(t, l, port, "/any/path", b)
	}
}

// checkDeviceUDP checks one UDP port of the hostile device.
func checkDeviceUDP(t *testing.T, l *lab.Lab, port uint16, b fake.DeviceBehavior) {
	spec := l.Scenario().Hostile
	router := l.Addr("router.lan")
	switch b {
	case fake.DeviceGarbage:
		conn, err := l.DialContext(t.Context(), lab.Client, "udp", netip.AddrPortFrom(router, port).String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = conn.Write(snmpGetRequest(oidSysDescr))
		buf := make([]byte, 2048)
		n, err := conn.Read(buf)
		if err != nil || n < 64 || buf[0] != 0xff {
			t.Errorf("reply of %d bytes starting %x (%v), want garbage", n, buf[:min(n, 4)], err)
		}
	case fake.DeviceSSDP:
		checkSSDP(t, l, spec.SSDP)
	default:
		t.Fatalf("no check for behaviour %q", b)
	}
}

func dialRouter(t *testing.T, l *lab.Lab, port uint16) net.Conn {
	t.Helper()
	conn, err := l.DialContext(t.Context(), lab.Client, "tcp", netip.AddrPortFrom(l.Addr("router.lan"), port).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}

// checkHTTPBehavior requests path on port and checks behaviour b.
func checkHTTPBehavior(t *testing.T, l *lab.Lab, port uint16, path string, b fake.DeviceBehavior) {
	t.Helper()
	router := l.Addr("router.lan")
	if b == fake.DeviceDrip {
		conn := dialRouter(t, l, port)
		_, _ = conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		start := time.Now()
		b := make([]byte, 3)
		if _, err := io.ReadFull(conn, b); err != nil || string(b) != "HTT" {
			t.Fatalf("drip %s: %q %v", path, b, err)
		}
		if d := time.Since(start); d < 2*fake.DripInterval-300*time.Millisecond {
			t.Errorf("drip %s: 3 bytes in %v, want one a second", path, d)
		}
		return
	}
	resp, body, err := rawHTTP(t.Context(), l, lab.Client, router, port, path, "", 2*fake.BigBodyBytes)
	if err != nil {
		t.Fatalf("%s %s: %v", b, path, err)
	}
	switch b {
	case fake.DeviceHeaders100k:
		if resp.StatusCode != http.StatusOK || len(resp.Header) < fake.ManyHeaders {
			t.Errorf("%s: %s with %d headers, want %d", path, resp.Status, len(resp.Header), fake.ManyHeaders)
		}
	case fake.DeviceRedirectLoop:
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != path {
			t.Errorf("%s: %s to %q, want 302 to itself", path, resp.Status, resp.Header.Get("Location"))
		}
	case fake.DeviceInvalidUTF8:
		if resp.StatusCode != http.StatusUnauthorized || utf8.ValidString(resp.Header.Get("Server")) ||
			utf8.ValidString(resp.Header.Get("WWW-Authenticate")) || utf8.Valid(body) || !bytes.Contains(body, []byte("<title>")) {
			t.Errorf("%s: %s, Server %q, body %q: want 401 with invalid UTF-8", path, resp.Status, resp.Header.Get("Server"), body)
		}
	case fake.DeviceBig50MB:
		if resp.StatusCode != http.StatusOK || len(body) != fake.BigBodyBytes || !bytes.HasPrefix(body, []byte("<?xml")) {
			t.Errorf("%s: %s, %d bytes, want %d of XML", path, resp.Status, len(body), fake.BigBodyBytes)
		}
	case fake.DeviceBillionLaughs:
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<!ENTITY lol9 ")) || !bytes.Contains(body, []byte("&lol9;</friendlyName>")) {
			t.Errorf("%s: %s %q, want the entity expansion", path, resp.Status, body)
		}
	default:
		t.Fatalf("no check for behaviour %q", b)
	}
}

// checkSSDP sends an M-SEARCH to the SSDP group and unicast, and expects
// every documented location from each.
func checkSSDP(t *testing.T, l *lab.Lab, locations []string) {
	t.Helper()
	var want []string
	for _, loc := range locations {
		port, path, err := fake.SplitLocation(loc)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, "http://"+netip.AddrPortFrom(l.Addr("router.lan"), port).String()+path)
	}
	if len(want) == 0 {
		t.Fatal("hostile.ssdp lists no locations")
	}
	sort.Strings(want)
	for _, dst := range []string{"239.255.255.250:1900", l.Addr("router.lan").String() + ":1900"} {
		pc, err := l.ListenPacket(t.Context(), lab.Client, "udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		to, _ := net.ResolveUDPAddr("udp4", dst)
		if _, err := pc.WriteTo(udpProbe("1900"), to); err != nil {
			t.Fatal(err)
		}
		_ = pc.SetReadDeadline(time.Now().Add(quiet))
		var got []string
		buf := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(buf[:n])), nil)
			if err != nil {
				t.Errorf("SSDP response %q: %v", buf[:n], err)
				continue
			}
			got = append(got, resp.Header.Get("Location"))
		}
		pc.Close()
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("M-SEARCH to %s: locations %v, want %v", dst, got, want)
		}
	}
}
