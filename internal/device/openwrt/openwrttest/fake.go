// SPDX-License-Identifier: Apache-2.0

// Package openwrttest is a fake OpenWrt router for tests only: uhttpd's
// /ubus JSON-RPC endpoint in front of rpcd's session and uci objects and
// procd's system board, listening on 127.0.0.1, backed by UCI text (the
// real files of data/router-samples/openwrt).
//
// What it does the way OpenWrt does (CONFIGS.md §4.1; uhttpd ubus.c,
// rpcd session.c and uci.c):
//   - uhttpd's checks come first, as JSON-RPC errors: -32700 for a body
//     that is not a JSON-RPC object (or is over uhttpd's 64 KiB), -32601
//     for a method other than "call", -32602 when the arguments carry
//     ubus_rpc_session, -32000 for an object that is not registered, and
//     -32002 "Access denied" when the session's ACL lacks object.method —
//     which is also what an expired or destroyed session gets.
//   - Calls answer {"result":[status]} or [status, object].
//   - The all-zero session has the unauthenticated group's ACL, read from
//     rpcd's real unauthenticated.json: session access and login only.
//   - session login reads `config login` sections of the rpcd
//     configuration: password '$p$<user>' is checked against the system
//     password the test gives; a crypt hash never matches (the fake has
//     no crypt); a wrong one answers status 6. Sessions expire after
//     their timeout idle, on the clock of Options.Now; every call
//     refreshes them.
//   - uci get/set/delete stage changes per session (a session sees its
//     own staged changes); commit writes one configuration; apply with
//     rollback writes every staged one and undoes them unless confirm
//     comes before the timeout; rollback undoes at once. Each write is a
//     "reload" of that configuration's services (Reloads).
//
// Simplified: rpcd reads ACL groups from acl.d files; the fake has fixed
// groups. A login's `list read` / `list write` patterns ('*' or a group
// name) grant "ubus" (read: uci get, system board, session destroy;
// write: uci set, delete, commit, apply, confirm, rollback) and
// "uci-<config>" (read: uci get of it; write: changing it), and read
// grants "unauthenticated" too, as rpcd's '*' does.
//
// OpenWrt neither limits admin sessions to one nor rate-limits logins;
// the fake does not either. Options.HTTPStatus stands for a proxy in
// front that does.
package openwrttest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
)

// ZeroSession is the session id of unauthenticated callers.
const ZeroSession = "00000000000000000000000000000000"

// maxPost is uhttpd's UH_UBUS_MAX_POST_SIZE.
const maxPost = 65536

// defaultTimeout is rpcd's RPC_DEFAULT_SESSION_TIMEOUT.
const defaultTimeout = 300 * time.Second

// Options configures a fake router.
type Options struct {
	// Configs are the UCI files by package name ("dhcp": the text of
	// /etc/config/dhcp). A package not given answers "not found".
	Configs map[string][]byte
	// RPCD is the rpcd configuration logins are checked against; nil
	// means Configs["rpcd"]. Giving it apart lets a sample set without an
	// rpcd file (uci get rpcd: not found) still have logins.
	RPCD []byte
	// SystemPasswords are the /etc/shadow passwords of system users, for
	// logins whose password is '$p$<user>'.
	SystemPasswords map[string]string
	// UnauthenticatedACL is rpcd's acl.d/unauthenticated.json; nil means
	// the one rpcd ships (session access and login).
	UnauthenticatedACL []byte
	// Board is the reply of `system board`; nil: no system object.
	Board []byte
	// Now is the clock of session and rollback timeouts; nil: time.Now.
	Now func() time.Time
	// DenyDestroy leaves session destroy out of the "ubus" group, as an
	// ACL without it does: sessions then end only by timeout.
	DenyDestroy bool
	// NoApply: an rpcd from before uci apply existed (method not found).
	NoApply bool
	// IgnoreWrites stages uci set and delete, then lets commit and apply
	// succeed without writing anything: a router that does not keep what
	// it is told (a full flash, a script that rewrites the file).
	IgnoreWrites bool
	// HTTPStatus, when set, answers every request with it, as a proxy in
	// front of uhttpd that rate-limits would.
	HTTPStatus int
	// GetStatus answers uci get of a configuration with a ubus status,
	// as rpcd answers 9 (unknown error) for a file libuci cannot parse.
	GetStatus map[string]int
	// TLS serves HTTPS (uhttpd's listen_https) with a self-signed
	// certificate, as px5g makes one.
	TLS bool
}

type login struct {
	user, password string
	hasPassword    bool
	read, write    []string
}

type session struct {
	id, user    string
	timeout     time.Duration
	expires     time.Time
	read, write []string
	staged      map[string]*uci.Package
}

type pendingApply struct {
	before   map[string]*uci.Package // nil entry: the configuration did not exist
	deadline time.Time
}

// Server is a running fake router.
type Server struct {
	// URL is the /ubus endpoint; Addr the listening address.
	URL  string
	Addr netip.AddrPort

	o         Options
	srv       *httptest.Server
	mu        sync.Mutex
	committed map[string]*uci.Package
	logins    []login
	anonACL   map[string][]string
	sessions  map[string]*session
	pending   *pendingApply
	calls     []string
	reloads   []string
	loginsOK  int
	loginsBad int
	// expireAfter > 0: after that many more calls in a session, every
	// session expires.
	expireAfter int
}

// New starts a fake router; the test's cleanup stops it.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{o: o, committed: map[string]*uci.Package{}, sessions: map[string]*session{}}
	for name, b := range o.Configs {
		p, err := load(name, b)
		if err != nil {
			t.Fatalf("openwrttest: %s: %v", name, err)
		}
		s.committed[name] = p
	}
	rpcd := o.RPCD
	if rpcd == nil {
		rpcd = o.Configs["rpcd"]
	}
	if rpcd != nil {
		p, err := load("rpcd", rpcd)
		if err != nil {
			t.Fatalf("openwrttest: rpcd: %v", err)
		}
		for _, sec := range p.OfType("login") {
			l := login{read: sec.Values("read"), write: sec.Values("write")}
			l.user, _ = sec.Get("username")
			l.password, l.hasPassword = sec.Get("password")
			s.logins = append(s.logins, l)
		}
	}
	acl := o.UnauthenticatedACL
	if acl == nil {
		acl = []byte(`{"unauthenticated":{"read":{"ubus":{"session":["access","login"]}}}}`)
	}
	var groups map[string]struct {
		Read struct {
			Ubus map[string][]string `json:"ubus"`
		} `json:"read"`
	}
	if err := json.Unmarshal(acl, &groups); err != nil {
		t.Fatalf("openwrttest: unauthenticated ACL: %v", err)
	}
	s.anonACL = groups["unauthenticated"].Read.Ubus
	if o.TLS {
		s.srv = httptest.NewTLSServer(s)
	} else {
		s.srv = httptest.NewServer(s)
	}
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/ubus"
	ap, err := netip.ParseAddrPort(strings.TrimPrefix(strings.TrimPrefix(s.srv.URL, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ap
	return s
}

// load parses a UCI file and names its anonymous sections the way libuci
// does (list.c uci_fixup_section): "cfg", the section's 1-based position
// in two hex digits, and a djb hash of its type in four.
func load(name string, b []byte) (*uci.Package, error) {
	pkgs, err := uci.Parse(b)
	if err != nil {
		return nil, err
	}
	p := &uci.Package{Name: name}
	if len(pkgs) > 0 {
		p.Sections = pkgs[0].Sections
	}
	for i, sec := range p.Sections {
		if sec.Anonymous {
			sec.Name = fmt.Sprintf("cfg%02x%04x", i+1, djbhash(sec.Type)%(1<<16))
		}
		sec.Line = 0
		for _, o := range sec.Options {
			o.Spans = nil
		}
	}
	return p, nil
}

func djbhash(s string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(s); i++ {
		h = (h << 5) + h + uint32(s[i])
	}
	return h & 0x7FFFFFFF
}

func (s *Server) now() time.Time {
	if s.o.Now != nil {
		return s.o.Now()
	}
	return time.Now()
}

// Certificate returns the server's certificate with TLS, else nil.
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// Calls returns the calls made, as "object.method" with the config of
// uci calls ("uci.get dhcp"), in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Sessions returns how many sessions are open (not expired).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return len(s.sessions)
}

// Logins returns the successful and the refused logins.
func (s *Server) Logins() (ok, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loginsOK, s.loginsBad
}

// Reloads returns the configurations written, in order.
func (s *Server) Reloads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reloads)
}

// Committed returns a copy of the configuration as written, or nil.
func (s *Server) Committed(name string) *uci.Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if p := s.committed[name]; p != nil {
		return p.Clone()
	}
	return nil
}

// PendingApply reports an apply waiting for its confirmation.
func (s *Server) PendingApply() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.pending != nil
}

// ExpireSessionsAfter makes every session expire after n more calls in
// a session (0: at once), as their idle timeout would.
func (s *Server) ExpireSessionsAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == 0 {
		s.sessions = map[string]*session{}
		return
	}
	s.expireAfter = n
}

// expire drops timed-out sessions and rolls back an unconfirmed apply.
func (s *Server) expire() {
	now := s.now()
	for id, ses := range s.sessions {
		if now.After(ses.expires) {
			delete(s.sessions, id)
		}
	}
	if s.pending != nil && now.After(s.pending.deadline) {
		s.rollback()
	}
}

func (s *Server) rollback() {
	for name, p := range s.pending.before {
		if p == nil {
			delete(s.committed, name)
		} else {
			s.committed[name] = p
		}
		s.reloads = append(s.reloads, name)
	}
	s.pending = nil
}

type rpcError struct {
	code int
	msg  string
}

var (
	errParse   = rpcError{-32700, "Parse error"}
	errMethod  = rpcError{-32601, "Method not found"}
	errParams  = rpcError{-32602, "Invalid parameters"}
	errObject  = rpcError{-32000, "Object not found"}
	errAccess  = rpcError{-32002, "Access denied"}
	nullID     = json.RawMessage("null")
	methodsOf  = map[string][]string{"session": {"access", "login", "destroy"}, "uci": {"get", "set", "delete", "commit", "apply", "confirm", "rollback", "changes", "revert"}, "system": {"board"}}
	readUbus   = map[string][]string{"uci": {"get", "changes"}, "system": {"board"}, "session": {"access", "destroy"}}
	writeUbus  = map[string][]string{"uci": {"set", "delete", "commit", "apply", "confirm", "rollback", "revert"}}
	anonPrefix = "unauthenticated"
)

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func replyError(w http.ResponseWriter, id json.RawMessage, e rpcError) {
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": e.code, "message": e.msg}})
}

func replyResult(w http.ResponseWriter, id json.RawMessage, st int, obj any) {
	res := []any{st}
	if obj != nil {
		res = append(res, obj)
	}
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": id, "result": res})
}

// ServeHTTP is uhttpd's /ubus.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.o.HTTPStatus != 0 {
		w.WriteHeader(s.o.HTTPStatus)
		return
	}
	if r.URL.Path != "/ubus" && r.URL.Path != "/ubus/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "Invalid Request", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxPost+1))
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	if len(body) > maxPost || json.Unmarshal(body, &req) != nil || req.JSONRPC != "2.0" || req.Method == "" {
		replyError(w, nullID, errParse)
		return
	}
	id := req.ID
	if id == nil {
		id = nullID
	}
	if req.Method != "call" {
		replyError(w, id, errMethod)
		return
	}
	var params []json.RawMessage
	var sid, object, method string
	var args map[string]json.RawMessage
	if json.Unmarshal(req.Params, &params) != nil || len(params) != 4 ||
		json.Unmarshal(params[0], &sid) != nil || json.Unmarshal(params[1], &object) != nil ||
		json.Unmarshal(params[2], &method) != nil || json.Unmarshal(params[3], &args) != nil || args == nil {
		replyError(w, id, errParse)
		return
	}
	if _, ok := args["ubus_rpc_session"]; ok {
		replyError(w, id, errParams)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if _, ok := methodsOf[object]; !ok || (object == "system" && s.o.Board == nil) {
		replyError(w, id, errObject)
		return
	}
	ses, ok := s.access(sid, object, method)
	if !ok {
		replyError(w, id, errAccess)
		return
	}
	call := object + "." + method
	if object == "uci" {
		var cfg string
		_ = json.Unmarshal(args["config"], &cfg)
		if cfg != "" {
			call += " " + cfg
		}
	}
	s.calls = append(s.calls, call)
	st, obj := s.dispatch(ses, sid, object, method, args)
	replyResult(w, id, st, obj)
	if ses != nil && s.expireAfter > 0 {
		s.expireAfter--
		if s.expireAfter == 0 {
			s.sessions = map[string]*session{}
		}
	}
}

func grants(patterns []string, group string) bool {
	for _, p := range patterns {
		if p == "*" || p == group {
			return true
		}
	}
	return false
}

// access is uhttpd's uh_ubus_allowed: does the session's ACL allow
// object.method? It returns the session (nil for the zero one).
func (s *Server) access(sid, object, method string) (*session, bool) {
	if sid == ZeroSession {
		return nil, slices.Contains(s.anonACL[object], method)
	}
	ses := s.sessions[sid]
	if ses == nil {
		return nil, false
	}
	allowed := grants(ses.read, anonPrefix) && slices.Contains(s.anonACL[object], method)
	if grants(ses.read, "ubus") && slices.Contains(readUbus[object], method) {
		allowed = allowed || !(object == "session" && method == "destroy" && s.o.DenyDestroy)
	}
	if grants(ses.write, "ubus") && slices.Contains(writeUbus[object], method) {
		allowed = true
	}
	if !allowed {
		return nil, false
	}
	ses.expires = s.now().Add(ses.timeout)
	return ses, true
}

func str(args map[string]json.RawMessage, key string) (string, bool) {
	var v string
	raw, ok := args[key]
	if !ok || json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// ubus statuses (libubus).
const (
	stOK               = 0
	stInvalidArgument  = 2
	stMethodNotFound   = 3
	stNotFound         = 4
	stNoData           = 5
	stPermissionDenied = 6
)

func (s *Server) dispatch(ses *session, sid, object, method string, args map[string]json.RawMessage) (int, any) {
	switch object + "." + method {
	case "session.login":
		return s.login(args)
	case "session.destroy":
		if sid == ZeroSession {
			return stPermissionDenied, nil
		}
		delete(s.sessions, sid)
		return stOK, nil
	case "system.board":
		return stOK, json.RawMessage(s.o.Board)
	}
	if object != "uci" {
		return stMethodNotFound, nil
	}
	if ses == nil {
		// An unauthenticated ACL that grants uci calls still has no
		// uci scope: rpcd refuses them.
		return stPermissionDenied, nil
	}
	if s.o.NoApply && (method == "apply" || method == "confirm" || method == "rollback") {
		return stMethodNotFound, nil
	}
	config, _ := str(args, "config")
	switch method {
	case "get":
		if config == "" {
			return stInvalidArgument, nil
		}
		if !grants(ses.read, "uci-"+config) {
			return stPermissionDenied, nil
		}
		if st, ok := s.o.GetStatus[config]; ok {
			return st, nil
		}
		p := s.view(ses, config)
		if p == nil {
			return stNotFound, nil
		}
		return stOK, json.RawMessage(uci.EncodeValues(p))
	case "set", "delete":
		section, ok := str(args, "section")
		if config == "" || !ok {
			return stInvalidArgument, nil
		}
		if !grants(ses.write, "uci-"+config) {
			return stPermissionDenied, nil
		}
		if s.view(ses, config) == nil {
			return stNotFound, nil
		}
		p := s.stage(ses, config)
		sec := p.Section(section)
		if sec == nil {
			return stNotFound, nil
		}
		if method == "set" {
			return setValues(sec, args["values"])
		}
		return deleteOptions(sec, args)
	case "commit":
		if config == "" {
			return stInvalidArgument, nil
		}
		if !grants(ses.write, "uci-"+config) || s.pending != nil {
			return stPermissionDenied, nil
		}
		if p, ok := ses.staged[config]; ok {
			if !s.o.IgnoreWrites {
				s.committed[config] = p
			}
			delete(ses.staged, config)
			s.reloads = append(s.reloads, config)
		}
		return stOK, nil
	case "apply":
		var rollback bool
		_ = json.Unmarshal(args["rollback"], &rollback)
		var timeout int
		_ = json.Unmarshal(args["timeout"], &timeout)
		if s.pending != nil && rollback {
			return stPermissionDenied, nil
		}
		if len(ses.staged) == 0 {
			return stNoData, nil
		}
		before := map[string]*uci.Package{}
		for name, p := range ses.staged {
			before[name] = s.committed[name]
			if !s.o.IgnoreWrites {
				s.committed[name] = p
			}
			s.reloads = append(s.reloads, name)
		}
		ses.staged = nil
		if rollback {
			s.pending = &pendingApply{before: before, deadline: s.now().Add(time.Duration(timeout) * time.Second)}
		}
		return stOK, nil
	case "confirm":
		if s.pending == nil {
			return stNoData, nil
		}
		s.pending = nil
		return stOK, nil
	case "rollback":
		if s.pending == nil {
			return stNoData, nil
		}
		s.rollback()
		return stOK, nil
	}
	return stMethodNotFound, nil
}

func (s *Server) login(args map[string]json.RawMessage) (int, any) {
	user, ok1 := str(args, "username")
	pass, ok2 := str(args, "password")
	if !ok1 || !ok2 {
		return stInvalidArgument, nil
	}
	timeout := defaultTimeout
	var secs int
	if raw, ok := args["timeout"]; ok && json.Unmarshal(raw, &secs) == nil && secs > 0 {
		timeout = time.Duration(secs) * time.Second
	}
	for _, l := range s.logins {
		if l.user != user || !l.hasPassword {
			continue
		}
		sys, isRef := strings.CutPrefix(l.password, "$p$")
		want, known := s.o.SystemPasswords[sys]
		if !isRef || !known || want != pass {
			continue
		}
		var b [16]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		s.sessions[id] = &session{id: id, user: user, timeout: timeout, expires: s.now().Add(timeout), read: l.read, write: l.write, staged: map[string]*uci.Package{}}
		s.loginsOK++
		return stOK, map[string]any{"ubus_rpc_session": id, "timeout": int(timeout / time.Second), "expires": int(timeout / time.Second),
			"acls": map[string]any{}, "data": map[string]any{"username": user}}
	}
	s.loginsBad++
	return stPermissionDenied, nil
}

// view is what a session's uci get sees: its staged copy, or what is
// written.
func (s *Server) view(ses *session, config string) *uci.Package {
	if ses != nil {
		if p, ok := ses.staged[config]; ok {
			return p
		}
	}
	return s.committed[config]
}

func (s *Server) stage(ses *session, config string) *uci.Package {
	if p, ok := ses.staged[config]; ok {
		return p
	}
	if ses.staged == nil {
		ses.staged = map[string]*uci.Package{}
	}
	p := s.committed[config].Clone()
	ses.staged[config] = p
	return p
}

// setValues is rpcd's rpc_uci_merge_set for each value.
func setValues(sec *uci.Section, raw json.RawMessage) (int, any) {
	var values map[string]json.RawMessage
	if json.Unmarshal(raw, &values) != nil || values == nil {
		return stInvalidArgument, nil
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if !uci.ValidName(name) {
			continue
		}
		var one string
		var list []string
		switch {
		case json.Unmarshal(values[name], &one) == nil:
			if one == "" {
				continue
			}
			setOption(sec, &uci.Option{Name: name, Values: []string{one}})
		case json.Unmarshal(values[name], &list) == nil:
			removeOption(sec, name)
			if len(list) > 0 {
				sec.Options = append(sec.Options, &uci.Option{Name: name, List: true, Values: list})
			}
		}
	}
	return stOK, nil
}

func setOption(sec *uci.Section, o *uci.Option) {
	for i, x := range sec.Options {
		if x.Name == o.Name {
			sec.Options[i] = o
			return
		}
	}
	sec.Options = append(sec.Options, o)
}

func removeOption(sec *uci.Section, name string) {
	sec.Options = slices.DeleteFunc(sec.Options, func(o *uci.Option) bool { return o.Name == name })
}

func deleteOptions(sec *uci.Section, args map[string]json.RawMessage) (int, any) {
	if name, ok := str(args, "option"); ok {
		removeOption(sec, name)
		return stOK, nil
	}
	var names []string
	if json.Unmarshal(args["options"], &names) == nil && names != nil {
		for _, n := range names {
			removeOption(sec, n)
		}
		return stOK, nil
	}
	// Deleting whole sections is not needed by the adapter.
	return stInvalidArgument, nil
}
