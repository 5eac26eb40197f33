// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/config"
)

// file is how the block sits in the routerwatch configuration file.
type file struct {
	Alerts Config `yaml:"alerts"`
}

func decode(t *testing.T, doc string) (Config, error) {
	t.Helper()
	var f file
	if err := config.DecodeStrict([]byte(doc), &f); err != nil {
		return Config{}, err
	}
	return f.Alerts, f.Alerts.Validate()
}

const fullConfig = `
alerts:
  stdout: {format: json}
  webhook:
    url: https://hooks.example.net/services/T0/B0/abc
    secret: webhook-s3cret
  syslog:
    network: udp
    address: 127.0.0.1:514
    tag: routerwatch
    facility: local3
    format: rfc5424
  smtp:
    host: mail.example.net
    port: 587
    username: watch
    password: smtp-pa55
    from: Routerwatch <routerwatch@example.net>
    to: [owner@example.net]
    tls: mandatory
`

func TestConfigDecodes(t *testing.T) {
	c, err := decode(t, fullConfig)
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhook.Secret.Reveal() != "webhook-s3cret" || c.SMTP.Password.Reveal() != "smtp-pa55" {
		t.Errorf("secrets not read: %q %q", c.Webhook.Secret.Reveal(), c.SMTP.Password.Reveal())
	}
	if c.SMTP.Port != 587 || c.Syslog.Facility != "local3" || c.Stdout.Format != "json" {
		t.Errorf("decoded %+v", c)
	}
	// The credentials never print, whatever prints the configuration.
	j, _ := json.Marshal(c)
	for _, shown := range []string{fmt.Sprintf("%v %+v %#v", c, *c.SMTP, *c.Webhook), string(j)} {
		if strings.Contains(shown, "s3cret") || strings.Contains(shown, "pa55") {
			t.Errorf("a secret is shown: %s", shown)
		}
	}
	f, err := c.Fanout(&bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"stdout", "webhook", "syslog", "smtp"}, f.Names()); diff != "" {
		t.Errorf("channels (-want +got):\n%s", diff)
	}
}

func TestConfigEmpty(t *testing.T) {
	c, err := decode(t, "alerts: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Fanout(nil)
	if err != nil || len(f.Channels) != 0 {
		t.Errorf("empty block: %v, %d channels", err, len(f.Channels))
	}
}

func TestConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown key", "alerts: {pager: {}}", "unknown field \"pager\""},
		{"stdout format", "alerts: {stdout: {format: xml}}", "alerts.stdout.format: \"xml\""},
		{"webhook missing url", "alerts: {webhook: {secret: x}}", "alerts.webhook.url: missing"},
		{"webhook plain http", "alerts: {webhook: {url: 'http://hooks.example.net/x'}}", "plain http to hooks.example.net would send alerts in clear"},
		{"webhook other scheme", "alerts: {webhook: {url: 'ftp://hooks.example.net/x'}}", "want https"},
		{"webhook no host", "alerts: {webhook: {url: 'https:///x'}}", "with a host"},
		{"syslog network", "alerts: {syslog: {network: sctp}}", "alerts.syslog.network: \"sctp\""},
		{"syslog relative socket", "alerts: {syslog: {address: dev/log}}", "must be an absolute path"},
		{"syslog udp no address", "alerts: {syslog: {network: udp}}", "alerts.syslog.address: missing"},
		{"syslog udp no port", "alerts: {syslog: {network: udp, address: 192.0.2.5}}", "want host:port"},
		{"syslog udp bad port", "alerts: {syslog: {network: tcp, address: '192.0.2.5:70000'}}", "the port must be 1–65535"},
		{"syslog facility", "alerts: {syslog: {facility: kern}}", "alerts.syslog.facility: \"kern\""},
		{"syslog format", "alerts: {syslog: {format: cef}}", "alerts.syslog.format"},
		{"syslog tag with space", "alerts: {syslog: {tag: 'router watch'}}", "alerts.syslog.tag"},
		{"smtp no host", "alerts: {smtp: {from: a@example.net, to: [b@example.net]}}", "alerts.smtp.host: missing host"},
		{"smtp no recipient", "alerts: {smtp: {host: mail.example.net, from: a@example.net}}", "alerts.smtp.to: no recipient"},
		{"smtp empty recipient list", "alerts: {smtp: {host: mail.example.net, from: a@example.net, to: []}}", "alerts.smtp.to: no recipient"},
		{"smtp bad recipient", "alerts: {smtp: {host: mail.example.net, from: a@example.net, to: [b@example.net, 'not an address']}}", "alerts.smtp.to[1]"},
		{"smtp bad from", "alerts: {smtp: {host: mail.example.net, from: nobody, to: [b@example.net]}}", "alerts.smtp.from"},
		{"smtp tls policy", "alerts: {smtp: {host: mail.example.net, from: a@example.net, to: [b@example.net], tls: maybe}}", "alerts.smtp.tls: \"maybe\""},
		{"smtp password in clear", "alerts: {smtp: {host: mail.example.net, from: a@example.net, to: [b@example.net], tls: none, username: u, password: p}}", "would send the password in clear"},
		{"smtp user without password", "alerts: {smtp: {host: mail.example.net, from: a@example.net, to: [b@example.net], username: u}}", "alerts.smtp.password: missing"},
		{"smtp password without user", "alerts: {smtp: {host: mail.example.net, from: a@example.net, to: [b@example.net], password: p}}", "alerts.smtp.username: missing"},
		{"smtp port", "alerts: {smtp: {host: mail.example.net, port: 99999, from: a@example.net, to: [b@example.net]}}", "alerts.smtp.port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(t, tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestConfigValid(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"webhook http to loopback", "alerts: {webhook: {url: 'http://127.0.0.1:8080/hook'}}"},
		{"webhook http to ::1", "alerts: {webhook: {url: 'http://[::1]:8080/hook'}}"},
		{"webhook http to localhost", "alerts: {webhook: {url: 'http://localhost/hook'}}"},
		{"syslog defaults", "alerts: {syslog: {}}"},
		{"syslog tcp v6", "alerts: {syslog: {network: tcp, address: '[2001:db8::5]:6514'}}"},
		{"smtp local relay without TLS", "alerts: {smtp: {host: 127.0.0.1, port: 25, tls: none, from: a@example.net, to: [b@example.net]}}"},
		{"smtp implicit", "alerts: {smtp: {host: mail.example.net, tls: implicit, username: u, password: p, from: a@example.net, to: [b@example.net]}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decode(t, tt.doc); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConfigErrorsHideWebhookPath: a webhook URL's path is its token.
func TestConfigErrorsHideWebhookPath(t *testing.T) {
	_, err := decode(t, "alerts: {webhook: {url: 'http://hooks.example.net/services/T0KEN'}}")
	if err == nil || strings.Contains(err.Error(), "T0KEN") {
		t.Errorf("error %v", err)
	}
}
