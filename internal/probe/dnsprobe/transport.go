// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// exchangeUDP sends m over a connected UDP socket (the kernel drops
// datagrams from any other address, so a reply spoofed from elsewhere
// never reaches us) and waits for a valid reply: it retransmits once after
// udpRetransmit, ignores replies that fail validation, and gives up
// badReplyGrace after the first bad one. With again, a question still
// unanswered again.after the first send is asked once more with a new ID
// (when again.ok allows), and a valid reply to either question ends the
// exchange: a resolver that answers late is heard, and when it answers
// the second question at once the first one was lost, not delayed.
func (c *Client) exchangeUDP(ctx context.Context, ap netip.AddrPort, m *dns.Msg, again *reask) (*dns.Msg, exchangeMeta, error) {
	var meta exchangeMeta
	wire, err := m.Pack()
	if err != nil {
		return nil, meta, fmt.Errorf("pack query: %w", err)
	}
	conn, err := c.dialer.Dial(ctx, "udp", ap)
	if err != nil {
		return nil, meta, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(wire); err != nil {
		return nil, meta, err
	}
	start := time.Now()
	end, _ := ctx.Deadline()
	retransmitAt := start.Add(udpRetransmit)
	var reaskAt time.Time
	if again != nil {
		reaskAt = start.Add(again.after)
	}
	var second *dns.Msg // the question asked again, once it was
	var badUntil time.Time
	var lastBad error
	buf := make([]byte, MaxUDPReply+1) // one more byte than allowed: a full buffer is oversized
	for {
		dl := end
		for _, t := range []time.Time{retransmitAt, reaskAt, badUntil} {
			if !t.IsZero() && t.Before(dl) {
				dl = t
			}
		}
		conn.SetReadDeadline(dl)
		if ctx.Err() != nil {
			// Checked after setting the deadline, so a cancel that
			// fired before cannot be overwritten by it.
			return nil, meta, ctx.Err()
		}
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() == nil && isTimeout(err) {
				now := time.Now()
				if !badUntil.IsZero() && !now.Before(badUntil) {
					return nil, meta, lastBad
				}
				if !retransmitAt.IsZero() && !now.Before(retransmitAt) {
					retransmitAt = time.Time{}
					if _, err := conn.Write(wire); err != nil {
						return nil, meta, err
					}
					continue
				}
				if !reaskAt.IsZero() && !now.Before(reaskAt) {
					reaskAt = time.Time{}
					if again.ok != nil && !again.ok() {
						// Not worth waiting longer: end as an
						// exchange without a second chance would.
						return nil, meta, os.ErrDeadlineExceeded
					}
					second = m.Copy()
					second.Id = dns.Id()
					w2, err := second.Pack()
					if err != nil {
						return nil, meta, fmt.Errorf("pack query: %w", err)
					}
					if _, err := conn.Write(w2); err != nil {
						return nil, meta, err
					}
					meta.reaskedAt = now
					continue
				}
			}
			if lastBad != nil {
				return nil, meta, fmt.Errorf("%w (and no valid reply before: %w)", lastBad, err)
			}
			if ctx.Err() != nil {
				return nil, meta, ctx.Err()
			}
			return nil, meta, err
		}
		q := m
		if second != nil && n >= 2 && binary.BigEndian.Uint16(buf) == second.Id {
			q = second
		}
		r, verr := ValidateReply(q, buf[:n], MaxUDPReply)
		if verr != nil {
			lastBad = verr
			meta.ignored = append(meta.ignored, verr.Error())
			if badUntil.IsZero() {
				badUntil = time.Now().Add(badReplyGrace)
			}
			continue
		}
		meta.size = n
		meta.reasked = q == second
		return r, meta, nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// exchangeTCP sends m over TCP with the RFC 1035 §4.2.2 length prefix.
func (c *Client) exchangeTCP(ctx context.Context, ap netip.AddrPort, m *dns.Msg) (*dns.Msg, exchangeMeta, error) {
	conn, err := c.dialer.Dial(ctx, "tcp", ap)
	if err != nil {
		return nil, exchangeMeta{}, err
	}
	defer conn.Close()
	return streamExchange(ctx, conn, m)
}

// exchangeDoT sends m over TLS (RFC 7858), verifying the server's
// certificate against srv.ServerName or its address.
func (c *Client) exchangeDoT(ctx context.Context, srv Server, m *dns.Msg) (*dns.Msg, exchangeMeta, error) {
	conn, err := c.dialer.DialTLS(ctx, srv.Addr, c.tlsConfig(srv, "dot"))
	if err != nil {
		return nil, exchangeMeta{}, err
	}
	defer conn.Close()
	return streamExchange(ctx, conn, m)
}

// tlsConfig verifies the server by name when one is given, else by the
// IP address (Go checks IP SANs when ServerName is an address). Sessions
// are resumed from the client's cache: every DoT query and DoH request is
// its own connection, and a resumed handshake skips the certificate work.
func (c *Client) tlsConfig(srv Server, alpn string) *tls.Config {
	name := srv.ServerName
	if name == "" {
		name = srv.Addr.Addr().WithZone("").String()
	}
	return &tls.Config{ServerName: name, RootCAs: srv.RootCAs, MinVersion: tls.VersionTLS12, NextProtos: []string{alpn},
		ClientSessionCache: c.sessions}
}

// streamExchange writes one length-prefixed query and reads one reply.
func streamExchange(ctx context.Context, conn net.Conn, m *dns.Msg) (*dns.Msg, exchangeMeta, error) {
	var meta exchangeMeta
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	wire, err := m.Pack()
	if err != nil {
		return nil, meta, fmt.Errorf("pack query: %w", err)
	}
	out := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(out, uint16(len(wire)))
	copy(out[2:], wire)
	if _, err := conn.Write(out); err != nil {
		return nil, meta, err
	}
	var lenBuf [2]byte
	if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
		return nil, meta, streamErr(ctx, err)
	}
	n := int(binary.BigEndian.Uint16(lenBuf[:]))
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		return nil, meta, streamErr(ctx, err)
	}
	r, err := ValidateReply(m, body, MaxStreamReply)
	if err != nil {
		return nil, meta, err
	}
	if r.Truncated {
		return nil, meta, replyErr(ErrTruncated, "TC bit set on a stream transport")
	}
	meta.size = n
	return r, meta, nil
}

// streamErr names a connection closed mid-reply as malformed, and
// prefers the context's error when it ended the read.
func streamErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return replyErr(ErrMalformed, "connection closed mid-reply")
	}
	return err
}

// dohMediaType is the RFC 8484 media type.
const dohMediaType = "application/dns-message"

// exchangeDoH POSTs m to srv.URL (RFC 8484 §4.1) through a netx HTTP
// client.
func (c *Client) exchangeDoH(ctx context.Context, srv Server, m *dns.Msg) (*dns.Msg, exchangeMeta, error) {
	var meta exchangeMeta
	wire, err := m.Pack()
	if err != nil {
		return nil, meta, fmt.Errorf("pack query: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(wire))
	if err != nil {
		return nil, meta, err
	}
	req.Header.Set("Content-Type", dohMediaType)
	req.Header.Set("Accept", dohMediaType)
	if srv.auth != nil {
		// The URL carries no credentials (ParseDoH): errors that quote
		// it cannot leak them.
		pass, _ := srv.auth.Password()
		req.SetBasicAuth(srv.auth.Username(), pass)
	}
	resp, err := c.dohClient(srv).Do(req)
	if err != nil {
		return nil, meta, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, meta, replyErr(ErrMalformed, "HTTP status %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != dohMediaType {
		return nil, meta, replyErr(ErrMalformed, "content type %q", resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxStreamReply+1))
	if err != nil {
		return nil, meta, streamErr(ctx, err)
	}
	r, err := ValidateReply(m, body, MaxStreamReply)
	if err != nil {
		return nil, meta, err
	}
	if r.Truncated {
		return nil, meta, replyErr(ErrTruncated, "TC bit set in a DoH reply")
	}
	meta.size = len(body)
	return r, meta, nil
}

// dohClient returns the HTTP client for srv, built once: its TLS
// configuration names the server and its roots.
func (c *Client) dohClient(srv Server) httpDoer {
	key := fmt.Sprintf("%s|%p", srv, srv.RootCAs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc, ok := c.doh[key]; ok {
		return hc
	}
	cfg := c.tlsConfig(srv, "h2")
	cfg.NextProtos = []string{"h2", "http/1.1"} // HTTP/2 first (RFC 8484 §5.2), HTTP/1.1 for servers without it
	hc := c.dialer.HTTPClient(netx.HTTPOptions{TLS: cfg, MaxRedirects: -1, MaxBody: MaxStreamReply + 1, HTTP2: true})
	c.doh[key] = hc
	return hc
}
