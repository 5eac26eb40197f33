// SPDX-License-Identifier: Apache-2.0

package mikrotiktest

import (
	"bufio"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a fake RouterOS API on 127.0.0.1.
type Server struct {
	// Addr is where it listens.
	Addr netip.AddrPort
	// State is what print and set work on.
	State *State

	opts    Options
	ln      net.Listener
	wg      sync.WaitGroup
	open    atomic.Int32 // logged-in sessions now
	logins  atomic.Int32
	refused atomic.Int32
	quits   atomic.Int32
	conns   atomic.Int32
	mu      sync.Mutex
	words   []string // every word received, for tests that look for secrets
}

// Options configure a Server.
type Options struct {
	// Users are the accounts: name to password.
	Users map[string]string
	// Legacy answers /login as RouterOS before 6.43 does: with a
	// challenge (=ret=) and the md5 response.
	Legacy bool
	// MaxSessions is how many logged-in sessions may be open at once;
	// a login beyond gets !fatal (0: no limit).
	MaxSessions int
	// TLS, when set, serves API-SSL with this certificate.
	TLS *tls.Config
	// Handler, when set, replaces the API: it gets every connection (for
	// servers that are not RouterOS, or that stall).
	Handler func(net.Conn)
}

// NewServer starts a fake API; it stops when the test ends.
func NewServer(t testing.TB, st *State, o Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.TLS != nil {
		ln = tls.NewListener(ln, o.TLS)
	}
	s := &Server{State: st, opts: o, ln: ln, Addr: ln.Addr().(*net.TCPAddr).AddrPort()}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Logins, Refused, Quits and Open count successful logins, refused
// logins, /quit commands and sessions open now.
func (s *Server) Logins() int  { return int(s.logins.Load()) }
func (s *Server) Refused() int { return int(s.refused.Load()) }
func (s *Server) Quits() int   { return int(s.quits.Load()) }
func (s *Server) Open() int    { return int(s.open.Load()) }

// Conns counts connections accepted.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// Words returns every word the server received.
func (s *Server) Words() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.words...)
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			// A test connection never lives long; this bounds a client
			// that stops talking.
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if s.opts.Handler != nil {
				s.opts.Handler(c)
				return
			}
			s.session(c)
		}()
	}
}

// sentence is one received command.
type sentence struct {
	command string
	attrs   map[string]string
	tag     string
}

func (s *Server) session(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	loggedIn := false
	defer func() {
		if loggedIn {
			s.open.Add(-1)
		}
	}()
	var challenge []byte
	for {
		words, err := ReadSentence(r)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.words = append(s.words, words...)
		s.mu.Unlock()
		cmd := parse(words)
		reply := func(ws ...string) {
			if cmd.tag != "" {
				ws = append(ws, ".tag="+cmd.tag)
			}
			w.Write(EncodeSentence(ws...))
		}
		switch {
		case cmd.command == "/quit":
			s.quits.Add(1)
			w.Write(EncodeSentence("!fatal", "session terminated on request"))
			w.Flush()
			return
		case cmd.command == "/login":
			ok := false
			switch {
			case s.opts.Legacy && cmd.attrs["response"] == "":
				challenge = make([]byte, 16)
				rand.Read(challenge)
				reply("!done", "=ret="+hex.EncodeToString(challenge))
				w.Flush()
				continue
			case s.opts.Legacy:
				pass, known := s.opts.Users[cmd.attrs["name"]]
				h := md5.New()
				h.Write([]byte{0})
				h.Write([]byte(pass))
				h.Write(challenge)
				ok = known && challenge != nil && cmd.attrs["response"] == "00"+hex.EncodeToString(h.Sum(nil))
			default:
				pass, known := s.opts.Users[cmd.attrs["name"]]
				ok = known && cmd.attrs["password"] == pass
			}
			if !ok {
				s.refused.Add(1)
				reply("!trap", "=message=invalid user name or password (6)")
				reply("!done")
				w.Flush()
				continue
			}
			if s.opts.MaxSessions > 0 && int(s.open.Load()) >= s.opts.MaxSessions {
				w.Write(EncodeSentence("!fatal", "too many sessions"))
				w.Flush()
				return
			}
			if !loggedIn {
				loggedIn = true
				s.open.Add(1)
			}
			s.logins.Add(1)
			reply("!done")
		case !loggedIn:
			w.Write(EncodeSentence("!fatal", "not logged in"))
			w.Flush()
			return
		case strings.HasSuffix(cmd.command, "/print"):
			key := strings.TrimSuffix(strings.TrimPrefix(cmd.command, "/"), "/print")
			rows, ok := s.State.Rows(key)
			if !ok {
				reply("!trap", "=message=no such command prefix")
				reply("!done")
				break
			}
			for _, row := range rows {
				ws := []string{"!re"}
				for _, k := range sortedKeys(row) {
					ws = append(ws, "="+k+"="+row[k])
				}
				reply(ws...)
			}
			reply("!done")
		case strings.HasSuffix(cmd.command, "/set"):
			key := strings.TrimSuffix(strings.TrimPrefix(cmd.command, "/"), "/set")
			id := cmd.attrs[".id"]
			if id == "" {
				id = cmd.attrs["numbers"]
			}
			props := map[string]string{}
			for k, v := range cmd.attrs {
				if k != ".id" && k != "numbers" {
					props[k] = v
				}
			}
			if _, ok := s.State.Rows(key); !ok {
				reply("!trap", "=message=no such command prefix")
			} else if id == "" && !s.State.IsSingle(key) {
				reply("!trap", "=message=missing value of numbers")
			} else if !s.State.Set(key, id, props) {
				reply("!trap", "=message=no such item")
			}
			reply("!done")
		default:
			reply("!trap", "=message=no such command")
			reply("!done")
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

func parse(words []string) sentence {
	s := sentence{attrs: map[string]string{}}
	if len(words) > 0 {
		s.command = words[0]
	}
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, ".tag="):
			s.tag = w[len(".tag="):]
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			s.attrs[k] = v
		}
	}
	return s
}

// EncodeSentence encodes words as the API does (help.mikrotik.com
// "API"), ending with the empty word. It is this package's own encoder,
// written apart from the client's so that each checks the other.
func EncodeSentence(words ...string) []byte {
	var b []byte
	for _, w := range words {
		n := len(w)
		switch {
		case n < 0x80:
			b = append(b, byte(n))
		case n < 0x4000:
			n |= 0x8000
			b = append(b, byte(n>>8), byte(n))
		case n < 0x200000:
			n |= 0xC00000
			b = append(b, byte(n>>16), byte(n>>8), byte(n))
		case n < 0x10000000:
			n |= 0xE0000000
			b = append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		default:
			b = append(b, 0xF0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		b = append(b, w...)
	}
	return append(b, 0)
}

// errBadLength is a length byte the fake does not accept.
var errBadLength = errors.New("mikrotiktest: bad length")

// ReadSentence reads one sentence (bounded: 1 MiB words, 4096 words).
func ReadSentence(r *bufio.Reader) ([]string, error) {
	var words []string
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		var n int
		switch {
		case c&0x80 == 0:
			n = int(c)
		case c&0xC0 == 0x80:
			n, err = more(r, int(c&0x3F), 1)
		case c&0xE0 == 0xC0:
			n, err = more(r, int(c&0x1F), 2)
		case c&0xF0 == 0xE0:
			n, err = more(r, int(c&0x0F), 3)
		case c == 0xF0:
			n, err = more(r, 0, 4)
		default:
			return nil, errBadLength
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return words, nil
		}
		if n > 1<<20 || len(words) > 4096 {
			return nil, errBadLength
		}
		w := make([]byte, n)
		if _, err := io.ReadFull(r, w); err != nil {
			return nil, err
		}
		words = append(words, string(w))
	}
}

func more(r *bufio.Reader, n, count int) (int, error) {
	for range count {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n = n<<8 | int(b)
	}
	return n, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// .id first, as RouterOS prints it.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i] == ".id" || keys[j] == ".id" {
			return keys[i] == ".id" && keys[j] != ".id"
		}
		return keys[i] < keys[j]
	})
	return keys
}

// String describes the server.
func (s *Server) String() string { return fmt.Sprintf("fake RouterOS API at %s", s.Addr) }
