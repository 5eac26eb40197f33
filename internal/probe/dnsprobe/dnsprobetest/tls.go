// SPDX-License-Identifier: Apache-2.0

package dnsprobetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// CA is a throwaway certificate authority.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

// NewCA creates a CA valid for a day.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "routerwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{cert: cert, key: key, der: der}
}

// Pool returns a pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// PEM returns the CA certificate in PEM form (for --trust-ca files).
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
}

// Issue returns a leaf certificate for names and ips signed by ca.
func (ca *CA) Issue(t testing.TB, names []string, ips []netip.Addr) tls.Certificate {
	t.Helper()
	return issue(t, ca.cert, ca.key, names, ips)
}

// SelfSigned returns a self-signed certificate for names, as an AitM
// server presents.
func SelfSigned(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	return issue(t, nil, nil, names, nil)
}

var serial = big.NewInt(100)

func issue(t testing.TB, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, names []string, ips []netip.Addr) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: sn.Add(sn, serial), Subject: pkix.Name{CommonName: first(names)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: names, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func first(ss []string) string {
	if len(ss) == 0 {
		return "routerwatch test"
	}
	return ss[0]
}

// NewDoT serves h over DNS-over-TLS on a fresh loopback address with a
// certificate from ca for that address (and serverName, if not empty).
func NewDoT(t testing.TB, ca *CA, serverName string, h dns.Handler) *Server {
	t.Helper()
	ip := LoopbackAddr()
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var names []string
	if serverName != "" {
		names = []string{serverName}
	}
	cert := ca.Issue(t, names, []netip.Addr{ip})
	tl := tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	start(t, &dns.Server{Listener: tl, Handler: h, Net: "tcp-tls"})
	return &Server{Addr: l.Addr().(*net.TCPAddr).AddrPort()}
}

// DoHServer is a DNS-over-HTTPS endpoint.
type DoHServer struct {
	URL  string // https://127.0.0.x:port/dns-query
	Addr netip.AddrPort
}

// NewDoH serves h over DNS-over-HTTPS (RFC 8484 POST) at /dns-query on a
// fresh loopback address, with a certificate from ca for that address.
func NewDoH(t testing.TB, ca *CA, h dns.Handler) *DoHServer {
	t.Helper()
	return newDoH(t, ca, h, nil)
}

// NewDoHAuth is NewDoH behind HTTP Basic authentication: a request
// without user and pass gets 401 Unauthorized.
func NewDoHAuth(t testing.TB, ca *CA, h dns.Handler, user, pass string) *DoHServer {
	t.Helper()
	return newDoH(t, ca, h, func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == user && p == pass
	})
}

func newDoH(t testing.TB, ca *CA, h dns.Handler, allow func(*http.Request) bool) *DoHServer {
	t.Helper()
	ip := LoopbackAddr()
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /dns-query", func(w http.ResponseWriter, r *http.Request) {
		// HTTP/2 only, like unbound's DoH: a client that cannot speak it
		// fails here as it would against real resolvers.
		if r.ProtoMajor != 2 {
			http.Error(w, "HTTP/2 required", http.StatusHTTPVersionNotSupported)
			return
		}
		if allow != nil && !allow(r) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 65536))
		q := new(dns.Msg)
		if err != nil || r.Header.Get("Content-Type") != "application/dns-message" || q.Unpack(body) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		rec := &recorder{}
		h.ServeDNS(rec, q)
		if rec.msg == nil {
			http.Error(w, "no answer", http.StatusBadGateway)
			return
		}
		out, _ := rec.msg.Pack()
		w.Header().Set("Content-Type", "application/dns-message")
		w.Write(out)
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.Listener.Close()
	ts.Listener = l
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, nil, []netip.Addr{ip})}, NextProtos: []string{"h2"}}
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ap := l.Addr().(*net.TCPAddr).AddrPort()
	return &DoHServer{URL: "https://" + ap.String() + "/dns-query", Addr: ap}
}

// recorder is an in-memory dns.ResponseWriter.
type recorder struct{ msg *dns.Msg }

func (r *recorder) LocalAddr() net.Addr       { return &net.TCPAddr{} }
func (r *recorder) RemoteAddr() net.Addr      { return &net.TCPAddr{} }
func (r *recorder) WriteMsg(m *dns.Msg) error { r.msg = m; return nil }
func (r *recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	r.msg = m
	return len(b), nil
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}

// WebServers are TLS servers on several loopback addresses sharing one
// port, as the TLS proof connects to every answered address on the same
// port (443 in production).
type WebServers struct {
	Port  uint16
	Addrs []netip.Addr
}

// NewWebServers starts one TLS server per certificate, each on a fresh
// loopback address, all on the same port. They complete the handshake and
// close the connection.
func NewWebServers(t testing.TB, certs ...tls.Certificate) *WebServers {
	t.Helper()
	for range 50 {
		ws, ok := tryWebServers(t, certs)
		if ok {
			return ws
		}
	}
	t.Fatal("no common free port for the web servers")
	return nil
}

func tryWebServers(t testing.TB, certs []tls.Certificate) (*WebServers, bool) {
	ws := &WebServers{}
	var ls []net.Listener
	for _, cert := range certs {
		ip := LoopbackAddr()
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, ws.Port)))
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, false
		}
		ws.Port = uint16(l.Addr().(*net.TCPAddr).Port)
		ws.Addrs = append(ws.Addrs, ip)
		ls = append(ls, tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}}))
	}
	for _, l := range ls {
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					c.SetDeadline(time.Now().Add(5 * time.Second))
					c.(*tls.Conn).Handshake()
					c.Close()
				}()
			}
		}()
	}
	return ws, true
}
