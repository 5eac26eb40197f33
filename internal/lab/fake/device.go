// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DeviceBehavior is how one port (or HTTP path) of the hostile device
// answers.
type DeviceBehavior string

// The hostile device's behaviours. "port" means a TCP port's behaviour,
// "path" an entry of DeviceConfig.HTTP; the HTTP ones work as both (as a
// port's behaviour they answer every path).
const (
	// DeviceGarbage (TCP or UDP port): TCP sends GarbageBytes random bytes
	// (no line structure, invalid UTF-8) and closes; UDP answers every
	// datagram with 64 to 1024 random bytes. Meant for the SSH, telnet
	// and SNMP ports.
	DeviceGarbage DeviceBehavior = "garbage"
	// DeviceSilent (TCP port): accepts, reads and never sends (a TLS or
	// banner read hangs until the client gives up).
	DeviceSilent DeviceBehavior = "silent"
	// DevicePaths (TCP port): an HTTP server dispatching on
	// DeviceConfig.HTTP; unknown paths get 404.
	DevicePaths DeviceBehavior = "paths"
	// DeviceSSDP (UDP port 1900): answers every M-SEARCH, unicast or to
	// 239.255.255.250, with one response per DeviceConfig.SSDP location.
	DeviceSSDP DeviceBehavior = "ssdp"
	// DeviceDrip (HTTP): an HTTP response that never ends, sent one byte
	// per second from the first byte of the status line on.
	DeviceDrip DeviceBehavior = "drip"
	// DeviceHeaders100k (HTTP): 200 with ManyHeaders header lines.
	DeviceHeaders100k DeviceBehavior = "headers-100k"
	// DeviceRedirectLoop (HTTP): 302 to the requested path itself.
	DeviceRedirectLoop DeviceBehavior = "redirect-loop"
	// DeviceInvalidUTF8 (HTTP): 401 whose Server header, Basic realm,
	// title and body hold invalid UTF-8.
	DeviceInvalidUTF8 DeviceBehavior = "invalid-utf8"
	// DeviceBig50MB (HTTP): 200 text/xml, a UPnP-looking device description
	// of BigBodyBytes (50 MiB) with a huge friendlyName.
	DeviceBig50MB DeviceBehavior = "big-50mb"
	// DeviceBillionLaughs (HTTP): 200 text/xml, a UPnP-looking device
	// description whose friendlyName is the classic entity expansion
	// (10 levels of 10: a billion "lol"s if expanded).
	DeviceBillionLaughs DeviceBehavior = "billion-laughs"
)

// Sizes of the hostile device's answers.
const (
	// GarbageBytes is what the TCP garbage behaviour sends.
	GarbageBytes = 256 << 10
	// ManyHeaders is how many header lines headers-100k sends.
	ManyHeaders = 100_000
	// BigBodyBytes is the body of big-50mb.
	BigBodyBytes = 50 << 20
	// DripInterval is the pause between two bytes of drip.
	DripInterval = time.Second
)

// Limits that keep the fake itself bounded.
const (
	// maxConns bounds concurrent connections per TCP port.
	maxConns = 64
	// connTimeout bounds every connection except drip's and silent's.
	connTimeout = time.Minute
	// slowConnTimeout bounds drip and silent connections.
	slowConnTimeout = 10 * time.Minute
	// requestTimeout bounds reading an HTTP request head.
	requestTimeout = 10 * time.Second
	// maxRequestHead bounds an HTTP request head.
	maxRequestHead = 16 << 10
)

// HTTPBehaviors lists the behaviours an HTTP path (or a TCP port, for
// every path) may have.
func HTTPBehaviors() []DeviceBehavior {
	return []DeviceBehavior{DeviceDrip, DeviceHeaders100k, DeviceRedirectLoop, DeviceInvalidUTF8, DeviceBig50MB, DeviceBillionLaughs}
}

// TCPBehaviors lists the behaviours a TCP port may have.
func TCPBehaviors() []DeviceBehavior {
	return append([]DeviceBehavior{DeviceGarbage, DeviceSilent, DevicePaths}, HTTPBehaviors()...)
}

// UDPBehaviors lists the behaviours a UDP port may have.
func UDPBehaviors() []DeviceBehavior { return []DeviceBehavior{DeviceGarbage, DeviceSSDP} }

// DeviceConfig configures the hostile device (KindDevice).
type DeviceConfig struct {
	// Addr is the address every port listens on (the router's LAN address).
	Addr netip.Addr `json:"addr"`
	// TCP and UDP map ports to behaviours.
	TCP map[uint16]DeviceBehavior `json:"tcp"`
	UDP map[uint16]DeviceBehavior `json:"udp"`
	// HTTP maps paths to behaviours on every "paths" port.
	HTTP map[string]DeviceBehavior `json:"http"`
	// SSDP lists the description locations an M-SEARCH gets, as
	// "PORT/PATH" (PORT a "paths" TCP port, PATH in HTTP).
	SSDP []string `json:"ssdp"`
}

// Validate checks c.
func (c *DeviceConfig) Validate() error {
	if !c.Addr.Is4() {
		return errors.New("addr: an IPv4 address is required")
	}
	if len(c.TCP)+len(c.UDP) == 0 {
		return errors.New("no ports")
	}
	for p, b := range c.TCP {
		if p == 0 || !slices.Contains(TCPBehaviors(), b) {
			return fmt.Errorf("tcp %d: behaviour %q is not one of %v", p, b, TCPBehaviors())
		}
	}
	for p, b := range c.UDP {
		if p == 0 || !slices.Contains(UDPBehaviors(), b) {
			return fmt.Errorf("udp %d: behaviour %q is not one of %v", p, b, UDPBehaviors())
		}
		if b == DeviceSSDP && p != 1900 {
			return fmt.Errorf("udp %d: ssdp must be on port 1900", p)
		}
	}
	for path, b := range c.HTTP {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n") {
			return fmt.Errorf("http %q: not an absolute path", path)
		}
		if !slices.Contains(HTTPBehaviors(), b) {
			return fmt.Errorf("http %s: behaviour %q is not one of %v", path, b, HTTPBehaviors())
		}
	}
	for _, loc := range c.SSDP {
		port, path, err := SplitLocation(loc)
		if err != nil {
			return err
		}
		if c.TCP[port] != DevicePaths {
			return fmt.Errorf("ssdp %q: tcp %d is not a paths port", loc, port)
		}
		if _, ok := c.HTTP[path]; !ok {
			return fmt.Errorf("ssdp %q: path %s is not in http", loc, path)
		}
	}
	return nil
}

// SplitLocation splits an SSDP location "PORT/PATH" into port and path.
func SplitLocation(loc string) (uint16, string, error) {
	p, rest, ok := strings.Cut(loc, "/")
	port, err := strconv.ParseUint(p, 10, 16)
	if !ok || err != nil || port == 0 {
		return 0, "", fmt.Errorf("ssdp %q: want PORT/PATH", loc)
	}
	return uint16(port), "/" + rest, nil
}

func runDevice(ctx context.Context, c DeviceConfig, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var closers []io.Closer
	defer func() {
		for _, cl := range closers {
			cl.Close()
		}
	}()
	errs := make(chan error, len(c.TCP)+len(c.UDP)+1)
	var wg sync.WaitGroup
	for _, port := range sortedPorts(c.TCP) {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(c.Addr, port).String())
		if err != nil {
			return fmt.Errorf("fake: %w", err)
		}
		closers = append(closers, ln)
		wg.Go(func() { errs <- serveTCP(ctx, ln, c, c.TCP[port], logger.With("tcp", port)) })
	}
	for _, port := range sortedPorts(c.UDP) {
		conns, err := listenUDP(c.Addr, port, c.UDP[port])
		if err != nil {
			return fmt.Errorf("fake: %w", err)
		}
		for _, conn := range conns {
			closers = append(closers, conn)
			wg.Go(func() { errs <- serveUDP(ctx, conn, c, c.UDP[port], logger.With("udp", port)) })
		}
	}
	logger.Info("listening", "addr", c.Addr.String(), "tcp", len(c.TCP), "udp", len(c.UDP))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	for _, cl := range closers {
		cl.Close()
	}
	wg.Wait()
	if ctx.Err() != nil && err != nil && errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func sortedPorts(m map[uint16]DeviceBehavior) []uint16 {
	ports := make([]uint16, 0, len(m))
	for p := range m {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	return ports
}

// ssdpGroup is the SSDP multicast address (UPnP Device Architecture 1.1).
var ssdpGroup = netip.MustParseAddrPort("239.255.255.250:1900")

// listenUDP opens addr:port, and for SSDP also the multicast group joined
// on the interface that holds addr (SSDP searches are multicast).
func listenUDP(addr netip.Addr, port uint16, b DeviceBehavior) ([]*net.UDPConn, error) {
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, port)))
	if err != nil {
		return nil, err
	}
	if b != DeviceSSDP {
		return []*net.UDPConn{uc}, nil
	}
	mc, err := listenGroup(ssdpGroup, addr)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return []*net.UDPConn{uc, mc}, nil
}

// listenGroup opens a UDP socket bound to the multicast group address
// itself and joins the group on the interface of ifAddr. net's multicast
// listeners bind the wildcard address instead, which would also take
// unicast datagrams for every address of the host (the WAN's too).
func listenGroup(group netip.AddrPort, ifAddr netip.Addr) (*net.UDPConn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "ssdp")
	defer f.Close() // FilePacketConn dups it
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return nil, os.NewSyscallError("setsockopt", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(group.Port()), Addr: group.Addr().As4()}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	mreq := &syscall.IPMreq{Multiaddr: group.Addr().As4(), Interface: ifAddr.As4()}
	if err := syscall.SetsockoptIPMreq(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq); err != nil {
		return nil, os.NewSyscallError("setsockopt", err)
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func serveTCP(ctx context.Context, ln net.Listener, c DeviceConfig, b DeviceBehavior, logger *slog.Logger) error {
	sem := make(chan struct{}, maxConns)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case sem <- struct{}{}:
		default:
			conn.Close() // over the limit: refuse by closing
			continue
		}
		go func() {
			defer func() { <-sem }()
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			defer conn.Close()
			handleTCP(conn, c, b, logger)
		}()
	}
}

func handleTCP(conn net.Conn, c DeviceConfig, b DeviceBehavior, logger *slog.Logger) {
	logger.Info("connection", "from", conn.RemoteAddr().String(), "behavior", string(b))
	switch b {
	case DeviceGarbage:
		_ = conn.SetDeadline(time.Now().Add(connTimeout))
		buf := make([]byte, 4096)
		for sent := 0; sent < GarbageBytes; sent += len(buf) {
			fillGarbage(buf)
			if _, err := conn.Write(buf); err != nil {
				return
			}
		}
	case DeviceSilent:
		_ = conn.SetDeadline(time.Now().Add(slowConnTimeout))
		_, _ = io.Copy(io.Discard, conn)
	default:
		path, ok := readRequest(conn)
		if !ok {
			return
		}
		hb := b
		if b == DevicePaths {
			var found bool
			if hb, found = c.HTTP[path]; !found {
				logger.Info("request", "path", path, "behavior", "not-found")
				_ = conn.SetDeadline(time.Now().Add(connTimeout))
				_, _ = io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				return
			}
		}
		logger.Info("request", "path", path, "behavior", string(hb))
		serveHTTP(conn, path, hb)
	}
}

// readRequest reads an HTTP request head and returns its path ("/" if the
// request line is not HTTP).
func readRequest(conn net.Conn) (string, bool) {
	_ = conn.SetReadDeadline(time.Now().Add(requestTimeout))
	br := bufio.NewReaderSize(io.LimitReader(conn, maxRequestHead), 4096)
	path := "/"
	for i := 0; ; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			return path, i > 0 // a partial head still gets an answer
		}
		if i == 0 {
			if f := strings.Fields(line); len(f) == 3 && strings.HasPrefix(f[1], "/") {
				path, _, _ = strings.Cut(f[1], "?")
			}
		}
		if strings.TrimRight(line, "\r\n") == "" {
			return path, true
		}
	}
}

func serveHTTP(conn net.Conn, path string, b DeviceBehavior) {
	deadline := connTimeout
	if b == DeviceDrip {
		deadline = slowConnTimeout
	}
	_ = conn.SetDeadline(time.Now().Add(deadline))
	w := bufio.NewWriterSize(conn, 64<<10)
	defer w.Flush()
	switch b {
	case DeviceDrip:
		resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Drip: ")
		t := time.NewTicker(DripInterval)
		defer t.Stop()
		for i := 0; ; i++ {
			c := byte('a')
			if i < len(resp) {
				c = resp[i]
			}
			if _, err := conn.Write([]byte{c}); err != nil {
				return
			}
			<-t.C
		}
	case DeviceHeaders100k:
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
		for i := range ManyHeaders {
			fmt.Fprintf(w, "X-Header-%d: %d\r\n", i, i)
		}
		w.WriteString("Content-Length: 0\r\nConnection: close\r\n\r\n")
	case DeviceRedirectLoop:
		fmt.Fprintf(w, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", path)
	case DeviceInvalidUTF8:
		body := "<html><head><title>\xfe\xff Router \xc0\xaf</title></head><body>\xed\xa0\x80 \xff</body></html>\n"
		fmt.Fprintf(w, "HTTP/1.1 401 Unauthorized\r\nServer: Router\xffWebserver\r\nWWW-Authenticate: Basic realm=\"TP-LINK \xc3\x28 \xff Router\"\r\n"+
			"Content-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	case DeviceBig50MB:
		head := `<?xml version="1.0"?>` + "\n" + `<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>` +
			`<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>`
		tail := "</friendlyName><manufacturer>hostile</manufacturer><modelName>big</modelName></device></root>\n"
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", BigBodyBytes)
		w.WriteString(head)
		pad := make([]byte, 64<<10)
		for i := range pad {
			pad[i] = 'A'
		}
		for left := BigBodyBytes - len(head) - len(tail); left > 0; left -= len(pad) {
			if _, err := w.Write(pad[:min(left, len(pad))]); err != nil {
				return
			}
		}
		w.WriteString(tail)
	case DeviceBillionLaughs:
		var s strings.Builder
		s.WriteString(`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE root [` + "\n" + `<!ENTITY lol "lol">` + "\n")
		for i := 1; i <= 9; i++ {
			prev := "lol"
			if i > 1 {
				prev = fmt.Sprintf("lol%d", i-1)
			}
			fmt.Fprintf(&s, "<!ENTITY lol%d \"%s\">\n", i, strings.Repeat("&"+prev+";", 10))
		}
		s.WriteString("]>\n" + `<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>` +
			`<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>&lol9;</friendlyName>` +
			"<manufacturer>hostile</manufacturer><modelName>laughs</modelName></device></root>\n")
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", s.Len(), s.String())
	}
}

func serveUDP(ctx context.Context, conn *net.UDPConn, c DeviceConfig, b DeviceBehavior, logger *slog.Logger) error {
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		logger.Info("datagram", "from", from.String(), "bytes", n, "behavior", string(b))
		switch b {
		case DeviceGarbage:
			out := make([]byte, 64+rand.IntN(961))
			fillGarbage(out)
			_, _ = conn.WriteToUDPAddrPort(out, from)
		case DeviceSSDP:
			if !strings.HasPrefix(string(buf[:n]), "M-SEARCH") {
				continue
			}
			// A socket bound to the group sends from the interface's
			// address (Linux picks the source for multicast-bound sockets).
			for i, loc := range c.SSDP {
				port, path, _ := SplitLocation(loc) // validated
				resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\n"+
					"LOCATION: http://%s%s\r\nSERVER: Linux/2.6 UPnP/1.0 hostile/1.0\r\nST: upnp:rootdevice\r\n"+
					"USN: uuid:00000000-0000-4000-8000-%012d::upnp:rootdevice\r\n\r\n",
					netip.AddrPortFrom(c.Addr, port), path, i)
				_, _ = conn.WriteToUDPAddrPort([]byte(resp), from)
			}
		}
	}
}

// fillGarbage fills b with random bytes that are never valid UTF-8 or a
// line: 0xff and 0xfe never occur in UTF-8, and there is no newline.
func fillGarbage(b []byte) {
	for i := range b {
		c := byte(rand.Uint32())
		if c == '\n' || c == '\r' {
			c = 0xff
		}
		b[i] = c
	}
	if len(b) > 0 {
		b[0] = 0xff
	}
}
