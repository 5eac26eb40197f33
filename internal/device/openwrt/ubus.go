// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// Status is a ubus status, result[0] of a call (libubus ubusmsg.h).
type Status int

// ubus statuses.
const (
	StatusOK               Status = 0
	StatusInvalidCommand   Status = 1
	StatusInvalidArgument  Status = 2
	StatusMethodNotFound   Status = 3
	StatusNotFound         Status = 4
	StatusNoData           Status = 5
	StatusPermissionDenied Status = 6
	StatusTimeout          Status = 7
	StatusNotSupported     Status = 8
	StatusUnknownError     Status = 9
	StatusConnectionFailed Status = 10
	StatusNoMemory         Status = 11
	StatusParseError       Status = 12
	StatusSystemError      Status = 13
)

var statusText = []string{"success", "invalid command", "invalid argument", "method not found", "not found",
	"no response", "permission denied", "request timed out", "operation not supported", "unknown error",
	"connection failed", "out of memory", "parsing message data failed", "system error"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusText) {
		return statusText[s]
	}
	return fmt.Sprintf("status %d", int(s))
}

// CallError is a call that ubus answered with a status other than 0.
type CallError struct {
	Object, Method string
	Status         Status
}

func (e *CallError) Error() string {
	return fmt.Sprintf("openwrt: ubus %s %s: %s (%d)", e.Object, e.Method, e.Status, int(e.Status))
}

// JSON-RPC errors uhttpd answers before a call reaches ubus (uhttpd
// ubus.c json_errors).
const (
	codeObjectNotFound  = -32000
	codeSessionNotFound = -32001
	codeAccessDenied    = -32002
	codeMethodNotFound  = -32601
)

// RPCError is a JSON-RPC error object: uhttpd refused the request.
type RPCError struct {
	Object, Method string
	Code           int
	Message        string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("openwrt: ubus %s %s: %q (JSON-RPC %d)", e.Object, e.Method, e.Message, e.Code)
}

// denied reports an error that says the account may not do this: a
// ubus permission-denied status or uhttpd's "Access denied".
func denied(err error) bool {
	var ce *CallError
	var re *RPCError
	return (errors.As(err, &ce) && ce.Status == StatusPermissionDenied) || (errors.As(err, &re) && re.Code == codeAccessDenied)
}

// absent reports an error that says the thing does not exist here: a
// configuration or method ubus does not know, an object not registered.
func absent(err error) bool {
	var ce *CallError
	var re *RPCError
	return (errors.As(err, &ce) && (ce.Status == StatusNotFound || ce.Status == StatusMethodNotFound)) ||
		(errors.As(err, &re) && (re.Code == codeObjectNotFound || re.Code == codeMethodNotFound))
}

// Client limits and timings.
const (
	// zeroSID is the session of unauthenticated callers: rpcd's
	// unauthenticated ACL lets it call session login and nothing else.
	zeroSID = "00000000000000000000000000000000"
	// sessionTimeout asks rpcd to drop our session after this long idle,
	// should session destroy be refused: a pull takes seconds.
	sessionTimeout = 120
	// maxReply bounds one reply: the largest is a uci get of a whole
	// configuration.
	maxReply = uci.MaxValuesSize + 64<<10
	// logoutTimeout bounds the logout sent after the caller's context
	// ended, so a cancelled pull still ends its session.
	logoutTimeout = 3 * time.Second
)

// rpcClient speaks JSON-RPC to uhttpd's /ubus for one login.
type rpcClient struct {
	do    func(*http.Request) (*http.Response, error)
	url   string
	host  string
	creds device.Credentials
	sid   string
	id    int
	// logins counts logins, for the once-only re-login.
	logins int
}

// defaultPort is uhttpd's.
func defaultPort(t device.Target) uint16 {
	switch {
	case t.Port != 0:
		return t.Port
	case t.TLS:
		return 443
	}
	return 80
}

// newClient returns a client for t. With t.TLS and no tlsCfg, the
// router's certificate is not verified: uhttpd serves a self-signed one
// (px5g) that no root vouches for. Pass a pinned tlsCfg to verify.
func newClient(d *netx.Dialer, t device.Target, tlsCfg *tls.Config, c device.Credentials) (*rpcClient, error) {
	if !t.Addr.IsValid() {
		return nil, fmt.Errorf("openwrt: no router address")
	}
	if err := d.Check(t.Addr); err != nil {
		return nil, err
	}
	scheme := "http"
	opts := netx.HTTPOptions{MaxRedirects: -1, MaxBody: maxReply}
	if t.TLS {
		scheme = "https"
		if tlsCfg == nil {
			tlsCfg = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // self-signed router certificate, see above
		}
		opts.TLS = tlsCfg
	}
	host := netip.AddrPortFrom(t.Addr, defaultPort(t)).String()
	hc := d.HTTPClient(opts)
	return &rpcClient{do: hc.Do, url: scheme + "://" + host + "/ubus", host: host, creds: c}, nil
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int    `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// rawCall sends one call with sid and returns ubus's status and object.
func (c *rpcClient) rawCall(ctx context.Context, sid, object, method string, args any) (Status, json.RawMessage, error) {
	if args == nil {
		args = struct{}{}
	}
	c.id++
	body, err := json.Marshal(rpcRequest{JSONRPC: "2.0", ID: c.id, Method: "call", Params: []any{sid, object, method, args}})
	if err != nil {
		return 0, nil, fmt.Errorf("openwrt: encoding %s %s: %w", object, method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("openwrt: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("openwrt: POST /ubus (%s %s): %w", object, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("openwrt: reading the reply to %s %s: %w", object, method, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return 0, nil, fmt.Errorf("%w: HTTP %d to POST /ubus", device.ErrBusy, resp.StatusCode)
	case http.StatusUnauthorized, http.StatusForbidden:
		return 0, nil, fmt.Errorf("%w: HTTP %d to POST /ubus (something in front of ubus wants its own login)", device.ErrAuth, resp.StatusCode)
	default:
		return 0, nil, fmt.Errorf("%w: HTTP %d to POST /ubus: no ubus JSON-RPC here", device.ErrUnsupported, resp.StatusCode)
	}
	st, obj, rpcErr, err := decodeReply(b, c.id)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: %v", device.ErrUnsupported, object, method, err)
	}
	if rpcErr != nil {
		rpcErr.Object, rpcErr.Method = object, method
		return 0, nil, rpcErr
	}
	return st, obj, nil
}

// maxMessage bounds the text of a JSON-RPC error kept in an error.
const maxMessage = 120

// decodeReply reads uhttpd's reply to a call on the legacy /ubus path:
// {"jsonrpc":"2.0","id":N,"result":[status]} or [status, {object}], or
// {"jsonrpc":"2.0","id":N,"error":{"code":C,"message":M}}.
func decodeReply(b []byte, id int) (Status, json.RawMessage, *RPCError, error) {
	var r struct {
		JSONRPC string            `json:"jsonrpc"`
		ID      json.RawMessage   `json:"id"`
		Result  []json.RawMessage `json:"result"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, nil, nil, fmt.Errorf("reply is not JSON-RPC: %v", err)
	}
	if r.JSONRPC != "2.0" {
		return 0, nil, nil, fmt.Errorf("reply is not JSON-RPC 2.0")
	}
	if string(r.ID) != fmt.Sprint(id) {
		return 0, nil, nil, fmt.Errorf("reply answers request id %.20s, not %d", r.ID, id)
	}
	if r.Error != nil {
		msg := r.Error.Message
		if len(msg) > maxMessage {
			msg = msg[:maxMessage]
		}
		return 0, nil, &RPCError{Code: r.Error.Code, Message: msg}, nil
	}
	if len(r.Result) < 1 || len(r.Result) > 2 {
		return 0, nil, nil, fmt.Errorf("result has %d elements, not a status and at most one object", len(r.Result))
	}
	var st int
	if err := json.Unmarshal(r.Result[0], &st); err != nil || st < 0 || st > 255 {
		return 0, nil, nil, fmt.Errorf("result[0] is not a ubus status")
	}
	if len(r.Result) == 1 {
		return Status(st), nil, nil, nil
	}
	obj := bytes.TrimSpace(r.Result[1])
	if len(obj) == 0 || obj[0] != '{' {
		return 0, nil, nil, fmt.Errorf("result[1] is not an object")
	}
	return Status(st), obj, nil, nil
}

// login opens a session with the owner's credentials.
func (c *rpcClient) login(ctx context.Context) error {
	c.logins++
	c.sid = ""
	args := map[string]any{"username": c.creds.User, "password": c.creds.Password.Reveal(), "timeout": sessionTimeout}
	st, obj, err := c.rawCall(ctx, zeroSID, "session", "login", args)
	var re *RPCError
	switch {
	case errors.As(err, &re) && (re.Code == codeAccessDenied || re.Code == codeObjectNotFound):
		return fmt.Errorf("%w: the router does not offer session login over /ubus (%v)", device.ErrUnsupported, err)
	case err != nil:
		return err
	case st == StatusPermissionDenied:
		return fmt.Errorf("%w: rpcd refused the user name or password", device.ErrAuth)
	case st != StatusOK:
		return &CallError{Object: "session", Method: "login", Status: st}
	}
	var s struct {
		SID string `json:"ubus_rpc_session"`
	}
	if err := json.Unmarshal(obj, &s); err != nil || !validSID(s.SID) {
		return fmt.Errorf("%w: session login answered without a session id", device.ErrUnsupported)
	}
	c.sid = s.SID
	return nil
}

// validSID: rpcd's session ids are 32 hex digits (rpc_validate_sid).
func validSID(s string) bool {
	if len(s) != 32 || s == zeroSID {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// call runs object.method in the session, logging in first if needed.
// uhttpd answers "Access denied" both to a session it no longer knows
// (expired after its idle timeout, or destroyed) and to a live one whose
// ACL lacks object.method. Either way the call is retried once after a
// new login, and the old session is destroyed first so that a live one
// is not left behind.
func (c *rpcClient) call(ctx context.Context, object, method string, args any) (json.RawMessage, error) {
	if c.sid == "" {
		if err := c.login(ctx); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		st, obj, err := c.rawCall(ctx, c.sid, object, method, args)
		var re *RPCError
		if errors.As(err, &re) && (re.Code == codeAccessDenied || re.Code == codeSessionNotFound) && attempt == 0 {
			_ = c.logout(ctx) // refused for an expired session; that is the point
			if lerr := c.login(ctx); lerr != nil {
				return nil, fmt.Errorf("openwrt: logging in again after %v: %w", err, lerr)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if st != StatusOK {
			return nil, &CallError{Object: object, Method: method, Status: st}
		}
		return obj, nil
	}
}

// logout destroys the session. rpcd ACLs may not grant session destroy
// over HTTP; the session then ends after sessionTimeout idle.
func (c *rpcClient) logout(ctx context.Context) error {
	if c.sid == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	st, _, err := c.rawCall(ctx, c.sid, "session", "destroy", nil)
	c.sid = ""
	switch {
	case denied(err):
		return fmt.Errorf("openwrt: the router does not let this account end its session; it expires after %d s idle", sessionTimeout)
	case err != nil:
		return err
	case st != StatusOK && st != StatusNotFound:
		return &CallError{Object: "session", Method: "destroy", Status: st}
	}
	return nil
}

// uciGet reads one configuration.
func (c *rpcClient) uciGet(ctx context.Context, config string) (*uci.Package, error) {
	obj, err := c.call(ctx, "uci", "get", map[string]string{"config": config})
	if err != nil {
		return nil, err
	}
	p, err := uci.DecodeValues(config, obj)
	if err != nil {
		return nil, fmt.Errorf("openwrt: uci get %s: %w", config, err)
	}
	return p, nil
}
