// SPDX-License-Identifier: Apache-2.0

//go:build unix

package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// drainDatagrams returns the messages waiting on c.
func drainDatagrams(c net.PacketConn) []string {
	var out []string
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

// TestEveryChannelOncePerChange is the alerting half of issue 9's Show:
// the DHCP DNS switched to the attacker's resolver raises exactly one
// alert on each channel (stdout, a webhook test server, a real local
// syslog socket, SMTP to an in-process server), naming the change and
// the DNS verdict; cycles while it stays raise nothing; switching back
// raises exactly one "resolved".
func TestEveryChannelOncePerChange(t *testing.T) {
	hook := newHookServer(t, 200)
	logSock, logPath := listenUnixgram(t)
	relay := newMailServer(t, startTLS, nil)
	var stdout bytes.Buffer

	cfg := Config{
		Stdout:  &StdoutConfig{Format: FormatJSON},
		Webhook: &WebhookConfig{URL: hook.URL + "/routerwatch", Secret: config.NewSecret("hook-secret")},
		Syslog:  &SyslogConfig{Address: logPath},
		SMTP: &SMTPConfig{Host: relay.host, Port: relay.port, From: "routerwatch@example.net",
			To: []string{"owner@example.net"}, TLS: TLSMandatory},
	}
	out, err := cfg.Fanout(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	// The relay's certificate is the test's own.
	for _, c := range out.Channels {
		if s, ok := c.Notifier.(*SMTP); ok {
			s.TLSConfig = relay.client(TLSMandatory).TLSConfig
		}
	}
	a := &Alerter{Store: &MemoryStore{}, Out: out}
	rogue := rogueDNS(finding.SeverityHigh)
	cycles := []Cycle{
		{},                           // clean
		{Problems: []Problem{rogue}}, // the DHCP DNS is switched
		{Problems: []Problem{rogue}}, // still switched
		{Problems: []Problem{rogue}}, // still switched
		{},                           // switched back
		{},                           // clean
	}
	now := t0
	var kinds []Kind
	for i, c := range cycles {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		o, err := a.Run(ctx, c, now)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Failures) > 0 {
			t.Fatalf("cycle %d: %v", i, o.Failures)
		}
		for _, e := range o.Events {
			kinds = append(kinds, e.Kind)
		}
		now = now.Add(time.Minute)
	}
	if got := kindsString(kinds); got != "raised resolved" {
		t.Fatalf("events %q, want one raised and one resolved", got)
	}

	// stdout
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Errorf("stdout has %d lines, want 2:\n%s", len(lines), stdout.String())
	}
	// webhook
	reqs := hook.requests()
	if len(reqs) != 2 {
		t.Fatalf("webhook got %d requests, want 2", len(reqs))
	}
	for i, want := range []Kind{KindRaised, KindResolved} {
		var ev Event
		if err := json.Unmarshal(reqs[i].body, &ev); err != nil || ev.Kind != want {
			t.Errorf("webhook request %d: %v %s, want %s", i, err, ev.Kind, want)
		}
		if err := VerifySignature(config.NewSecret("hook-secret"), reqs[i].header.Get(HeaderTimestamp), reqs[i].header.Get(HeaderSignature), reqs[i].body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook request %d: %v", i, err)
		}
	}
	// syslog
	msgs := drainDatagrams(logSock)
	if len(msgs) != 2 || !strings.Contains(msgs[0], "RAISED high") || !strings.Contains(msgs[1], "RESOLVED") {
		t.Errorf("syslog got %q", msgs)
	}
	// smtp
	mails := relay.received()
	if len(mails) != 2 {
		t.Fatalf("the relay got %d mails, want 2", len(mails))
	}
	for i, want := range []string{"RAISED high", "RESOLVED (was high)"} {
		if !strings.Contains(unfoldQP(mails[i].data), want) {
			t.Errorf("mail %d lacks %q", i, want)
		}
	}
	// Each alert names the change and the DNS verdict.
	for _, text := range []string{lines[0], msgs[0], unfoldQP(mails[0].data), string(reqs[0].body)} {
		if !strings.Contains(text, "changed from 192.0.2.1 to 203.0.113.7") || !strings.Contains(text, "203.0.113.66") {
			t.Errorf("alert does not name the change and the verdict: %s", text)
		}
	}
}

func kindsString(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, " ")
}
