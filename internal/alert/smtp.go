// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// SMTP TLS policies.
const (
	// TLSMandatory: STARTTLS, or no mail (the default).
	TLSMandatory = "mandatory"
	// TLSOpportunistic: STARTTLS when the server offers it, else clear
	// text; for a relay on the same host or LAN. A failed handshake is
	// still an error, never a silent fall back.
	TLSOpportunistic = "opportunistic"
	// TLSNone: never STARTTLS; for a local relay without TLS.
	TLSNone = "none"
	// TLSImplicit: TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "implicit"
)

// SMTP defaults.
const (
	DefaultSMTPPort         = 587
	DefaultSMTPImplicitPort = 465
	// DefaultSMTPTimeout bounds each step of the SMTP conversation when
	// the context leaves more time.
	DefaultSMTPTimeout = 30 * time.Second
	// smtpGrace is how much longer than the context go-mail's own
	// timeout runs: long enough that the context always decides, short
	// enough to stop a send whose context watcher somehow failed.
	smtpGrace = 5 * time.Second
)

// SMTP mails each event as plain text.
type SMTP struct {
	Host string
	// Port: 0 means 587, or 465 with TLSImplicit.
	Port int
	// Username, when set, logs in (the best mechanism the server offers;
	// PLAIN and LOGIN only over TLS). Password is never printed.
	Username string
	Password config.Secret
	From     string
	To       []string
	// TLS is one of the TLS* policies; empty means TLSMandatory.
	TLS string
	// TLSConfig, when set, is used for the handshake (extra roots for a
	// private relay, tests); ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout: 0 means DefaultSMTPTimeout.
	Timeout time.Duration
}

func (s *SMTP) port() int {
	switch {
	case s.Port != 0:
		return s.Port
	case s.TLS == TLSImplicit:
		return DefaultSMTPImplicitPort
	}
	return DefaultSMTPPort
}

// Notify mails ev to every recipient in one message.
func (s *SMTP) Notify(ctx context.Context, ev Event) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.port()))
	if err := s.notify(ctx, ev); err != nil {
		if cerr := ctxEnded(ctx); cerr != nil {
			return fmt.Errorf("smtp %s: %w: %w", addr, cerr, err)
		}
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	return nil
}

// ctxEnded returns ctx's error, or DeadlineExceeded once its deadline has
// passed (a socket deadline can fire a moment before the context's timer).
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func (s *SMTP) notify(ctx context.Context, ev Event) error {
	msg, err := s.message(&ev)
	if err != nil {
		return err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsCfg = s.TLSConfig.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = s.Host
	}
	// go-mail's per-command timeout ends after the context (smtpGrace),
	// so that the context, closing the connection below, decides first.
	timeout := orDefault(s.Timeout, DefaultSMTPTimeout)
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return context.DeadlineExceeded
		}
		timeout = min(timeout, left+smtpGrace)
	}

	// go-mail bounds each command by its timeout but does not watch the
	// context once connected: close the connection when ctx ends, so
	// that a server that stops answering cannot hold watch past it.
	var mu sync.Mutex
	var stops []func() bool
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range stops {
			stop()
		}
	}()
	implicit := s.TLS == TLSImplicit
	dial := func(dctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, address)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		stops = append(stops, context.AfterFunc(ctx, func() { conn.Close() }))
		mu.Unlock()
		if !implicit {
			return conn, nil
		}
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, err
		}
		// go-mail sees a *tls.Conn and counts the session as encrypted.
		return tc, nil
	}

	policy := mail.TLSMandatory
	switch s.TLS {
	case TLSOpportunistic, TLSImplicit:
		// Implicit: the connection is TLS already, the server offers no
		// STARTTLS and go-mail reads the TLS state from the connection.
		policy = mail.TLSOpportunistic
	case TLSNone:
		policy = mail.NoTLS
	}
	opts := []mail.Option{
		mail.WithPort(s.port()),
		mail.WithTimeout(timeout),
		mail.WithTLSPolicy(policy),
		mail.WithTLSConfig(tlsCfg),
		mail.WithDialContextFunc(dial),
	}
	if s.Username != "" {
		opts = append(opts,
			mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.Username),
			mail.WithPassword(s.Password.Reveal()))
	}
	client, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, msg)
}

// message builds the mail of ev.
func (s *SMTP) message(ev *Event) (*mail.Msg, error) {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(s.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", s.From, err)
	}
	if err := m.To(s.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	m.Subject("[routerwatch] " + termtext.Line(ev.Headline()))
	m.SetDateWithValue(ev.Time)
	m.SetMessageID()
	m.SetGenHeader(mail.Header(HeaderEvent), string(ev.Kind))
	m.SetGenHeader(mail.Header(HeaderDelivery), ev.ID)
	m.SetBodyString(mail.TypeTextPlain, MailBody(ev))
	return m, nil
}

// MailBody is the plain-text body of the mail of ev; text from devices
// is escaped, so that it cannot carry terminal control sequences into a
// text mail reader.
func MailBody(ev *Event) string {
	var b strings.Builder
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-10s %s\n", label+":", termtext.Line(value))
		}
	}
	b.WriteString(termtext.Line(ev.Headline()))
	b.WriteString("\n\n")
	if ev.Detail != "" {
		if ev.Kind == KindResolved {
			b.WriteString("As last seen:\n")
		}
		b.WriteString(termtext.Text(ev.Detail))
		b.WriteString("\n\n")
	}
	line("Device", ev.Device.String())
	line("Check", ev.CheckID)
	line("Subject", ev.Subject)
	sev := ev.Severity.String()
	if ev.PreviousSeverity != nil {
		sev += " (was " + ev.PreviousSeverity.String() + ")"
	}
	line("Severity", sev)
	line("Since", ev.Since.UTC().Format(time.RFC3339))
	line("Seen", ev.Time.UTC().Format(time.RFC3339))
	line("Key", ev.Key)
	line("Event id", ev.ID)
	if len(ev.Evidence) > 0 {
		b.WriteString("\nEvidence:\n")
		for _, e := range ev.Evidence {
			fmt.Fprintf(&b, "  %s: %s\n", termtext.Line(e.Key), termtext.Line(e.Value))
		}
	}
	return b.String()
}
