// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/config"
)

// Config is the `alerts:` block of the routerwatch configuration file.
// A channel that is absent (null) is off.
//
//	alerts:
//	  stdout: {format: json}          # or text
//	  webhook:
//	    url: https://hooks.example.net/routerwatch
//	    secret: "…"                   # optional: signs each POST
//	  syslog:
//	    network: unix                 # unix (default), udp or tcp
//	    address: /dev/log             # a socket path, or host:port
//	    tag: routerwatch
//	    facility: daemon              # user, daemon, auth, authpriv, local0…local7
//	    format: rfc3164               # default: rfc3164 on unix, rfc5424 otherwise
//	  smtp:
//	    host: mail.example.net
//	    port: 587
//	    username: routerwatch         # optional
//	    password: "…"
//	    from: routerwatch@example.net
//	    to: [owner@example.net]
//	    tls: mandatory                # mandatory, opportunistic, none, implicit
type Config struct {
	Stdout  *StdoutConfig  `yaml:"stdout"`
	Webhook *WebhookConfig `yaml:"webhook"`
	Syslog  *SyslogConfig  `yaml:"syslog"`
	SMTP    *SMTPConfig    `yaml:"smtp"`
}

// StdoutConfig writes events to standard output.
type StdoutConfig struct {
	// Format is text (the default) or json.
	Format string `yaml:"format"`
}

// WebhookConfig POSTs events as JSON.
type WebhookConfig struct {
	// URL must be https, or http to a loopback address.
	URL string `yaml:"url"`
	// Secret, when set, signs each request (HMAC-SHA256; see Webhook).
	Secret config.Secret `yaml:"secret"`
}

// SyslogConfig sends events to syslog.
type SyslogConfig struct {
	Network  string `yaml:"network"`
	Address  string `yaml:"address"`
	Tag      string `yaml:"tag"`
	Facility string `yaml:"facility"`
	Format   string `yaml:"format"`
}

// SMTPConfig mails events.
type SMTPConfig struct {
	Host     string        `yaml:"host"`
	Port     int           `yaml:"port"`
	Username string        `yaml:"username"`
	Password config.Secret `yaml:"password"`
	From     string        `yaml:"from"`
	To       []string      `yaml:"to"`
	TLS      string        `yaml:"tls"`
}

// Validate checks every channel and reports the first invalid value by
// its key under alerts.
func (c *Config) Validate() error {
	if s := c.Stdout; s != nil {
		switch s.Format {
		case "", FormatText, FormatJSON:
		default:
			return fmt.Errorf("alerts.stdout.format: %q is not one of text, json", s.Format)
		}
	}
	if w := c.Webhook; w != nil {
		if err := validateWebhookURL(w.URL); err != nil {
			return fmt.Errorf("alerts.webhook.url: %w", err)
		}
	}
	if s := c.Syslog; s != nil {
		if err := s.validate(); err != nil {
			return err
		}
	}
	if s := c.SMTP; s != nil {
		if err := s.validate(); err != nil {
			return err
		}
	}
	return nil
}

// validateWebhookURL accepts https URLs, and http only to a loopback
// address (a receiver on the same host, tests). Errors never quote the
// URL: its path or query is often the webhook's credential.
func validateWebhookURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return errors.New("want an https URL with a host")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("plain http to %s would send alerts in clear; use https (http is only for loopback receivers)", u.Host)
	}
	return fmt.Errorf("scheme %q: want https", u.Scheme)
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *SyslogConfig) validate() error {
	switch s.Network {
	case "", SyslogUnix:
		switch {
		case s.Address == "" && defaultLocalSocket == "":
			return errors.New("alerts.syslog.network: this system has no local syslog socket; use udp or tcp")
		case s.Address != "" && !filepath.IsAbs(s.Address):
			return fmt.Errorf("alerts.syslog.address: %q: the local socket must be an absolute path", s.Address)
		}
		if err := noControl(s.Address); err != nil {
			return fmt.Errorf("alerts.syslog.address: %w", err)
		}
	case SyslogUDP, SyslogTCP:
		if err := validateHostPort(s.Address); err != nil {
			return fmt.Errorf("alerts.syslog.address: %w", err)
		}
	default:
		return fmt.Errorf("alerts.syslog.network: %q is not one of unix, udp, tcp", s.Network)
	}
	switch s.Format {
	case "", RFC3164, RFC5424:
	default:
		return fmt.Errorf("alerts.syslog.format: %q is not one of rfc3164, rfc5424", s.Format)
	}
	if _, ok := facilities[s.Facility]; !ok && s.Facility != "" {
		return fmt.Errorf("alerts.syslog.facility: %q is not one of user, daemon, auth, authpriv, local0 … local7", s.Facility)
	}
	if len(s.Tag) > 48 || syslogToken(s.Tag, "", 48) != s.Tag {
		return fmt.Errorf("alerts.syslog.tag: %q: want at most 48 printable ASCII characters without spaces", s.Tag)
	}
	return nil
}

// validateHostPort checks host:port with a port 1–65535.
func validateHostPort(addr string) error {
	if addr == "" {
		return errors.New("missing: want host:port")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if err := validateHost(host); err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be 1–65535", addr)
	}
	return nil
}

// validateHost checks a host name or address: not empty, no spaces or
// control characters.
func validateHost(h string) error {
	if h == "" {
		return errors.New("missing host")
	}
	if strings.ContainsAny(h, " /@") {
		return fmt.Errorf("%q is not a host name or address", h)
	}
	return noControl(h)
}

func noControl(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q holds the control character %U", s, r)
		}
	}
	return nil
}

func (s *SMTPConfig) validate() error {
	if err := validateHost(s.Host); err != nil {
		return fmt.Errorf("alerts.smtp.host: %w", err)
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("alerts.smtp.port: %d is not 1–65535", s.Port)
	}
	switch s.TLS {
	case "", TLSMandatory, TLSOpportunistic, TLSNone, TLSImplicit:
	default:
		return fmt.Errorf("alerts.smtp.tls: %q is not one of mandatory, opportunistic, none, implicit", s.TLS)
	}
	if s.Username != "" && s.Password.Reveal() == "" {
		return errors.New("alerts.smtp.password: missing (a username is set)")
	}
	if s.Username == "" && s.Password.Reveal() != "" {
		return errors.New("alerts.smtp.username: missing (a password is set)")
	}
	if s.Username != "" && s.TLS == TLSNone {
		return errors.New("alerts.smtp.tls: none would send the password in clear; use mandatory or implicit, or a relay that needs no login")
	}
	if err := validateAddress(s.From); err != nil {
		return fmt.Errorf("alerts.smtp.from: %w", err)
	}
	if len(s.To) == 0 {
		return errors.New("alerts.smtp.to: no recipient")
	}
	for i, to := range s.To {
		if err := validateAddress(to); err != nil {
			return fmt.Errorf("alerts.smtp.to[%d]: %w", i, err)
		}
	}
	return nil
}

// validateAddress accepts one mail address, with or without a name.
func validateAddress(a string) error {
	if a == "" {
		return errors.New("missing")
	}
	if _, err := mail.ParseAddress(a); err != nil {
		return fmt.Errorf("%q is not a mail address: %w", a, err)
	}
	return nil
}

// Fanout validates c and builds its channels, named stdout, webhook,
// syslog and smtp; the stdout channel writes to stdout (nil means
// os.Stdout). A Config with no channel gives a Fanout with none.
func (c *Config) Fanout(stdout io.Writer) (*Fanout, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	var f Fanout
	if s := c.Stdout; s != nil {
		f.Channels = append(f.Channels, Channel{Name: "stdout", Notifier: &Writer{W: stdout, Format: s.Format}})
	}
	if w := c.Webhook; w != nil {
		f.Channels = append(f.Channels, Channel{Name: "webhook", Notifier: &Webhook{URL: w.URL, Secret: w.Secret, Client: NewWebhookClient()}})
	}
	if s := c.Syslog; s != nil {
		f.Channels = append(f.Channels, Channel{Name: "syslog", Notifier: &Syslog{
			Network: s.Network, Address: s.Address, Format: s.Format, Tag: s.Tag, Facility: s.Facility,
		}})
	}
	if s := c.SMTP; s != nil {
		f.Channels = append(f.Channels, Channel{Name: "smtp", Notifier: &SMTP{
			Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
			From: s.From, To: s.To, TLS: s.TLS,
		}})
	}
	return &f, nil
}
