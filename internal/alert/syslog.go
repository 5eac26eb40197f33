// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// Syslog networks.
const (
	// SyslogUnix is the local syslog socket (/dev/log), as a datagram
	// socket, or a stream socket where the daemon listens on one.
	SyslogUnix = "unix"
	SyslogUDP  = "udp"
	SyslogTCP  = "tcp"
)

// Syslog formats.
const (
	// RFC3164 is the BSD format, written to the local socket the way glibc
	// writes it: "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG" (with the host name
	// after the time when sent over the network). Every local daemon
	// (journald, rsyslog, syslog-ng) parses it; journald does not parse
	// RFC 5424.
	RFC3164 = "rfc3164"
	// RFC5424 is "<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG", with the
	// event kind as MSGID; the default over UDP and TCP.
	RFC5424 = "rfc5424"
)

// Syslog message bounds: RFC 5426 asks UDP receivers to take 2048 bytes;
// local and TCP receivers take more, and an alert needs no more.
const (
	maxSyslogUDP   = 2048
	maxSyslogOther = 8192
	// syslogTimeout bounds a send when the context has no deadline.
	syslogTimeout = 10 * time.Second
)

// Facilities by name (RFC 5424 §6.2.1).
var facilities = map[string]int{
	"user": 1, "daemon": 3, "auth": 4, "authpriv": 10,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// Syslog levels (RFC 5424 §6.2.1).
const (
	levelCrit    = 2
	levelErr     = 3
	levelWarning = 4
	levelNotice  = 5
	levelInfo    = 6
)

// syslogLevel maps an event to a level: the problem's severity for
// raised and changed, notice for resolved (good news worth seeing).
func syslogLevel(ev *Event) int {
	if ev.Kind == KindResolved {
		return levelNotice
	}
	switch ev.Severity {
	case finding.SeverityCritical:
		return levelCrit
	case finding.SeverityHigh:
		return levelErr
	case finding.SeverityMedium:
		return levelWarning
	case finding.SeverityLow:
		return levelNotice
	}
	return levelInfo
}

// Syslog sends each event as one syslog message. It connects for each
// event, so that a restarted daemon or a rotated socket never leaves it
// writing to a dead connection. Over UDP a lost message is not noticed:
// that is UDP; use TCP where it matters.
type Syslog struct {
	// Network is SyslogUnix, SyslogUDP or SyslogTCP.
	Network string
	// Address is the socket path (SyslogUnix; empty means the system's
	// local socket) or host:port.
	Address string
	// Format is RFC3164 or RFC5424; empty means RFC3164 on the local
	// socket and RFC5424 over the network.
	Format string
	// Tag is the program name in each message; empty means "routerwatch".
	Tag string
	// Facility is a name of facilities; empty means "daemon".
	Facility string
	// Hostname is the HOSTNAME field over the network; empty means
	// os.Hostname().
	Hostname string
	// Now is the clock of the message timestamps; nil means time.Now.
	Now func() time.Time
}

// Notify sends ev.
func (s *Syslog) Notify(ctx context.Context, ev Event) error {
	network, addr := s.Network, s.Address
	if network == "" {
		network = SyslogUnix
	}
	if network == SyslogUnix && addr == "" {
		addr = defaultLocalSocket
		if addr == "" {
			return errors.New("syslog: this system has no local syslog socket; set network udp or tcp")
		}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(syslogTimeout)
	}
	conn, stream, err := dialSyslog(ctx, network, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("syslog %s: %w", addr, err)
	}
	msg := s.format(&ev, network, stream)
	if _, err := conn.Write(msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("syslog %s: %w", addr, ctx.Err())
		}
		return fmt.Errorf("syslog %s: %w", addr, err)
	}
	return nil
}

// dialSyslog connects. stream says whether the connection is a stream,
// which needs framing.
func dialSyslog(ctx context.Context, network, addr string) (net.Conn, bool, error) {
	switch network {
	case SyslogUnix:
		return dialLocal(ctx, addr)
	case SyslogUDP, SyslogTCP:
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, false, fmt.Errorf("syslog: %w", err)
		}
		return conn, network == SyslogTCP, nil
	}
	return nil, false, fmt.Errorf("syslog: unknown network %q (want unix, udp or tcp)", network)
}

// format renders one message, framed for a stream: octet counting for
// RFC 5424 (RFC 6587 §3.4.1), a newline for RFC 3164.
func (s *Syslog) format(ev *Event, network string, stream bool) []byte {
	format := s.Format
	if format == "" {
		format = RFC5424
		if network == SyslogUnix {
			format = RFC3164
		}
	}
	facility, ok := facilities[s.Facility]
	if !ok {
		facility = facilities["daemon"]
	}
	pri := "<" + strconv.Itoa(facility*8+syslogLevel(ev)) + ">"
	tag := syslogToken(s.Tag, "routerwatch", 48)
	pid := strconv.Itoa(os.Getpid())
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now()
	host := s.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	var head string
	switch {
	case format == RFC5424:
		head = pri + "1 " + t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") + " " +
			syslogToken(host, "-", 255) + " " + tag + " " + pid + " " + string(ev.Kind) + " - "
	case network == SyslogUnix:
		head = pri + t.Format(time.Stamp) + " " + tag + "[" + pid + "]: "
	default:
		head = pri + t.Format(time.Stamp) + " " + syslogToken(host, "-", 255) + " " + tag + "[" + pid + "]: "
	}
	limit := maxSyslogOther
	if network == SyslogUDP {
		limit = maxSyslogUDP
	}
	body := truncateUTF8(syslogText(ev), limit-len(head))
	msg := head + body
	switch {
	case stream && format == RFC5424:
		return []byte(strconv.Itoa(len(msg)) + " " + msg)
	case stream:
		return []byte(msg + "\n")
	}
	return []byte(msg)
}

// syslogText is the message text: the headline, the detail and the key,
// on one line with control characters escaped (a device's text must not
// forge log lines).
func syslogText(ev *Event) string {
	text := ev.Headline()
	if d := ev.currentDetail(); d != "" {
		text += " — " + d
	}
	text += " [" + ev.Key + "]"
	return termtext.Line(text)
}

// syslogToken makes s a header field: printable ASCII without spaces, at
// most n bytes; def when nothing is left.
func syslogToken(s, def string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f && b.Len() < n {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return def
	}
	return b.String()
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary, marking the
// cut with "…".
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	n -= len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if n < 0 {
		n = 0
	}
	return s[:n] + mark
}
