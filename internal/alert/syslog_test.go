// SPDX-License-Identifier: Apache-2.0

//go:build unix

package alert

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// shortTempDir returns a directory whose path fits a Unix socket name
// (108 bytes on Linux; t.TempDir can be longer).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rw-alert")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// listenUnixgram is a real local syslog socket.
func listenUnixgram(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(shortTempDir(t), "log")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

func readDatagram(t *testing.T, c net.PacketConn) string {
	t.Helper()
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no syslog message: %v", err)
	}
	return string(buf[:n])
}

var clock = func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC) }

func TestSyslogUnixgram(t *testing.T) {
	c, path := listenUnixgram(t)
	s := &Syslog{Network: SyslogUnix, Address: path, Now: clock}
	pid := strconv.Itoa(os.Getpid())
	stamp := clock().Local().Format(time.Stamp)
	for _, ev := range sampleEvents(t) {
		if err := s.Notify(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		got := readDatagram(t, c)
		// daemon (3) * 8 + level: high → err (3), critical → crit (2),
		// resolved → notice (5).
		pri := map[Kind]string{KindRaised: "<27>", KindChanged: "<26>", KindResolved: "<29>"}[ev.Kind]
		want := pri + stamp + " routerwatch[" + pid + "]: " + syslogText(&ev)
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", ev.Kind, got, want)
		}
	}
}

func TestSyslogUDP5424(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := &Syslog{Network: SyslogUDP, Address: pc.LocalAddr().String(), Tag: "rw-test", Facility: "local3", Hostname: "watcher", Now: clock}
	ev := sampleEvents(t)[0]
	if err := s.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	got := readDatagram(t, pc)
	want := "<155>1 2026-11-26T10:00:00.123456Z watcher rw-test " + strconv.Itoa(os.Getpid()) + " raised - " + syslogText(&ev)
	if got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	// RFC 5424 §6: PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
	// PROCID SP MSGID SP STRUCTURED-DATA [SP MSG].
	if !regexp.MustCompile(`^<\d{1,3}>1 \S+ \S+ \S+ \d+ \S+ - `).MatchString(got) {
		t.Errorf("not RFC 5424: %q", got)
	}
}

// TestSyslogUDPBound: a long detail is cut to the 2048 bytes UDP
// receivers are asked to take, on a rune boundary.
func TestSyslogUDPBound(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ev := sampleEvents(t)[0]
	ev.Detail = strings.Repeat("ü", 3000)
	if err := (&Syslog{Network: SyslogUDP, Address: pc.LocalAddr().String()}).Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	got := readDatagram(t, pc)
	if len(got) > maxSyslogUDP || !strings.HasSuffix(got, "…") {
		t.Errorf("message of %d bytes, ends %q", len(got), got[len(got)-10:])
	}
}

func TestSyslogTCPFraming(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 2)
	go func() {
		for range 2 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 16384)
			n, _ := readAll(r, b)
			got <- string(b[:n])
			c.Close()
		}
	}()
	ev := sampleEvents(t)[0]
	for _, format := range []string{RFC5424, RFC3164} {
		if err := (&Syslog{Network: SyslogTCP, Address: ln.Addr().String(), Format: format, Hostname: "watcher", Now: clock}).Notify(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		msg := <-got
		switch format {
		case RFC5424:
			// RFC 6587 octet counting: "LEN SP MSG".
			n, rest, ok := strings.Cut(msg, " ")
			if l, err := strconv.Atoi(n); !ok || err != nil || l != len(rest) || !strings.HasPrefix(rest, "<27>1 ") {
				t.Errorf("5424 over TCP not octet-counted: %q", msg)
			}
		case RFC3164:
			if !strings.HasSuffix(msg, "\n") || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, " watcher routerwatch[") {
				t.Errorf("3164 over TCP: %q", msg)
			}
		}
	}
}

// readAll reads until EOF or the buffer is full.
func readAll(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestSyslogErrors(t *testing.T) {
	dir := shortTempDir(t)
	notSocket := filepath.Join(dir, "file")
	os.WriteFile(notSocket, nil, 0o600)
	// A socket file nobody listens on any more.
	stale := filepath.Join(dir, "stale")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: stale, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	os.WriteFile(filepath.Join(dir, "keep"), nil, 0o600)
	tests := []struct {
		name string
		s    Syslog
		want string
	}{
		{"missing socket", Syslog{Address: filepath.Join(dir, "nope")}, "does not exist (is a syslog daemon or journald running?)"},
		{"stale socket", Syslog{Address: stale}, "nothing listens on the local socket"},
		{"not a socket", Syslog{Address: notSocket}, "is not a socket"},
		{"unknown network", Syslog{Network: "sctp", Address: "127.0.0.1:514"}, `unknown network "sctp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Notify(context.Background(), sampleEvents(t)[0])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Notify = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSyslogCanceled(t *testing.T) {
	_, path := listenUnixgram(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&Syslog{Address: path}).Notify(ctx, sampleEvents(t)[0]); err == nil {
		t.Error("Notify with a canceled context succeeded")
	}
}

// TestSyslogEscapes: a device's text cannot forge a second log line.
func TestSyslogEscapes(t *testing.T) {
	c, path := listenUnixgram(t)
	ev := sampleEvents(t)[0]
	ev.Detail = "ok\n<29>Nov 26 10:00:00 routerwatch[1]: RESOLVED everything is fine"
	if err := (&Syslog{Address: path}).Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got := readDatagram(t, c); strings.ContainsAny(got, "\n\r") {
		t.Errorf("newline reached syslog: %q", got)
	}
}

func TestSyslogLevel(t *testing.T) {
	tests := []struct {
		kind Kind
		sev  finding.Severity
		want int
	}{
		{KindRaised, finding.SeverityCritical, levelCrit},
		{KindRaised, finding.SeverityHigh, levelErr},
		{KindChanged, finding.SeverityMedium, levelWarning},
		{KindRaised, finding.SeverityLow, levelNotice},
		{KindRaised, finding.SeverityInfo, levelInfo},
		{KindResolved, finding.SeverityCritical, levelNotice},
	}
	for _, tt := range tests {
		ev := Event{Kind: tt.kind, Severity: tt.sev}
		if got := syslogLevel(&ev); got != tt.want {
			t.Errorf("%s %s: level %d, want %d", tt.kind, tt.sev, got, tt.want)
		}
	}
}
