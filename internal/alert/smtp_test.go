// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/routerwatch/routerwatch/internal/config"
)

// mailServer is an in-process SMTP server on 127.0.0.1 (go-smtp).
type mailServer struct {
	addr     string
	host     string
	port     int
	roots    *x509.CertPool
	user     string // when set, MAIL needs AUTH PLAIN with user/pass
	pass     string
	refuse   bool          // refuse every recipient
	hangData chan struct{} // when set, DATA waits on it

	mu   sync.Mutex
	msgs []receivedMail
}

type receivedMail struct {
	from   string
	to     []string
	data   string
	tls    bool
	authed bool
}

type serverMode int

const (
	plainOnly   serverMode = iota // no TLS at all
	startTLS                      // STARTTLS offered
	implicitTLS                   // TLS from the first byte
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "routerwatch test relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func newMailServer(t *testing.T, mode serverMode, configure func(*mailServer)) *mailServer {
	t.Helper()
	m := &mailServer{}
	if configure != nil {
		configure(m)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{m: m, c: c}, nil
	}))
	s.Domain = "relay.test"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = false
	var ln net.Listener
	var err error
	cert, pool := selfSigned(t)
	m.roots = pool
	switch mode {
	case startTLS:
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case implicitTLS:
		ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	default:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(m.addr)
	m.host = host
	m.port, _ = strconv.Atoi(port)
	go s.Serve(ln)
	t.Cleanup(func() {
		if m.hangData != nil {
			select {
			case <-m.hangData:
			default:
				close(m.hangData)
			}
		}
		s.Close()
	})
	return m
}

func (m *mailServer) received() []receivedMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]receivedMail(nil), m.msgs...)
}

// client returns an SMTP notifier for m that trusts its certificate.
func (m *mailServer) client(policy string) *SMTP {
	return &SMTP{
		Host: m.host, Port: m.port, From: "routerwatch@example.net", To: []string{"owner@example.net", "second@example.org"},
		TLS: policy, TLSConfig: &tls.Config{RootCAs: m.roots, MinVersion: tls.VersionTLS12},
	}
}

type mailSession struct {
	m      *mailServer
	c      *smtp.Conn
	authed bool
	cur    receivedMail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.m.user || pass != s.m.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.m.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.c.TLSConnectionState()
	s.cur = receivedMail{from: from, tls: isTLS, authed: s.authed}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.m.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	if s.m.hangData != nil {
		<-s.m.hangData
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, s.cur)
	s.m.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.cur = receivedMail{} }
func (s *mailSession) Logout() error { return nil }

func TestSMTPDelivers(t *testing.T) {
	tests := []struct {
		name    string
		mode    serverMode
		policy  string
		auth    bool
		wantTLS bool
	}{
		{"STARTTLS mandatory (the default), with login", startTLS, "", true, true},
		{"STARTTLS opportunistic, offered", startTLS, TLSOpportunistic, false, true},
		{"opportunistic, not offered: clear text to a local relay", plainOnly, TLSOpportunistic, false, false},
		{"none: clear text to a local relay", plainOnly, TLSNone, false, false},
		{"implicit TLS, with login", implicitTLS, TLSImplicit, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMailServer(t, tt.mode, func(m *mailServer) {
				if tt.auth {
					m.user, m.pass = "watch", "pa55-w0rd"
				}
			})
			c := m.client(tt.policy)
			if tt.auth {
				c.Username, c.Password = "watch", config.NewSecret("pa55-w0rd")
			}
			ev := sampleEvents(t)[0]
			if err := c.Notify(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			got := m.received()
			if len(got) != 1 {
				t.Fatalf("the server got %d mails, want 1", len(got))
			}
			r := got[0]
			if r.tls != tt.wantTLS || r.authed != tt.auth {
				t.Errorf("tls %v authed %v, want %v %v", r.tls, r.authed, tt.wantTLS, tt.auth)
			}
			if r.from != "routerwatch@example.net" || strings.Join(r.to, ",") != "owner@example.net,second@example.org" {
				t.Errorf("envelope from %q to %q", r.from, r.to)
			}
			for _, want := range []string{
				"Subject: [routerwatch] RAISED high: DHCP hands out a DNS server that lies",
				"Content-Type: text/plain",
				HeaderDelivery + ": " + ev.ID,
				"Device:    office router (192.0.2.1)",
				"203.0.113.7",
			} {
				if !strings.Contains(unfoldQP(r.data), want) {
					t.Errorf("mail lacks %q:\n%s", want, r.data)
				}
			}
			if strings.Contains(r.data, "pa55-w0rd") {
				t.Error("the mail carries the password")
			}
		})
	}
}

// unfoldQP undoes header folding and quoted-printable soft breaks, enough
// to look for text in a mail.
func unfoldQP(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "\r\n ", " ")
	return strings.ReplaceAll(s, "\r\n", "\n")
}

func TestSMTPFailures(t *testing.T) {
	tests := []struct {
		name      string
		mode      serverMode
		configure func(*mailServer)
		client    func(*SMTP)
		want      string
	}{
		{
			name: "mandatory STARTTLS, server offers none", mode: plainOnly,
			want: "does not support STARTTLS",
		},
		{
			name: "certificate not trusted", mode: startTLS,
			client: func(c *SMTP) { c.TLSConfig = nil },
			want:   "certificate",
		},
		{
			name: "recipient refused", mode: startTLS,
			configure: func(m *mailServer) { m.refuse = true },
			want:      "no such mailbox",
		},
		{
			name: "wrong password", mode: startTLS,
			configure: func(m *mailServer) { m.user, m.pass = "watch", "right" },
			client:    func(c *SMTP) { c.Username, c.Password = "watch", config.NewSecret("wrong-pw") },
			want:      "SMTP AUTH failed",
		},
		{
			name: "login required, none configured", mode: startTLS,
			configure: func(m *mailServer) { m.user, m.pass = "watch", "right" },
			want:      "authenticate",
		},
		{
			name: "nothing listens", mode: startTLS,
			client: func(c *SMTP) { c.Port = closedPort(t) },
			want:   "connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMailServer(t, tt.mode, tt.configure)
			c := m.client(TLSMandatory)
			if tt.client != nil {
				tt.client(c)
			}
			err := c.Notify(context.Background(), sampleEvents(t)[0])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Notify = %v, want an error with %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "smtp 127.0.0.1:") {
				t.Errorf("error does not name the server: %v", err)
			}
			if strings.Contains(err.Error(), "wrong-pw") {
				t.Errorf("error carries the password: %v", err)
			}
			if n := len(m.received()); n != 0 {
				t.Errorf("%d mails delivered", n)
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestSMTPDeadline: a relay that stops answering in the middle of DATA
// cannot hold the caller past its context, though go-mail's own timeout
// is longer.
func TestSMTPDeadline(t *testing.T) {
	m := newMailServer(t, startTLS, func(m *mailServer) { m.hangData = make(chan struct{}) })
	c := m.client(TLSMandatory)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Notify(ctx, sampleEvents(t)[0])
	if err == nil {
		t.Fatal("Notify succeeded against a hanging relay")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Notify took %v with a 300ms context", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not say the deadline passed", err)
	}
}

// TestSMTPCanceledMidConversation: cancelling (not a deadline: go-mail
// cannot see it) closes the connection at once.
func TestSMTPCanceledMidConversation(t *testing.T) {
	m := newMailServer(t, startTLS, func(m *mailServer) { m.hangData = make(chan struct{}) })
	c := m.client(TLSMandatory)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err := c.Notify(ctx, sampleEvents(t)[0])
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Notify = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Notify took %v after a cancel at 300ms", d)
	}
}

func TestMailBodyEscapes(t *testing.T) {
	ev := sampleEvents(t)[0]
	ev.Device.Label = "router\x1b[2J"
	ev.Title = "x\r\nBcc: victim@example.net"
	body := MailBody(&ev)
	if strings.ContainsAny(body, "\x1b\r") {
		t.Errorf("body not escaped: %q", body)
	}
	m, err := (&SMTP{From: "a@example.net", To: []string{"b@example.net"}}).message(&ev)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if _, err := m.WriteTo(&sb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sb.String(), "\r\nBcc:") {
		t.Errorf("a title injected a header:\n%s", sb.String())
	}
}
