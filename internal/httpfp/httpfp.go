// SPDX-License-Identifier: Apache-2.0

// Package httpfp extracts the fingerprint of an HTTP response: status,
// bounded headers, Server, authentication challenges and their realms,
// the page title and the favicon hashes, and the TLS client configuration
// probes look at devices with (certificates are summarized by
// probe.CertificateOf). It is the
// parsing shared by the probes that speak HTTP or TLS (httpprobe,
// tr069probe, mikrotikprobe); it lives outside internal/probe because
// probe packages never import each other.
//
// The contract: every function takes bytes a hostile device chose and is
// bounded in time and memory by its input (itself already capped by
// netx); none panics; all strings it returns are valid UTF-8 (bytes that
// are not UTF-8 are read as ISO-8859-1, which legacy router pages use).
package httpfp

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twmb/murmur3"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// Bounds on what a Response keeps. Router responses carry a dozen short
// headers; anything far beyond is noise or an attack.
const (
	maxHeaderNames  = 64
	maxHeaderValues = 4
	maxValueLen     = 1024
	maxTitleLen     = 512
	maxChallenges   = 8
)

// Response is the fingerprint of one HTTP response.
type Response struct {
	URL        string `json:"url"`
	StatusCode int    `json:"status_code"`
	Proto      string `json:"proto,omitempty"`
	// Headers holds up to 64 header names (sorted) with up to 4 values
	// each, values cut at 1 KiB.
	Headers         []Header    `json:"headers,omitempty"`
	Server          string      `json:"server,omitempty"`
	WWWAuthenticate []string    `json:"www_authenticate,omitempty"`
	Challenges      []Challenge `json:"challenges,omitempty"`
	Location        string      `json:"location,omitempty"`
	ContentType     string      `json:"content_type,omitempty"`
	SetCookie       []string    `json:"set_cookie,omitempty"`
	Title           string      `json:"title,omitempty"`
	// BodyBytes is how much of the body was read; BodyTruncated is true
	// when the body was longer than the cap.
	BodyBytes     int    `json:"body_bytes"`
	BodyTruncated bool   `json:"body_truncated,omitempty"`
	BodySHA256    string `json:"body_sha256,omitempty"`
}

// Header is one response header.
type Header struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Challenge is one authentication challenge of WWW-Authenticate.
type Challenge struct {
	Scheme string `json:"scheme"` // as sent: "Basic", "Digest"
	Realm  string `json:"realm,omitempty"`
}

// FromHTTP fingerprints resp, whose body (read by the caller) is body.
func FromHTTP(resp *http.Response, body []byte, truncated bool) Response {
	r := Response{
		StatusCode:    resp.StatusCode,
		Proto:         resp.Proto,
		BodyBytes:     len(body),
		BodyTruncated: truncated,
	}
	if resp.Request != nil && resp.Request.URL != nil {
		r.URL = resp.Request.URL.String()
	}
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) > maxHeaderNames {
		names = names[:maxHeaderNames]
	}
	for _, k := range names {
		vs := resp.Header[k]
		if len(vs) > maxHeaderValues {
			vs = vs[:maxHeaderValues]
		}
		h := Header{Name: Text([]byte(k), maxValueLen)}
		for _, v := range vs {
			h.Values = append(h.Values, Text([]byte(v), maxValueLen))
		}
		r.Headers = append(r.Headers, h)
	}
	r.Server = first(resp.Header, "Server")
	r.Location = first(resp.Header, "Location")
	r.ContentType = first(resp.Header, "Content-Type")
	for i, v := range resp.Header.Values("Www-Authenticate") {
		if i == maxHeaderValues {
			break
		}
		v = Text([]byte(v), maxValueLen)
		r.WWWAuthenticate = append(r.WWWAuthenticate, v)
		r.Challenges = append(r.Challenges, ParseChallenges(v)...)
	}
	if len(r.Challenges) > maxChallenges {
		r.Challenges = r.Challenges[:maxChallenges]
	}
	for i, v := range resp.Header.Values("Set-Cookie") {
		if i == maxHeaderValues {
			break
		}
		r.SetCookie = append(r.SetCookie, Text([]byte(v), maxValueLen))
	}
	if len(body) > 0 {
		sum := sha256.Sum256(body)
		r.BodySHA256 = hex.EncodeToString(sum[:])
		r.Title = Title(body)
	}
	return r
}

func first(h http.Header, k string) string {
	return Text([]byte(h.Get(k)), maxValueLen)
}

// Realm returns the realm of the first Basic challenge, else of the first
// challenge with a realm.
func (r *Response) Realm() string {
	for _, c := range r.Challenges {
		if strings.EqualFold(c.Scheme, "basic") && c.Realm != "" {
			return c.Realm
		}
	}
	for _, c := range r.Challenges {
		if c.Realm != "" {
			return c.Realm
		}
	}
	return ""
}

// ReadBody reads a body whose size netx caps, and reports whether it was
// cut at the cap. Other read errors (a timeout mid-body) are returned with
// what was read.
func ReadBody(rd io.Reader) (body []byte, truncated bool, err error) {
	body, err = io.ReadAll(rd)
	if errors.Is(err, netx.ErrTooLarge) {
		return body, true, nil
	}
	return body, false, err
}

// Text is probe.Text: b as valid UTF-8 (ISO-8859-1 when it is not UTF-8),
// cut at max bytes, without control characters.
func Text(b []byte, max int) string { return probe.Text(b, max) }

// ParseChallenges reads the challenges of one WWW-Authenticate value
// (RFC 9110 §11.6.1). Sample:
//
//	Basic realm="TP-LINK Wireless N Router WR841N", charset="UTF-8"
//	Digest realm="x", nonce="abc", qop="auth", Basic realm="y"
func ParseChallenges(h string) []Challenge {
	var out []Challenge
	s := h
	for len(out) < maxChallenges {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		scheme, rest := token(s)
		if scheme == "" {
			// Not a token: skip one byte of junk and resynchronize.
			_, size := utf8.DecodeRuneInString(s)
			s = s[size:]
			continue
		}
		c := Challenge{Scheme: scheme}
		s = rest
		// Parameters: name=value pairs until the next bare token.
		for {
			t := strings.TrimLeft(s, " \t,")
			name, after := token(t)
			after = strings.TrimLeft(after, " \t")
			if name == "" || !strings.HasPrefix(after, "=") {
				// The end, junk, or the next scheme.
				s = t
				break
			}
			val := strings.TrimLeft(after, "=")
			if len(after)-len(val) > 1 || isEnd(val) {
				// token68 ("Basic dXNlcg==") rather than name=value.
				s = val
				continue
			}
			val = strings.TrimLeft(val, " \t")
			var v string
			if strings.HasPrefix(val, `"`) {
				v, s = quoted(val)
			} else {
				v, s = token(val)
			}
			if strings.EqualFold(name, "realm") && c.Realm == "" {
				c.Realm = v
			}
		}
		out = append(out, c)
	}
	return out
}

// isEnd reports whether s holds nothing more of the current challenge.
func isEnd(s string) bool {
	s = strings.TrimLeft(s, " \t")
	return s == "" || s[0] == ','
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~/", c) >= 0
}

func token(s string) (tok, rest string) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// quoted reads a quoted-string starting at s[0] == '"'; an unterminated
// string runs to the end (devices do send that).
func quoted(s string) (val, rest string) {
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				sb.WriteByte(s[i])
			}
		case '"':
			return sb.String(), s[i+1:]
		default:
			sb.WriteByte(s[i])
		}
	}
	return sb.String(), ""
}

// Title returns the text of the first <title> element of an HTML page,
// entities decoded and white space collapsed. Sample (a TP-Link page):
//
//	<HTML>\n<HEAD><TITLE>TL-WR841N</TITLE>
func Title(body []byte) string {
	start := indexFold(body, "<title")
	for start >= 0 {
		rest := body[start+len("<title"):]
		if len(rest) > 0 && (rest[0] == '>' || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r') {
			gt := bytes.IndexByte(rest, '>')
			if gt < 0 {
				return ""
			}
			rest = rest[gt+1:]
			end := indexFold(rest, "</title")
			if end < 0 {
				end = min(len(rest), maxTitleLen*4)
			}
			return collapse(html.UnescapeString(Text(rest[:end], maxTitleLen*4)), maxTitleLen)
		}
		next := indexFold(rest, "<title")
		if next < 0 {
			return ""
		}
		start += len("<title") + next
	}
	return ""
}

// indexFold finds needle, which starts with '<' and is otherwise lowercase
// ASCII, in b, ignoring case.
func indexFold(b []byte, needle string) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '<')
		if i < 0 {
			return -1
		}
		i += off
		if i+len(needle) > len(b) {
			return -1
		}
		if equalFoldASCII(b[i:i+len(needle)], needle) {
			return i
		}
		off = i + 1
	}
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := range len(lower) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// collapse folds runs of white space to one space, trims, and cuts at max
// bytes on a rune boundary.
func collapse(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}

// Favicon holds the hashes fingerprint databases use for /favicon.ico.
type Favicon struct {
	StatusCode int    `json:"status_code"`
	Bytes      int    `json:"bytes"`
	MD5        string `json:"md5"`  // hex, as in rapid7 recog favicons.xml
	MMH3       int32  `json:"mmh3"` // Shodan's http.favicon.hash
}

// FaviconHashes computes the MD5 and the Shodan-style MurmurHash3: the
// 32-bit x86 hash, seed 0, of the base64 encoding with a newline after
// every 76 characters and at the end (Python's base64.encodebytes),
// read as a signed integer.
func FaviconHashes(b []byte) (md5hex string, mmh3 int32) {
	sum := md5.Sum(b)
	enc := base64.StdEncoding.EncodeToString(b)
	buf := make([]byte, 0, len(enc)+len(enc)/76+2)
	for len(enc) > 76 {
		buf = append(buf, enc[:76]...)
		buf = append(buf, '\n')
		enc = enc[76:]
	}
	if enc != "" {
		buf = append(buf, enc...)
		buf = append(buf, '\n')
	}
	return hex.EncodeToString(sum[:]), int32(murmur3.Sum32(buf))
}

// TLSConfig is the client configuration probes use to look at a TLS
// service: it records certificates and never trusts or refuses them
// (routers use self-signed ones), reaches back to TLS 1.0, and offers
// every suite Go implements, insecure ones too, since old routers know
// only RSA key exchange and CBC. Nothing secret is ever sent over it.
func TLSConfig(serverName string) *tls.Config {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // fingerprinting: recorded, never trusted
		ServerName:         serverName,
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       ids,
	}
}

// FormatMMH3 renders a favicon hash the way Shodan queries write it.
func FormatMMH3(h int32) string { return strconv.FormatInt(int64(h), 10) }
