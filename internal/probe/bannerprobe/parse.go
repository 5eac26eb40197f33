// SPDX-License-Identifier: Apache-2.0

package bannerprobe

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// Telnet commands (RFC 854) and the bounds of negotiation.
const (
	telSE   = 240
	telSB   = 250
	telWILL = 251
	telWONT = 252
	telDO   = 253
	telDONT = 254
	telIAC  = 255
	// maxReplies bounds our answers to negotiation, so a device that
	// negotiates forever cannot keep us talking.
	maxReplies = 32
	// maxOptions bounds the options recorded.
	maxOptions = 32
	// maxSB bounds one subnegotiation we skip.
	maxSB = 1024
)

// Telnet strips IAC negotiation from a telnet byte stream, collects the
// options the server asked about, and produces the refusals to send back
// (WONT for DO, DONT for WILL: the probe agrees to nothing). Feed it bytes
// as they arrive. Sample of what busybox telnetd sends first:
//
//	\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03 <banner> Login:
type Telnet struct {
	text    []byte
	options []string
	replies int
	max     int // bound on text
	state   int
	verb    byte
	sbLen   int
}

const (
	stData = iota
	stIAC
	stOption
	stSB
	stSBIAC
)

// NewTelnet returns a decoder that keeps at most max text bytes.
func NewTelnet(max int) *Telnet { return &Telnet{max: max} }

// Feed consumes b and returns the bytes to write back (may be nil).
func (t *Telnet) Feed(b []byte) []byte {
	var reply []byte
	for _, c := range b {
		switch t.state {
		case stData:
			if c == telIAC {
				t.state = stIAC
				continue
			}
			if len(t.text) < t.max {
				t.text = append(t.text, c)
			}
		case stIAC:
			switch c {
			case telIAC: // escaped 255 data byte
				if len(t.text) < t.max {
					t.text = append(t.text, c)
				}
				t.state = stData
			case telWILL, telWONT, telDO, telDONT:
				t.verb, t.state = c, stOption
			case telSB:
				t.state, t.sbLen = stSB, 0
			default: // NOP, GA and the other one-byte commands
				t.state = stData
			}
		case stOption:
			if len(t.options) < maxOptions {
				t.options = append(t.options, verbName(t.verb)+" "+strconv.Itoa(int(c)))
			}
			if t.replies < maxReplies {
				switch t.verb {
				case telDO:
					reply = append(reply, telIAC, telWONT, c)
					t.replies++
				case telWILL:
					reply = append(reply, telIAC, telDONT, c)
					t.replies++
				}
			}
			t.state = stData
		case stSB:
			t.sbLen++
			if c == telIAC {
				t.state = stSBIAC
			} else if t.sbLen > maxSB {
				t.state = stData // runaway subnegotiation: give up on it
			}
		case stSBIAC:
			if c == telSE {
				t.state = stData
			} else {
				t.state = stSB
			}
		}
	}
	return reply
}

// Text returns the data bytes seen so far.
func (t *Telnet) Text() []byte { return t.text }

// Options returns the negotiation seen ("DO 1", "WILL 3").
func (t *Telnet) Options() []string { return t.options }

func verbName(v byte) string {
	switch v {
	case telWILL:
		return "WILL"
	case telWONT:
		return "WONT"
	case telDO:
		return "DO"
	}
	return "DONT"
}

// Prompt returns "login" or "password" when text ends with such a prompt,
// else "".
func Prompt(text string) string {
	s := strings.ToLower(strings.TrimRight(text, " \t\r\n\x00"))
	for _, p := range []struct{ suffix, kind string }{
		{"login:", "login"}, {"username:", "login"}, {"user name:", "login"}, {"user:", "login"},
		{"password:", "password"},
	} {
		if strings.HasSuffix(s, p.suffix) {
			return p.kind
		}
	}
	return ""
}

// SSHIdent is a parsed SSH identification line (RFC 4253 §4.2).
type SSHIdent struct {
	Proto    string `json:"proto"`              // "2.0", "1.99"
	Software string `json:"software"`           // "dropbear_2022.83", "ROSSSH"
	Comments string `json:"comments,omitempty"` // after the first space
}

// maxSSHLine is the RFC 4253 limit of an identification line, CR LF
// included.
const maxSSHLine = 255

// ParseSSH finds the identification line in what an SSH server sent
// first; servers may send other lines before it. Sample:
//
//	SSH-2.0-dropbear_2022.83\r\n
//
// It returns ok=false while no complete "SSH-" line is present, and an
// error (wrapping probe.ErrProtocol) when the data cannot be SSH.
func ParseSSH(b []byte) (id SSHIdent, ok bool, err error) {
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			if len(b) > maxSSHLine && bytes.HasPrefix(b, []byte("SSH-")) {
				return id, false, fmt.Errorf("bannerprobe: SSH identification longer than %d bytes: %w", maxSSHLine, probe.ErrProtocol)
			}
			return id, false, nil
		}
		line := bytes.TrimRight(b[:nl], "\r")
		b = b[nl+1:]
		if !bytes.HasPrefix(line, []byte("SSH-")) {
			continue
		}
		rest := string(line[4:])
		proto, soft, found := strings.Cut(rest, "-")
		if !found || proto == "" {
			return id, false, fmt.Errorf("bannerprobe: malformed SSH identification %q: %w", probe.Text(line, 64), probe.ErrProtocol)
		}
		soft, comments, _ := strings.Cut(soft, " ")
		return SSHIdent{Proto: probe.Text([]byte(proto), 16), Software: probe.Text([]byte(soft), maxSSHLine),
			Comments: probe.Text([]byte(comments), maxSSHLine)}, true, nil
	}
	return id, false, nil
}

// FTPGreeting is a parsed FTP greeting (RFC 959 §4.2).
type FTPGreeting struct {
	Code  int      `json:"code"`  // 220 ready, 421 refused, …
	Lines []string `json:"lines"` // text after the code of each line
}

// maxFTPLines bounds a multi-line greeting.
const maxFTPLines = 32

// ParseFTP reads a greeting. Samples:
//
//	220 Welcome to TP-LINK FTP server\r\n
//	220-first line\r\n  more\r\n220 last line\r\n
//
// It returns ok=false until the final line ("ddd " with the first line's
// code) has arrived, and an error wrapping probe.ErrProtocol when the
// first line has no reply code.
func ParseFTP(b []byte) (g FTPGreeting, ok bool, err error) {
	var code string
	for len(b) > 0 && len(g.Lines) < maxFTPLines {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			if code == "" && len(b) >= 4 && !isCode(b[:3]) {
				break // fall through to the protocol error below
			}
			return g, false, nil
		}
		line := bytes.TrimRight(b[:nl], "\r")
		b = b[nl+1:]
		if code == "" {
			if len(line) < 3 || !isCode(line[:3]) || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
				return g, false, fmt.Errorf("bannerprobe: FTP greeting %q has no reply code: %w", probe.Text(line, 64), probe.ErrProtocol)
			}
			code = string(line[:3])
			g.Code, _ = strconv.Atoi(code)
		}
		text := line
		final := false
		if len(line) >= 3 && string(line[:3]) == code {
			final = len(line) == 3 || line[3] == ' '
			text = line[min(4, len(line)):]
		}
		g.Lines = append(g.Lines, probe.Text(text, 512))
		if final {
			return g, true, nil
		}
	}
	if code == "" && len(b) > 0 {
		return g, false, fmt.Errorf("bannerprobe: FTP greeting without reply code: %w", probe.ErrProtocol)
	}
	if len(g.Lines) >= maxFTPLines {
		return g, true, nil
	}
	return g, false, nil
}

func isCode(b []byte) bool {
	return len(b) == 3 && b[0] >= '1' && b[0] <= '5' && b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9'
}
