// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// Default API ports (help.mikrotik.com, Services).
const (
	DefaultAPIPort    = 8728
	DefaultAPISSLPort = 8729
)

const (
	// pullTimeout bounds a pull when the caller's context has no
	// deadline: a LAN router answers the dozen prints in well under a
	// second; a stalled one must not hang a watch loop.
	pullTimeout = 30 * time.Second
	// quitTimeout bounds the /quit sent when closing, so that closing
	// never waits on a dead peer.
	quitTimeout = 2 * time.Second
)

// ErrNoCertificate explains an API-SSL handshake failure: RouterOS with
// no certificate on api-ssl offers only anonymous Diffie-Hellman suites
// (ADH), which Go's crypto/tls does not implement.
var ErrNoCertificate = errors.New("routeros api-ssl: TLS handshake failed; a router with no certificate on api-ssl offers only anonymous Diffie-Hellman, which Go's TLS does not support (give the service a certificate: /ip service set api-ssl certificate=…)")

// errClosed: the router closed the connection without answering, as
// RouterOS does for a source its service address list refuses.
var errClosed = errors.New("routeros api: the router closed the connection without a reply (is this address allowed by /ip service api address=?)")

// trapError is a !trap reply: the command failed.
type trapError struct {
	command  string
	category string
	message  string
}

func (e *trapError) Error() string {
	return fmt.Sprintf("routeros api: %s: %s", e.command, e.message)
}

// fatalError is a !fatal reply: the router closes the session.
type fatalError struct{ message string }

func (e *fatalError) Error() string {
	return "routeros api: session closed by the router: " + e.message
}

// reply is a command's answer.
type reply struct {
	rows []map[string]string
	done map[string]string
}

// apiClient is one API session.
type apiClient struct {
	conn net.Conn
	r    *bufio.Reader
	tag  int
	ctx  context.Context
	stop func() bool
	// loggedIn: only a logged-in session sends /quit on close.
	loggedIn bool
}

// withDeadline returns ctx bounded by pullTimeout when it has no
// deadline of its own.
func withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, pullTimeout)
}

// dialAPI connects to the API (or API-SSL when t.TLS) through d.
func dialAPI(ctx context.Context, d *netx.Dialer, t device.Target, tlsCfg *tls.Config) (*apiClient, error) {
	if d == nil {
		return nil, errors.New("routeros api: no dialer")
	}
	port := t.Port
	if port == 0 {
		port = DefaultAPIPort
		if t.TLS {
			port = DefaultAPISSLPort
		}
	}
	ap := netip.AddrPortFrom(t.Addr, port)
	var conn net.Conn
	if t.TLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if tlsCfg != nil {
			cfg = tlsCfg.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = t.Addr.String()
		}
		tc, err := d.DialTLS(ctx, ap, cfg)
		if err != nil {
			if isHandshakeFailure(err) {
				return nil, fmt.Errorf("%w: %w", ErrNoCertificate, err)
			}
			return nil, fmt.Errorf("routeros api-ssl %s: %w", ap, err)
		}
		conn = tc
	} else {
		c, err := d.Dial(ctx, "tcp", ap)
		if err != nil {
			return nil, fmt.Errorf("routeros api %s: %w", ap, err)
		}
		conn = c
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c := &apiClient{conn: conn, r: bufio.NewReader(conn), ctx: ctx}
	// A cancelled context unblocks a read at once.
	c.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return c, nil
}

// isHandshakeFailure reports a handshake that failed for want of a
// common cipher suite (the router's "handshake failure" alert to a client
// that offers no anonymous suite), not a dial error or a certificate that
// does not verify. crypto/tls does not export the received alert, so the
// message is what tells.
func isHandshakeFailure(err error) bool {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "handshake failure") || strings.Contains(s, "insufficient security") || strings.Contains(s, "no cipher suite")
}

// close sends /quit (RouterOS ends the session) and closes.
func (c *apiClient) close() {
	c.stop()
	if c.loggedIn {
		c.conn.SetWriteDeadline(time.Now().Add(quitTimeout))
		c.conn.Write(encodeSentence("/quit"))
	}
	c.conn.Close()
}

// ioErr turns a read or write error into the context's error when the
// context ended it.
func (c *apiClient) ioErr(err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("routeros api: %w", ctxErr)
	}
	// The connection's deadline is the context's: it can fire a moment
	// before the context's own timer.
	if dl, ok := c.ctx.Deadline(); ok && !time.Now().Before(dl) {
		return fmt.Errorf("routeros api: %w", context.DeadlineExceeded)
	}
	return err
}

// run sends one command (words after the command are attributes) and
// reads its reply: the !re rows until !done. A !trap comes back as a
// *trapError, a !fatal as a *fatalError.
func (c *apiClient) run(command string, attrs ...string) (*reply, error) {
	c.tag++
	tag := strconv.Itoa(c.tag)
	words := append([]string{command}, attrs...)
	words = append(words, ".tag="+tag)
	if _, err := c.conn.Write(encodeSentence(words...)); err != nil {
		return nil, c.ioErr(err)
	}
	rep := &reply{}
	var trap *trapError
	for {
		ws, err := readSentence(c.r)
		if err != nil {
			// A router that closes at once closes with our command
			// unread, so the peer may see a reset rather than an EOF.
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return nil, fmt.Errorf("%w (%v)", errClosed, err)
			}
			return nil, c.ioErr(err)
		}
		s, err := parseSentence(ws)
		if err != nil {
			return nil, err
		}
		if s.kind == "!fatal" {
			return nil, &fatalError{message: s.fatal}
		}
		if s.tag != tag {
			return nil, fmt.Errorf("reply tagged %q to command tagged %q: %w", s.tag, tag, errProtocol)
		}
		switch s.kind {
		case "!re":
			if len(rep.rows) >= maxReplyRows {
				return nil, fmt.Errorf("%s: more than %d rows: %w", command, maxReplyRows, errProtocol)
			}
			rep.rows = append(rep.rows, s.attrs)
		case "!trap":
			if trap == nil {
				trap = &trapError{command: command, category: s.attrs["category"], message: s.attrs["message"]}
			}
		case "!empty":
			// RouterOS 7.18 and later: a print with no rows.
		case "!done":
			if trap != nil {
				return nil, trap
			}
			rep.done = s.attrs
			return rep, nil
		default:
			return nil, fmt.Errorf("reply word %q: %w", s.kind, errProtocol)
		}
	}
}

// login logs in: RouterOS 6.43 and later take the name and password in
// /login; older routers answer with a challenge (=ret=) and want
// =response=00 followed by md5(0x00, password, challenge) in hex.
func (c *apiClient) login(cred device.Credentials) error {
	rep, err := c.run("/login", "=name="+cred.User, "=password="+cred.Password.Reveal())
	if err != nil {
		return loginErr(err)
	}
	if ret, ok := rep.done["ret"]; ok && ret != "" {
		chal, err := hex.DecodeString(ret)
		if err != nil {
			return fmt.Errorf("routeros api: login challenge %q is not hex: %w", ret, device.ErrUnsupported)
		}
		h := md5.New()
		h.Write([]byte{0})
		h.Write([]byte(cred.Password.Reveal()))
		h.Write(chal)
		if _, err := c.run("/login", "=name="+cred.User, "=response=00"+hex.EncodeToString(h.Sum(nil))); err != nil {
			return loginErr(err)
		}
	}
	c.loggedIn = true
	return nil
}

// loginErr classifies a failed login: a !trap is a refused login, a
// !fatal a router that will not take another session, anything that is
// not the API's framing a device that is not RouterOS.
func loginErr(err error) error {
	var trap *trapError
	var fatal *fatalError
	switch {
	case errors.As(err, &trap):
		return fmt.Errorf("routeros api: login refused (%s): %w", trap.message, device.ErrAuth)
	case errors.As(err, &fatal):
		return fmt.Errorf("routeros api: %s: %w", fatal.message, device.ErrBusy)
	case errors.Is(err, errProtocol), errors.Is(err, errReserved):
		return fmt.Errorf("%w: %w", device.ErrUnsupported, err)
	}
	return err
}
